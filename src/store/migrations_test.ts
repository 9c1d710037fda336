import assert from "node:assert/strict";
import { createClient } from "@libsql/client/node";
import { migrate, MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

async function tempUrl(): Promise<{ url: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-store-" });
  return { url: `file:${dir}/nested/hookd.db`, dir };
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
        "event_tombstones",
        "events",
        "readiness_probe",
        "receiver_tokens",
        "schema_migrations",
        "webhook_health",
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
      "deliveries_ordered",
      "deliveries_pending",
      "deliveries_pending_by_webhook",
      "deliveries_postponed",
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

Deno.test("every write to webhooks or credentials bumps the view version, and nothing else does", async () => {
  const { url, dir } = await tempUrl();
  await Deno.mkdir(`${dir}/nested`);
  const client = createClient({ url });
  const version = async () =>
    Number((await client.execute("SELECT version FROM webhook_view_version")).rows[0]?.version);
  try {
    await migrate(client, NOW);
    const writes = [
      `INSERT INTO webhooks (id, url, event_types, state, policy, profile, created_at, updated_at)
        VALUES ('w', 'http://127.0.0.1:9/', '["*"]', 'enabled', 'default', 'standard', 1, 1)`,
      "UPDATE webhooks SET state = 'paused' WHERE id = 'w'",
      "DELETE FROM webhooks WHERE id = 'w'",
      `INSERT INTO credentials (id, name, secret, headers, created_at, updated_at)
        VALUES ('c', 'n', 's', '{}', 1, 1)`,
      "UPDATE credentials SET name = 'm' WHERE id = 'c'",
      "DELETE FROM credentials WHERE id = 'c'",
    ];
    for (const sql of writes) {
      const before = await version();
      await client.execute(sql);
      assert.ok(await version() > before, `no bump after: ${sql}`);
    }
    const before = await version();
    await client.execute(
      "INSERT INTO events (id, type, payload, fingerprint, occurred_at, received_at) " +
        "VALUES ('e', 't', '{}', 'f', 1, 1)",
    );
    assert.equal(await version(), before, "an event is not a webhook change");
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
});
