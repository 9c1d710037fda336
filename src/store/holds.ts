/**
 * Holding and releasing a webhook's deliveries. A paused or disabled webhook
 * (by an operator or an auto-disable rule) holds what is pending instead of
 * dropping it; `held_at` says since when, so that releasing can give the
 * held time back to the schedule.
 */
import type { Executor } from "./executor.ts";

/**
 * Holds a webhook's waiting deliveries (it was paused or disabled). Attempts
 * already in flight finish; their result is recorded as usual.
 */
export async function holdPendingDeliveries(
  db: Executor,
  webhookId: string,
  now: number,
): Promise<void> {
  await db.execute({
    sql: `UPDATE deliveries SET state = 'held', next_attempt_at = NULL, held_at = ?, updated_at = ?
      WHERE webhook_id = ? AND state = 'pending'`,
    args: [now, now, webhookId],
  });
}

/**
 * Releases held deliveries, due now. The time they were held is given back
 * to their schedule (`schedule_started_at` moves forward by it), so a hold
 * never consumes a policy's `max_age`.
 */
export async function releaseHeldDeliveries(
  db: Executor,
  webhookId: string,
  now: number,
): Promise<void> {
  await db.execute({
    sql: `UPDATE deliveries SET state = 'pending', next_attempt_at = ?1,
        schedule_started_at = schedule_started_at + MAX(0, ?1 - COALESCE(held_at, ?1)),
        held_at = NULL, updated_at = ?1
      WHERE webhook_id = ?2 AND state = 'held'`,
    args: [now, webhookId],
  });
}
