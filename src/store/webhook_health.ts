/**
 * Endpoint health: what the auto-disable rules count per webhook, and the
 * disabling itself. It runs inside the transaction that records attempts, so
 * every daemon sharing the database counts into the same row and a rule
 * fires exactly once, on the attempt that crosses it.
 *
 * The counts (`webhook_health`): since when the webhook has failed without a
 * success, and how many deliveries in a row ended without one. A success
 * resets both; so does enabling the webhook again (a fresh start). A webhook
 * with no row is healthy: successes on a healthy webhook write nothing.
 *
 * Disabling holds the webhook's pending deliveries (nothing accepted is
 * lost) and names the rule and the last problem in `disabled_reason`.
 */
import { type Executor, firstRow, intOrNull } from "./executor.ts";
import { holdPendingDeliveries } from "./holds.ts";

/** The rules a webhook's policy sets; null switches a rule off. */
export interface AutoDisableRules {
  /** Disable after failing without a single success for this long, ms. */
  readonly failingForMs: number | null;
  /** Disable after this many deliveries in a row ended without success (failed or dead). */
  readonly exhaustedInRow: number | null;
}

/** What one attempt tells about its webhook's health, with the rules of its policy. */
export interface HealthSignal {
  readonly webhookId: string;
  /**
   * `success`: the receiver took it; `failure`: it did not and the delivery
   * will retry; `ended`: it did not and the delivery ended (failed or dead).
   */
  readonly kind: "success" | "failure" | "ended";
  /** When the attempt started, ms since the epoch. */
  readonly at: number;
  /** What went wrong, for `disabled_reason` ("HTTP 500", "timeout"); null for a success. */
  readonly problem: string | null;
  /** The attempt's status when the policy disables at once on it (`disable_on_status`). */
  readonly disablingStatus: number | null;
  readonly rules: AutoDisableRules;
}

/** Which auto-disable rule fired. */
export type AutoDisableRule = "status" | "failing_for" | "exhausted_in_row";

/** A webhook an auto-disable rule just disabled. */
export interface AutoDisabled {
  readonly webhookId: string;
  readonly rule: AutoDisableRule;
  /** The text stored as `disabled_reason`. */
  readonly reason: string;
  readonly disabledAt: number;
  /** The last problem seen: "HTTP 410", "timeout", … */
  readonly lastProblem: string;
  /** Since when it has failed without a success; null for the status rule on a fresh failure. */
  readonly failingSince: number | null;
  /** Deliveries in a row that ended without success. */
  readonly exhaustedInRow: number;
}

/** What a transaction's signals changed. */
export interface HealthChanges {
  /** Webhooks an auto-disable rule disabled, each once. */
  readonly disabled: AutoDisabled[];
  /**
   * Webhooks that succeeded again after at least one of their deliveries had
   * ended without success (`hookd.webhook.recovered`).
   */
  readonly recovered: string[];
}

/**
 * Applies the signals of attempts recorded in one transaction, in order, and
 * disables the webhooks whose rules fire. Per webhook it writes at most three
 * statements, however many of its attempts the transaction holds: a reset
 * (two when the webhook recovers) when one of them succeeded, and one upsert
 * for the failures after the last success.
 */
