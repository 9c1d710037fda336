import type { Clock } from "../clock.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import type { Store } from "../store/store.ts";
import type { Authenticator } from "./auth.ts";

/** What the API's handlers use; tests build it with a temp store and a fake clock. */
export interface ApiDeps {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly auth: Authenticator;
  readonly log: Logger;
}
