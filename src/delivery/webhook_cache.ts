/**
 * The delivery engine's view of webhooks and credentials, kept in memory:
 * every attempt needs its webhook's URL, secrets, headers and policy, and a store read per
 * attempt would be waste. Changes made through this daemon refresh it at
 * once; changes by other daemons sharing the database arrive with the
 * periodic refresh.
 */
import type { Clock, TimerHandle } from "../clock.ts";
import type { Logger } from "../ops/log.ts";
import type { Store } from "../store/store.ts";
import type { CredentialRecord } from "../store/credentials.ts";
import type { WebhookRecord } from "../store/webhooks.ts";

/** How far back a refresh looks, so clock skew between daemons cannot hide a change. */
const OVERLAP_MS = 5_000;

export class WebhookCache {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #webhooks = new Map<string, WebhookRecord>();
  readonly #credentials = new Map<string, CredentialRecord>();
  #seenUntil = 0;
  #credentialsSeenUntil = 0;
  #timer: TimerHandle | undefined;
  #refreshing: Promise<void> | undefined;
  #again = false;

  constructor(options: { store: Store; clock: Clock; log: Logger; refreshIntervalMs: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#intervalMs = options.refreshIntervalMs;
  }

  get(id: string): WebhookRecord | undefined {
    return this.#webhooks.get(id);
  }

  credential(id: string): CredentialRecord | undefined {
    return this.#credentials.get(id);
  }

  /** Loads every webhook, then keeps refreshing until `stop()`. */
  async start(): Promise<void> {
    await this.refresh();
    this.#arm();
  }

  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Reads webhooks and credentials changed since the last look; concurrent calls share one read. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        const [webhooks, credentials] = await Promise.all([
          this.#store.read("webhooksChangedSince", {
            since: Math.max(0, this.#seenUntil - OVERLAP_MS),
          }),
          this.#store.read("credentialsChangedSince", {
            since: Math.max(0, this.#credentialsSeenUntil - OVERLAP_MS),
          }),
        ]);
        for (const { webhook, deleted } of webhooks) {
          if (deleted) this.#webhooks.delete(webhook.id);
          else this.#webhooks.set(webhook.id, webhook);
          this.#seenUntil = Math.max(this.#seenUntil, webhook.updatedAt);
        }
        for (const { credential, deleted } of credentials) {
          if (deleted) this.#credentials.delete(credential.id);
          else this.#credentials.set(credential.id, credential);
          this.#credentialsSeenUntil = Math.max(this.#credentialsSeenUntil, credential.updatedAt);
        }
      } while (this.#again);
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  #arm(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.refresh().catch((error) => this.#log.warn("webhook refresh failed", { error }))
        .finally(() => {
          if (this.#timer !== undefined) this.#arm();
        });
    }, this.#intervalMs);
  }
}
