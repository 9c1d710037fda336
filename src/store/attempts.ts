/** Attempt rows: one per try of a delivery, kept for inspection. */
import type { Row } from "@libsql/client";
import { type Executor, int, intOrNull, statementChunks, text, textOrNull } from "./executor.ts";

export type AttemptTrigger = "scheduled" | "manual";

export interface AttemptRecord {
  /** Unique per try (seed 002's attempt id). */
  readonly id: string;
  readonly deliveryId: string;
  /** 1-based, over the delivery's whole life (replays continue the count). */
  readonly number: number;
  readonly trigger: AttemptTrigger;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly requestHeaders: Record<string, string>;
  readonly responseStatus: number | null;
  readonly responseHeaders: Record<string, string> | null;
  /** A capped excerpt of the response body. */
  readonly responseBody: string | null;
  /** null when the attempt succeeded. */
  readonly errorKind: string | null;
  readonly errorMessage: string | null;
}

const COLUMNS = `id, delivery_id, number, trigger, started_at, duration_ms, request_headers,
  response_status, response_headers, response_body, error_kind, error_message`;

function attemptFromRow(row: Row): AttemptRecord {
  const responseHeaders = textOrNull(row, "response_headers");
  return {
    id: text(row, "id"),
    deliveryId: text(row, "delivery_id"),
    number: int(row, "number"),
    trigger: text(row, "trigger") as AttemptTrigger,
    startedAt: int(row, "started_at"),
    durationMs: int(row, "duration_ms"),
    requestHeaders: JSON.parse(text(row, "request_headers")),
    responseStatus: intOrNull(row, "response_status"),
    responseHeaders: responseHeaders === null ? null : JSON.parse(responseHeaders),
    responseBody: textOrNull(row, "response_body"),
    errorKind: textOrNull(row, "error_kind"),
    errorMessage: textOrNull(row, "error_message"),
  };
}

/** Inserts attempts with multi-row statements (12 values per row). */
export async function insertAttempts(
  db: Executor,
  attempts: readonly AttemptRecord[],
): Promise<void> {
  for (const chunk of statementChunks(attempts, Math.floor(32_000 / 12))) {
    await db.execute({
      sql: `INSERT INTO attempts (${COLUMNS}) VALUES ${
        chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")
      }`,
      args: chunk.flatMap((attempt) => [
        attempt.id,
        attempt.deliveryId,
        attempt.number,
        attempt.trigger,
        attempt.startedAt,
        attempt.durationMs,
        JSON.stringify(attempt.requestHeaders),
        attempt.responseStatus,
        attempt.responseHeaders === null ? null : JSON.stringify(attempt.responseHeaders),
        attempt.responseBody,
        attempt.errorKind,
        attempt.errorMessage,
      ]),
    });
  }
}

export async function attemptsOf(db: Executor, deliveryId: string): Promise<AttemptRecord[]> {
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM attempts WHERE delivery_id = ? ORDER BY number, started_at`,
    args: [deliveryId],
  });
  return result.rows.map(attemptFromRow);
}

/**
 * The attempts of several deliveries in one query, oldest first per
 * delivery; a delivery without attempts is absent from the map.
 */
export async function attemptsOfMany(
  db: Executor,
  deliveryIds: readonly string[],
): Promise<Map<string, AttemptRecord[]>> {
  const byDelivery = new Map<string, AttemptRecord[]>();
  for (const chunk of statementChunks(deliveryIds, 512)) {
    const result = await db.execute({
      sql: `SELECT ${COLUMNS} FROM attempts WHERE delivery_id IN (${
        chunk.map(() => "?").join(", ")
      })
        ORDER BY delivery_id, number, started_at`,
      args: [...chunk],
    });
    for (const attempt of result.rows.map(attemptFromRow)) {
      let list = byDelivery.get(attempt.deliveryId);
      if (!list) byDelivery.set(attempt.deliveryId, list = []);
      list.push(attempt);
    }
  }
  return byDelivery;
}
