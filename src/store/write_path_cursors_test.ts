/**
 * The statements every group commit runs (ingest, recording attempts) open
 * none of the libSQL binding's row cursors: on Deno 2.9.6 each one leaks its
 * native memory for good (file_connection.ts, queryOne), and with one event per
 * request there is a commit or two per event. The soak grew 4 MB a minute
 * while ingest's insert and the attempts' update used RETURNING.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { recordAttempts } from "./delivery_queue.ts";
import { ingestEvents, type NewEvent } from "./events.ts";
import { FileConnection } from "./file_connection.ts";
import { loadWebhookSnapshot, WebhookView } from "./webhook_view.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { migrateWithWebhook } from "../testing/store_fixture.ts";
import { probeRowCursors } from "../testing/cursor_probe.ts";

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

const event = (n: number, extra: Partial<NewEvent> = {}): NewEvent => ({
  id: `e${n}`,
  tenantId: null,
  type: "order.created",
  payload: `{"n":${n}}`,
  fingerprint: `fp${n}`,
  ...extra,
});

Deno.test("ingest and recording attempts open no row cursor, and still tell new from repeated", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-cursors-" });
  const client = createClient({ url: `file:${dir}/hookd.db` });
  await migrateWithWebhook(client, NOW);
  client.close();
  const writer = new FileConnection(`${dir}/hookd.db`);
  const cursors = probeRowCursors();
  try {
    const view = new WebhookView(await loadWebhookSnapshot(writer));
    const lease = { owner: "me", until: NOW + 60_000 };
    const before = cursors.count();

    // Three new events, claimed at ingest as the daemon does.
    const tx = writer.begin();
    const [first] = await ingestEvents(tx, view, [{
      events: [event(1), event(2), event(3, { idempotencyKey: "k3" })],
      now: NOW,
      lease,
    }]);
    assert.deepEqual(first!.map((r) => r.status), ["created", "created", "created"]);
    const claimed = first!.flatMap((r) => r.status === "created" ? r.claimed : []);
    assert.equal(claimed.length, 3);
    // Their attempts recorded; one delivery was taken over by another daemon meanwhile.
    await tx.execute({
      sql: "UPDATE deliveries SET lease_owner = 'other' WHERE id = ?",
      args: [claimed[2]!.id],
    });
    const recorded = await recordAttempts(
      tx,
      claimed.map((d, i) => ({
        attempt: attemptFixture(`a${i}`, d.id, NOW),
        owner: "me",
        verdict: { state: "succeeded" as const, nextAttemptAt: null, scheduleAttempts: 1 },
        now: NOW,
      })),
    );
    assert.deepEqual(recorded.map((r) => r.moved), [true, true, false]);
    assert.equal(cursors.count(), before, "the write path opened a row cursor");

    // A group with repeats (they read the first event back, a rare path allowed a cursor): e2 again, a new id with k3's key, e1 twice, and one new event.
    const [second] = await ingestEvents(tx, view, [{
      events: [event(2), event(4, { idempotencyKey: "k3" }), event(5), event(1), event(5)],
      now: NOW + 1,
      lease,
    }]);
    assert.deepEqual(
      second!.map((r) => r.status),
      ["duplicate", "conflict", "created", "duplicate", "duplicate"],
    );
    assert.equal(second![2]!.status === "created" && second![2]!.eventId, "e5");
    await tx.commit();
    tx.close();

    // The control: RETURNING does open one.
    const counted = cursors.count();
    await writer.execute("UPDATE events SET type = type WHERE id = 'e1' RETURNING id");
    assert.equal(cursors.count(), counted + 1);
  } finally {
    cursors.restore();
    writer.close();
    await Deno.remove(dir, { recursive: true });
  }
});