export async function applyHealthSignals(
  db: Executor,
  signals: readonly HealthSignal[],
  now: number,
): Promise<HealthChanges> {
  const byWebhook = new Map<string, HealthSignal[]>();
  for (const signal of signals) {
    let list = byWebhook.get(signal.webhookId);
    if (!list) byWebhook.set(signal.webhookId, list = []);
    list.push(signal);
  }
  const disabled: AutoDisabled[] = [];
  const recovered: string[] = [];
  for (const [webhookId, list] of byWebhook) {
    const lastSuccess = list.findLastIndex((s) => s.kind === "success");
    if (lastSuccess >= 0) {
      // Only a webhook that was failing has anything to reset; one that had lost
      // deliveries has recovered. Two statements, so that neither reads first.
      const reset = `UPDATE webhook_health SET failing_since = NULL, exhausted_in_row = 0
        WHERE webhook_id = ?`;
      const lost = await db.execute({
        sql: `${reset} AND exhausted_in_row > 0`,
        args: [webhookId],
      });
      if (lost.rowsAffected > 0) recovered.push(webhookId);
      else await db.execute({ sql: `${reset} AND failing_since IS NOT NULL`, args: [webhookId] });
    }
    const failures = list.slice(lastSuccess + 1);
    if (failures.length === 0) continue;
    const last = failures.at(-1)!;
    await db.execute({
      sql: `INSERT INTO webhook_health (webhook_id, failing_since, exhausted_in_row,
          last_attempt_at, last_error)
        VALUES (?1, ?2, ?3, ?4, ?5)
        ON CONFLICT (webhook_id) DO UPDATE SET
          failing_since = COALESCE(failing_since, excluded.failing_since),
          exhausted_in_row = exhausted_in_row + excluded.exhausted_in_row,
          last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error`,
      args: [
        webhookId,
        failures[0]!.at,
        failures.filter((s) => s.kind === "ended").length,
        last.at,
        last.problem,
      ],
    });
    const fired = await firedRule(db, webhookId, failures, now);
    if (fired && (await disable(db, webhookId, fired.reason, now))) {
      disabled.push({ webhookId, disabledAt: now, lastProblem: last.problem ?? "", ...fired });
    }
  }
  return { disabled, recovered };
}

/** The first rule the webhook's counts now cross, if any; the status rule first. */
async function firedRule(
  db: Executor,
  webhookId: string,
  failures: readonly HealthSignal[],
  now: number,
): Promise<Omit<AutoDisabled, "webhookId" | "disabledAt" | "lastProblem"> | null> {
  const { rules } = failures.at(-1)!;
  const byStatus = failures.findLast((s) => s.disablingStatus !== null);
  if (byStatus === undefined && rules.failingForMs === null && rules.exhaustedInRow === null) {
    return null;
  }
  const row = await firstRow(db, {
    sql: "SELECT failing_since, exhausted_in_row FROM webhook_health WHERE webhook_id = ?",
    args: [webhookId],
  });
  const failingSince = row ? intOrNull(row, "failing_since") : null;
  const exhaustedInRow = row ? intOrNull(row, "exhausted_in_row") ?? 0 : 0;
  const counts = { failingSince, exhaustedInRow };
  if (byStatus !== undefined) {
    return {
      rule: "status",
      reason: `auto-disabled: the receiver answered HTTP ${byStatus.disablingStatus}, ` +
        "a status the policy disables on (disable_on_status)",
      ...counts,
    };
  }
  const lastProblem = failures.at(-1)!.problem;
  if (
    rules.failingForMs !== null && failingSince !== null && now - failingSince >= rules.failingForMs
  ) {
    return {
      rule: "failing_for",
      reason: `auto-disabled: failing without a success since ${
        new Date(failingSince).toISOString()
      } (disable_after_failing_for); last: ${lastProblem}`,
      ...counts,
    };
  }
  if (rules.exhaustedInRow !== null && exhaustedInRow >= rules.exhaustedInRow) {
    return {
      rule: "exhausted_in_row",
      reason: `auto-disabled: ${exhaustedInRow} deliveries in a row ended without success ` +
        `(disable_after_exhausted); last: ${lastProblem}`,
      ...counts,
    };
  }
  return null;
}

/** Disables an enabled webhook and holds its pending deliveries; false if it was not enabled. */
async function disable(db: Executor, webhookId: string, reason: string, now: number) {
  const result = await db.execute({
    sql: `UPDATE webhooks SET state = 'disabled', disabled_reason = ?, disabled_at = ?,
        updated_at = ?
      WHERE id = ? AND state = 'enabled' AND deleted_at IS NULL`,
    args: [reason, now, now, webhookId],
  });
  if (result.rowsAffected === 0) return false;
  await holdPendingDeliveries(db, webhookId, now);
  return true;
}

/** Forgets a webhook's counts: it was enabled again and starts afresh. */
export async function resetHealth(db: Executor, webhookId: string): Promise<void> {
  await db.execute({ sql: "DELETE FROM webhook_health WHERE webhook_id = ?", args: [webhookId] });
}
