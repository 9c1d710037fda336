import type { Clock } from "../clock.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import type { Metric } from "../ops/metrics.ts";
import type { Lease } from "../store/deliveries.ts";
import type { DueDelivery } from "../store/delivery_queue.ts";
import type { EventRecord } from "../store/events.ts";
import type { DeliveryRecord } from "../store/deliveries.ts";
import type { Store } from "../store/store.ts";
import type { Authenticator } from "./auth.ts";

/**
 * How the API tells the delivery engine about work it just committed, so the
 * engine can act at once instead of waiting for its next look at the store.
 * Every call is a hint: the store stays the truth, and an engine that missed
 * one still finds the work on its next refill.
 */
export interface DeliveryTrigger {
  /** A lease under which ingest claims the deliveries it creates; undefined: leave them pending. */
  ingestLease(): Lease | undefined;
  /** Deliveries that ingest created and claimed under that lease: send them now. */
  claimed(event: EventRecord, deliveries: readonly DeliveryRecord[], lease: Lease): void;
  /** Deliveries made due by the API (a manual retry). */
  due(deliveries: readonly DueDelivery[]): void;
  /** Many deliveries may have become due (a replay, a resumed webhook): look in the store now. */
  refill(): void;
  /** A webhook was created, changed or deleted through this daemon. */
  webhookChanged(id: string): void;
}

/** What the API's handlers use; tests build it with a temp store and a fake clock. */
export interface ApiDeps {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly auth: Authenticator;
  readonly log: Logger;
  /** Absent when no delivery engine runs (API-only tests). */
  readonly delivery?: DeliveryTrigger;
  /** The daemon's counters and gauges for `/metrics`. */
  readonly metrics?: () => readonly Metric[];
}
