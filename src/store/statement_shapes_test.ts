/**
 * Statements whose SQL grows with their input (an `IN` list) come in a few
 * shapes only: a file connection keeps every prepared statement, and on
 * Deno 2.9.6 one it drops leaks its native memory (about 8 KB measured), so
 * a shape per input size would fill its cache, and every clear of it leak
 * hundreds. The dashboard's figures used one shape per count of active
 * webhooks, and asked for them every 5 s.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { recordAttempts } from "./delivery_queue.ts";
import { ingestEvents } from "./events.ts";
import { FileConnection } from "./file_connection.ts";
import { webhookStats } from "./webhook_stats.ts";
import { loadWebhookSnapshot, WebhookView } from "./webhook_view.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { migrateWithWebhook } from "../testing/store_fixture.ts";

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const WEBHOOKS = 40;

Deno.test("the dashboard's figures prepare a few statement shapes, however many webhooks are active", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-shapes-" });
  const url = `file:${dir}/hookd.db`;
  const client = createClient({ url });
  await migrateWithWebhook(client, NOW);
  for (let i = 1; i <= WEBHOOKS; i++) {
    await client.execute({
      sql: `INSERT INTO webhooks (id, url, event_types, state, policy, profile, created_at,
          updated_at) VALUES (?, 'http://127.0.0.1:9/', ?, 'enabled', 'default', 'standard', ?, ?)`,
      args: [`w${i}`, JSON.stringify([`t.${i}`]), NOW, NOW],
    });
  }
  client.close();
  const connection = new FileConnection(`${dir}/hookd.db`);
  try {
    const view = new WebhookView(await loadWebhookSnapshot(connection));
    let prepared = 0;
    for (let i = 1; i <= WEBHOOKS; i++) {
      // One more webhook with an attempt: the figures cover one more each round.
      const tx = connection.begin();
      const [results] = await ingestEvents(tx, view, [{
        events: [{
          id: `e${i}`,
          tenantId: null,
          type: `t.${i}`,
          payload: "{}",
          fingerprint: `f${i}`,
        }],
        now: NOW,
        lease: { owner: "me", until: NOW + 60_000 },
      }]);
      const claimed = results!.flatMap((r) => r.status === "created" ? r.claimed : []);
      await recordAttempts(
        tx,
        claimed.map((delivery, n) => ({
          attempt: attemptFixture(`a${i}-${n}`, delivery.id, NOW + i),
          owner: "me",
          verdict: { state: "succeeded" as const, nextAttemptAt: null, scheduleAttempts: 1 },
          now: NOW + i,
        })),
      );
      await tx.commit();
      tx.close();

      const before = connection.cachedStatements;
      const stats = await webhookStats(connection, 0, 10_000);
      prepared += connection.cachedStatements - before;
      // w (subscribed to everything) and w1 to wi.
      assert.equal(stats.webhooks.length, i + 1);
      assert.ok(stats.webhooks.every((w) => w.lastStatus !== undefined));
    }
    // The grouped query and one IN list per power of two up to 64.
    assert.ok(prepared <= 8, `${prepared} statements prepared for ${WEBHOOKS} sizes`);
  } finally {
    connection.close();
    await Deno.remove(dir, { recursive: true });
  }
});
