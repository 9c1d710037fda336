/**
 * What a running daemon reads besides its group commits opens none of the
 * libSQL binding's row cursors either: the delivery engine's claims, looks
 * for due work and recalls, and the reads an operator's dashboard and
 * Prometheus repeat every few seconds, and erasures. On Deno 2.9.6 each cursor leaks its
 * native memory for good (file_connection.ts), and a daemon with a few
 * retries and an open dashboard opened about eight a second.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import type { ClaimedDelivery } from "./delivery_queue.ts";
import type { IngestResult } from "./events.ts";
import { StoreWriter } from "./writer.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { probeRowCursors } from "../testing/cursor_probe.ts";
import { migrateWithWebhook } from "../testing/store_fixture.ts";

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const OWNER = "daemon-a";

async function write<T>(store: StoreWriter, name: string, args: unknown): Promise<T> {
  const [outcome] = await store.write([{ name, args }]);
  if (!outcome!.ok) throw new Error(`${name}: ${JSON.stringify(outcome!.error)}`);
  return outcome!.value as T;
}

Deno.test("claims, recalls and the operator's reads open no row cursor", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-read-cursors-" });
  const url = `file:${dir}/hookd.db`;
  const client = createClient({ url });
  await migrateWithWebhook(client, NOW);
  client.close();
  const store = await StoreWriter.open({ url, now: NOW });
  const cursors = probeRowCursors();
  try {
    const events = Array.from({ length: 4 }, (_, n) => ({
      id: `e${n}`,
      tenantId: null,
      type: "order.created",
      // Event 3's payload is read apart from the claim's rows (delivery_queue.ts).
      payload: `{"n":${n},"text":"ü \\" quoted${n === 3 ? "x".repeat(3_000) : ""}"}`,
      fingerprint: `fp${n}`,
    }));
    await write<IngestResult[]>(store, "ingest", { events, now: NOW });
    const before = cursors.count();

    // The engine: what is due, claimed, sent, postponed and recalled.
    const due = await store.read("dueDeliveries", { until: NOW, now: NOW, limit: 100 }) as {
      id: string;
    }[];
    assert.equal(due.length, 4);
    const claimed = await write<ClaimedDelivery[]>(store, "claimDeliveries", {
      ids: due.map((d) => d.id),
      owner: OWNER,
      now: NOW,
      leaseUntil: NOW + 60_000,
    });
    assert.deepEqual(claimed.map((d) => d.event.id).sort(), ["e0", "e1", "e2", "e3"]);
    for (const n of [2, 3]) {
      const payload = claimed.find((d) => d.event.id === `e${n}`)!.event.payload;
      assert.equal(payload, events[n]!.payload);
    }
    await write(store, "recordAttempt", {
      attempt: attemptFixture("a0", claimed[0]!.id, NOW),
      owner: OWNER,
      verdict: { state: "succeeded", nextAttemptAt: null, scheduleAttempts: 1 },
      now: NOW,
    });
    await write(store, "postponeDeliveries", {
      ids: claimed.slice(1).map((d) => d.id),
      owner: OWNER,
      until: NOW + 60_000,
      now: NOW,
      recallable: true,
    });
    const recallable = await store.read("recallableByWebhook", { now: NOW, limit: 100 });
    assert.deepEqual(recallable, [{ webhookId: "w", count: 3 }]);
    const recalled = await write<string[]>(store, "recallPostponed", {
      webhookId: "w",
      now: NOW + 1,
      limit: 2,
    });
    assert.equal(recalled.length, 2);

    // The operator: the dashboard's pages, /metrics and readiness.
    const page = { limit: 100 };
    const webhooks = await store.read("listWebhooks", { filter: {}, page }) as {
      items: unknown[];
    };
    assert.equal(webhooks.items.length, 1);
    const stats = await store.read("webhookStats", { since: 0, maxAttempts: 1_000 });
    assert.ok(JSON.stringify(stats).includes('"w"'), JSON.stringify(stats));
    const history = await store.read("listDeliveryHistory", {
      filter: { webhookId: "w" },
      page,
    }) as { items: unknown[] };
    assert.equal(history.items.length, 4);
    const dead = await store.read("listDeliveries", { filter: { state: "dead" }, page }) as {
      items: unknown[];
    };
    assert.equal(dead.items.length, 0);
    const event = await store.read("getEvent", { id: "e1" }) as { deliveries: unknown[] };
    assert.equal(event.deliveries.length, 1);
    assert.ok(await store.read("getDelivery", { id: claimed[0]!.id }));
    await store.read("backlog", { until: NOW + 60_000 });
    await store.read("listApiKeys", { page });
    await store.read("listCredentials", { page });
    assert.ok((await store.read("schemaVersion", {}) as { version: number }).version > 0);

    // An erasure (a tenant's offboarding may erase events by the thousand).
    const erased = await write<{ status: string; cancelled: number }>(store, "eraseEvent", {
      id: "e2",
      now: NOW + 2,
    });
    assert.deepEqual([erased.status, erased.cancelled], ["erased", 1]);

    assert.equal(cursors.count(), before, "a row cursor was opened");
  } finally {
    cursors.restore();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
