import type { DueDelivery } from "../store/delivery_queue.ts";
import type { WebhookFlow } from "./pool.ts";

/**
 * How the API tells the delivery engine about work it just committed, so the
 * engine can act at once instead of waiting for its next look at the store.
 * Every call is a hint: the store stays the truth, and an engine that missed
 * one still finds the work on its next refill. (Deliveries claimed at ingest
 * reach the engine through the intake instead: `ingest/intake.ts`.)
 */
export interface DeliveryTrigger {
  /** Deliveries made due by the API (a manual retry). */
  due(deliveries: readonly DueDelivery[]): void;
  /** Many deliveries may have become due (a replay, a resumed webhook): look in the store now. */
  refill(): void;
  /** A webhook was created, changed or deleted through this daemon. */
  webhookChanged(id: string): void;
  /** The webhook's breaker state and effective concurrency in this daemon, for the API to show. */
  flowOf(webhookId: string): WebhookFlow;
}
