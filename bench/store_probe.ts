/**
 * hookd's store without HTTP: `concurrency` callers each awaiting
 * `Store.write("ingest", one event)` in a loop, on the daemon's own Store
 * class, worker and default commit settings. Set between the libSQL reference
 * and the HTTP figures, it tells whether time goes to the store pipeline
 * (group commit, worker messages, one `execute` per row) or to the API.
 */
import { loadConfig } from "../src/config/load_config.ts";
import { uuidv7 } from "../src/ids.ts";
import type { NewEvent } from "../src/store/events.ts";
import { Store } from "../src/store/client.ts";
import { webhookFixture } from "../src/testing/webhook_fixture.ts";

export interface StoreProbeResult {
  readonly concurrency: number;
  readonly seconds: number;
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly transactions: number;
  readonly writesPerTransaction: number;
}

export async function storeProbe(
  url: string,
  options: { concurrency: number; warmupMs: number; measureMs: number },
): Promise<StoreProbeResult> {
  const defaults = loadConfig({ env: {} }).store;
  const store = await Store.open({ ...defaults, url });
  try {
    const now = Date.now();
    await store.write("insertWebhook", {
      webhook: webhookFixture(uuidv7(now), ["*"], now, { url: "http://127.0.0.1:9/x" }),
    });
    const start = performance.now();
    const measureFrom = start + options.warmupMs;
    const end = measureFrom + options.measureMs;
    let events = 0;
    let before: { transactions: number; writes: number } | undefined;
    let n = 0;
    const event = (i: number): NewEvent => ({
      tenantId: null,
      type: "order.created",
      payload: `{"order_id":${i},"amount":4200,"currency":"EUR"}`,
      fingerprint: "0".repeat(43) + "=",
    });
    const loop = async () => {
      while (performance.now() < end) {
        await store.write("ingest", { events: [event(n++)], now: Date.now() });
        const at = performance.now();
        if (at < measureFrom) continue;
        before ??= store.stats();
        if (at <= end) events++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, loop));
    const after = store.stats();
    const transactions = after.transactions - (before?.transactions ?? 0);
    const seconds = options.measureMs / 1000;
    return {
      concurrency: options.concurrency,
      seconds,
      events,
      eventsPerSecond: events / seconds,
      transactions,
      writesPerTransaction: (after.writes - (before?.writes ?? 0)) / Math.max(1, transactions),
    };
  } finally {
    await store.close();
  }
}
