/**
 * What a claimed delivery costs the store. Single-event ingest requests each
 * hand one claimed delivery to the dispatcher, whose queue then runs empty
 * after every delivery; that used to trigger a `dueDeliveries` read each
 * time, and on Deno 2.9.6 every libSQL read leaves native memory behind: the
 * daemon's RSS grew ~6 MiB a minute at 500 events/s (issue #11, item 8).
 */
import assert from "node:assert/strict";
import { START } from "../testing/api_harness.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { accepting } from "../testing/gated_transport.ts";

const EVENTS = 50;

Deno.test("single-event ingests delivered one at a time read no due deliveries", async () => {
  // Virtual time: the loader's periodic look never comes, so every read counted is one
  // the deliveries themselves caused.
  const clock = new FakeClock(START);
  await withEngine({ clock, sender: accepting }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    await h.settle();
    const reads = new Map<string, number>();
    const read = h.store.read.bind(h.store);
    h.store.read = ((name, args) => {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      return read(name, args);
    }) as typeof h.store.read;

    for (let n = 0; n < EVENTS; n++) {
      const res = await h.api("POST", "/api/v1/events", { type: "a.b", data: { n } });
      assert.equal(res.status, 202);
      await h.settle();
    }
    assert.equal(h.engine.stats().succeeded, EVENTS, "every event was delivered");
    assert.equal(reads.get("dueDeliveries") ?? 0, 0);
  });
});
