import assert from "node:assert/strict";
import { createClient } from "@libsql/client/node";
import type { NewEvent } from "./events.ts";
import { migrate, MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";
import { Store } from "./client.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { webhookFixture } from "../testing/webhook_fixture.ts";
import type { WebhookRecord } from "./webhooks.ts";

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

async function tempUrl(): Promise<{ url: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-store-" });
  return { url: `file:${dir}/nested/hookd.db`, dir };
}

function openStore(url: string, commitWindowMs = 2): Promise<Store> {
  return Store.open({ url, authToken: "", commitWindowMs, commitMaxBatch: 512 }, NOW);
}

function webhook(id: string, eventTypes: string[], extra: Partial<WebhookRecord> = {}) {
  return webhookFixture(id, eventTypes, NOW, extra);
}

function event(type: string, extra: Partial<NewEvent> = {}): NewEvent {
  return { tenantId: null, type, payload: "{}", fingerprint: `fp:${type}`, ...extra };
}

Deno.test("migrations apply once; re-running is a no-op", async () => {
  const { url, dir } = await tempUrl();
  await Deno.mkdir(`${dir}/nested`);
  const client = createClient({ url });
  try {
    const all = MIGRATIONS.map((m) => m.version);
    assert.deepEqual(await migrate(client, NOW), all);
    assert.equal(all.at(-1), SCHEMA_VERSION);
    assert.deepEqual(await migrate(client, NOW), []);
    const versions = await client.execute("SELECT version FROM schema_migrations");
    assert.equal(versions.rows.length, all.length);
    const tables = await client.execute(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    assert.deepEqual(
      tables.rows.map((r) => r.name),
      [
        "api_keys",
        "attempts",
        "credentials",
        "deliveries",
        "events",
        "readiness_probe",
        "schema_migrations",
        "webhook_view_version",
        "webhooks",
      ],
    );
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a version 1 database keeps its deliveries and gets the partial state indexes", async () => {
  const { url, dir } = await tempUrl();
  await Deno.mkdir(`${dir}/nested`);
  const client = createClient({ url });
  try {
    // What a hookd of schema version 1 left on disk.
    for (const sql of MIGRATIONS[0]!.sql) await client.execute(sql);
    await client.execute(
      `CREATE TABLE schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
    );
    await client.execute({
      sql: "INSERT INTO schema_migrations VALUES (1, 'initial schema', ?)",
      args: [NOW],
    });
    await client.batch([
      `INSERT INTO webhooks (id, url, event_types, state, policy, profile, created_at, updated_at)
        VALUES ('w', 'http://127.0.0.1:9/', '["*"]', 'enabled', 'default', 'standard', 1, 1)`,
      `INSERT INTO events (id, type, payload, fingerprint, occurred_at, received_at)
        VALUES ('e', 't', '{}', 'fp', 1, 1)`,
      `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, next_attempt_at,
        schedule_started_at, created_at, updated_at) VALUES ('d', 'e', 'w', 't', 'dead', NULL, 1, 1, 1)`,
    ], "write");

    assert.deepEqual(await migrate(client, NOW), MIGRATIONS.slice(1).map((m) => m.version));
    const indexes = await client.execute(
      `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries'
        AND sql IS NOT NULL ORDER BY name`,
    );
    assert.deepEqual(indexes.rows.map((r) => r.name), [
      "deliveries_dead",
      "deliveries_event",
      "deliveries_held_by_webhook",
      "deliveries_pending",
      "deliveries_pending_by_webhook",
      "deliveries_sending",
      "deliveries_webhook",
    ]);
    const dead = await client.execute(
      "SELECT id FROM deliveries INDEXED BY deliveries_dead WHERE state = 'dead'",
    );
    assert.deepEqual(dead.rows.map((r) => r.id), ["d"], "the new index holds existing rows");
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the store creates its directory and opens in WAL mode", async () => {
  const { url, dir } = await tempUrl();
  const store = await openStore(url);
  try {
    const client = createClient({ url });
    const mode = await client.execute("PRAGMA journal_mode");
    assert.equal(mode.rows[0]?.journal_mode, "wal");
    client.close();
    const ready = await store.read("schemaVersion", {});
    assert.deepEqual(ready, { version: SCHEMA_VERSION, expected: SCHEMA_VERSION });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("group commit: 500 concurrent ingests share far fewer transactions", async () => {
  const { url, dir } = await tempUrl();
  const store = await openStore(url);
  try {
    await store.write("insertWebhook", { webhook: webhook("w1", ["order.*"]) });
    const before = store.stats().transactions;
    const results = await Promise.all(
      Array.from(
        { length: 500 },
        (_, i) =>
          store.write("ingest", { events: [event("order.created", { id: `e${i}` })], now: NOW }),
      ),
    );
    assert.equal(results.length, 500);
    for (const [result] of results) assert.equal(result?.status, "created");
    const transactions = store.stats().transactions - before;
    assert.ok(transactions >= 1 && transactions <= 50, `${transactions} transactions for 500`);
    const client = createClient({ url });
    const count = await client.execute("SELECT COUNT(*) AS n FROM deliveries");
    assert.equal(count.rows[0]?.n, 500);
    client.close();
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing write fails alone; the rest of its batch commits", async () => {
  const { url, dir } = await tempUrl();
  const store = await openStore(url, 5);
  try {
    const outcomes = await Promise.allSettled([
      store.write("insertWebhook", { webhook: webhook("a", ["*"]) }),
      store.write("insertWebhook", { webhook: webhook("a", ["*"]) }), // duplicate primary key
      store.write("insertWebhook", { webhook: webhook("b", ["*"]) }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
    const listed = await store.read("listWebhooks", { filter: {}, page: { limit: 10 } });
    assert.deepEqual(listed.items.map((w) => w.id), ["a", "b"]);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ingest is idempotent by id and by key; other content conflicts", async () => {
  const { url, dir } = await tempUrl();
  const store = await openStore(url);
  try {
    await store.write("insertWebhook", { webhook: webhook("w", ["a.b"]) });
    const ingest = (e: NewEvent) => store.write("ingest", { events: [e], now: NOW });
    const [first] = await ingest(event("a.b", { id: "e1" }));
    assert.equal(first?.status, "created");
    const [again] = await ingest(event("a.b", { id: "e1" }));
    assert.equal(again?.status, "duplicate");
    assert.deepEqual(
      again?.status === "duplicate" && again.deliveries.map((d) => d.id),
      first?.status === "created" && first.deliveries.map((d) => d.id),
    );
    const [conflict] = await ingest(event("a.b", { id: "e1", fingerprint: "other" }));
    assert.equal(conflict?.status, "conflict");

    const [keyed] = await ingest(event("a.b", { idempotencyKey: "k1" }));
    const [keyedAgain] = await ingest(event("a.b", { idempotencyKey: "k1" }));
    assert.equal(keyed?.status, "created");
    assert.equal(keyedAgain?.status, "duplicate");
    assert.equal(
      keyedAgain?.status === "duplicate" && keyedAgain.event.id,
      keyed?.status === "created" && keyed.event.id,
    );
    const [keyConflict] = await ingest(event("a.b", { idempotencyKey: "k1", fingerprint: "x" }));
    assert.equal(keyConflict?.status, "conflict");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pause holds, resume releases, disable and delete cancel open deliveries", async () => {
  const { url, dir } = await tempUrl();
  const store = await openStore(url);
  const states = async (id: string) =>
    (await store.read("getEvent", { id }))!.deliveries.map((d) => `${d.webhookId}:${d.state}`);
  try {
    await store.write("insertWebhook", { webhook: webhook("p", ["*"], { state: "paused" }) });
    await store.write("insertWebhook", { webhook: webhook("q", ["*"]) });
    await store.write("ingest", { events: [event("x", { id: "e1" })], now: NOW });
    assert.deepEqual(await states("e1"), ["p:held", "q:pending"]);

    await store.write("updateWebhook", { id: "p", patch: { state: "enabled" }, now: NOW + 1 });
    assert.deepEqual(await states("e1"), ["p:pending", "q:pending"]);

    await store.write("updateWebhook", {
      id: "p",
      patch: { state: "disabled", disabledReason: "maintenance" },
      now: NOW + 2,
    });
    assert.equal(await store.write("deleteWebhook", { id: "q", now: NOW + 3 }), true);
    assert.deepEqual(await states("e1"), ["p:cancelled", "q:cancelled"]);
    assert.equal(await store.read("getWebhook", { id: "q" }), null);
    assert.equal(await store.write("deleteWebhook", { id: "q", now: NOW + 4 }), false);

    // A disabled webhook receives nothing new; a deleted one is gone from fan-out.
    await store.write("ingest", { events: [event("x", { id: "e2" })], now: NOW + 5 });
    assert.deepEqual(await states("e2"), []);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data survives closing and reopening the store", async () => {
  const { url, dir } = await tempUrl();
  try {
    const first = await openStore(url);
    await first.write("insertWebhook", { webhook: webhook("w", ["*"]) });
    await first.write("ingest", { events: [event("t", { id: "e1" })], now: NOW });
    await first.close();
    const second = await openStore(url);
    const found = await second.read("getEvent", { id: "e1" });
    assert.equal(found?.event.type, "t");
    assert.equal(found?.deliveries.length, 1);
    // The reopened store's fan-out index knows the webhook without it being written again.
    const [result] = await second.write("ingest", { events: [event("t", { id: "e2" })], now: NOW });
    assert.equal(result?.status === "created" && result.deliveries.length, 1);
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attempts recorded together move only the deliveries their sender still holds", async () => {
  const { url, dir } = await tempUrl();
  const store = await openStore(url);
  try {
    await store.write("insertWebhook", { webhook: webhook("w", ["*"]) });
    const lease = { owner: "me", until: NOW + 60_000 };
    const [a, b] = await store.write("ingest", {
      events: [event("t", { id: "e1" }), event("t", { id: "e2" })],
      now: NOW,
      lease,
    });
    const ids = [a, b].map((r) => (r?.status === "created" ? r.deliveries[0]!.id : ""));
    const attempt = (deliveryId: string) => attemptFixture(`att-${deliveryId}`, deliveryId, NOW);
    const verdict = { state: "succeeded" as const, nextAttemptAt: null, scheduleAttempts: 1 };
    // Queued together, these share one transaction and one multi-row write.
    const moved = await Promise.all([
      store.write("recordAttempt", { attempt: attempt(ids[0]!), owner: "me", verdict, now: NOW }),
      store.write("recordAttempt", {
        attempt: attempt(ids[1]!),
        owner: "other",
        verdict,
        now: NOW,
      }),
    ]);
    assert.deepEqual(moved, [true, false]);
    const states = (await store.read("getEvent", { id: "e1" }))!.deliveries.map((d) => d.state);
    assert.deepEqual(states, ["succeeded"]);
    const second = await store.read("getDelivery", { id: ids[1]! });
    assert.equal(second!.delivery.state, "sending");
    assert.equal(second!.attempts.length, 1, "the late result is kept as history");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
