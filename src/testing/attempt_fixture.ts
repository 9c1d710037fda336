/** A complete attempt record for tests that write to the store directly: a 200 with no body. */
import type { AttemptRecord } from "../store/attempts.ts";

export function attemptFixture(
  id: string,
  deliveryId: string,
  startedAt: number,
  extra: Partial<AttemptRecord> = {},
): AttemptRecord {
  return {
    id,
    deliveryId,
    number: 1,
    trigger: "scheduled",
    startedAt,
    durationMs: 3,
    requestHeaders: {},
    responseStatus: 200,
    responseHeaders: {},
    responseBody: "",
    errorKind: null,
    errorMessage: null,
    ...extra,
  };
}
