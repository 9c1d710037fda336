import assert from "node:assert/strict";
import { createClient } from "@libsql/client/node";
import { recordAttemptsSql } from "./delivery_queue.ts";
import { migrate } from "./migrations.ts";

const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const IN_FLIGHT = 2_000;

/**
 * SQLite picks a plan per statement from guesses (hookd never runs ANALYZE),
 * and a bad guess here costs per row times the backlog. The plan, not a
 * timing, is what a test can pin down.
 */
Deno.test("recording attempts finds each delivery by primary key, whatever is in flight", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-queue-" });
  const db = createClient({ url: `file:${dir}/hookd.db` });
  try {
    await migrate(db, NOW);
    await db.execute({
      sql: `INSERT INTO webhooks (id, url, event_types, state, policy, profile, created_at,
          updated_at) VALUES ('w', 'http://127.0.0.1:9/', '["*"]', 'enabled', 'default',
          'standard', ?1, ?1)`,
      args: [NOW],
    });
    // A backlog of deliveries in flight under a lease, as ingest leaves them under load.
    await db.execute({
      sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
        INSERT INTO events (id, type, payload, fingerprint, occurred_at, received_at)
        SELECT 'e' || i, 'order.created', '{}', 'fp', ?1, ?1 FROM n`,
      args: [NOW, IN_FLIGHT],
    });
    await db.execute({
      sql: `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, next_attempt_at,
          lease_owner, lease_until, schedule_started_at, created_at, updated_at)
        SELECT 'd' || substr(id, 2), id, 'w', type, 'sending', ?1, 'me', ?1 + 60000, ?1, ?1, ?1
        FROM events`,
      args: [NOW],
    });

    for (const rows of [1, 14, 500]) {
      const plan = await db.execute({
        sql: `EXPLAIN QUERY PLAN ${recordAttemptsSql(rows)}`,
        args: Array(rows * 9).fill(null),
      });
      const onDeliveries = plan.rows.map((r) => String(r.detail)).filter((d) =>
        /\bdeliveries\b/.test(d)
      );
      assert.equal(onDeliveries.length, 1, `one step reads deliveries: ${onDeliveries}`);
      assert.match(
        onDeliveries[0]!,
        /^SEARCH deliveries USING (INDEX sqlite_autoindex_deliveries_1|PRIMARY KEY) \(id=\?\)$/,
        `${rows} rows: each delivery is looked up by id, not found by walking those in flight`,
      );
    }
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
