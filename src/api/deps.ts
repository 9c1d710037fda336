import type { Clock } from "../clock.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import type { MetricsRegistry } from "../ops/metrics_registry.ts";
import type { DeliveryTrigger } from "../delivery/trigger.ts";
import type { Intake } from "../ingest/intake.ts";
import type { Store } from "../store/client.ts";
import type { Authenticator } from "./auth.ts";

/** What the API's handlers use; tests build it with a temp store and a fake clock. */
export interface ApiDeps {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly auth: Authenticator;
  readonly log: Logger;
  /** Accepts events: the one path from a validated request to stored, claimed deliveries. */
  readonly intake: Intake;
  /** Absent when no delivery engine runs (API-only tests). */
  readonly delivery?: DeliveryTrigger;
  /** What `/metrics` renders; the API adds its own families to it. */
  readonly metrics: MetricsRegistry;
}
