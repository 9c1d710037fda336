import assert from "node:assert/strict";
import { type Client, createClient, type InStatement } from "@libsql/client/node";
import type { AttemptToRecord } from "./delivery_queue.ts";
import {
  backlog,
  claimDeliveries,
  deferDeliveries,
  dueDeliveries,
  postponeDeliveries,
  recallableByWebhook,
  recallPostponed,
  recordAttempts,
  releaseDeliveries,
} from "./delivery_queue.ts";
import { listDeliveries, replayDeadLetters } from "./delivery_history.ts";
import type { Executor } from "./executor.ts";
import { loadWebhookSnapshot, WebhookView } from "./webhook_view.ts";
import { deleteWebhook, updateWebhook } from "./webhooks.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { migrateWithWebhook } from "../testing/store_fixture.ts";

const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const PER_STATE = 1_000;

/**
 * An executor that asks SQLite for each statement's plan before running it,
 * so a test sees what the real query functions make SQLite do.
 */
class PlanRecorder implements Executor {
  readonly plans: { sql: string; steps: string[] }[] = [];
  constructor(readonly db: Client) {}

  async execute(statement: InStatement) {
    const { sql, args = [] } = typeof statement === "string" ? { sql: statement } : statement;
    const plan = await this.db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args });
    this.plans.push({ sql, steps: plan.rows.map((row) => String(row.detail)) });
    return await this.db.execute(statement);
  }

  /** The steps that read the deliveries table, across every statement run since the last call. */
  take(): string[] {
    return this.takeByStatement().flat();
  }

  /** The same, per statement that reads the deliveries table. */
  takeByStatement(): string[][] {
    const steps = this.plans
      .map((p) => p.steps.filter((s) => /\bdeliveries\b|\bd\b/.test(s)))
      .filter((s) => s.length > 0);
    this.plans.length = 0;
    return steps;
  }
}

/** A store with a backlog in every state, as a busy daemon's looks. */
async function busyStore(dir: string): Promise<Client> {
  const db = createClient({ url: `file:${dir}/hookd.db` });
  await migrateWithWebhook(db, NOW);
  const states = ["sending", "pending", "succeeded", "dead"];
  await db.execute({
    sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
      INSERT INTO events (id, type, payload, fingerprint, occurred_at, received_at)
      SELECT printf('e%06d', i), 'order.created', '{}', 'fp', ?1, ?1 FROM n`,
    args: [NOW, PER_STATE * states.length],
  });
  // Deliveries d000001..: the first thousand sending under a lease, then pending
  // (due in an hour), succeeded and dead.
  await db.execute({
    sql: `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, next_attempt_at,
        lease_owner, lease_until, schedule_started_at, created_at, updated_at)
      SELECT 'd' || substr(id, 2), id, 'w', type, s.state,
        CASE s.state WHEN 'pending' THEN ?1 + 3600000 WHEN 'sending' THEN ?1 END,
        CASE s.state WHEN 'sending' THEN 'me' END,
        CASE s.state WHEN 'sending' THEN ?1 + 60000 END, ?1, ?1, ?1
      FROM events JOIN (SELECT value AS state, key AS k FROM json_each(?2)) AS s
        ON s.k = (CAST(substr(id, 2) AS INTEGER) - 1) / ${PER_STATE}`,
    args: [NOW, JSON.stringify(states)],
  });
  return db;
}

const deliveryId = (n: number) => `d${String(n).padStart(6, "0")}`;

let attempts = 0;

function attempt(id: string): AttemptToRecord {
  return {
    attempt: attemptFixture(`a${++attempts}`, id, NOW),
    owner: "me",
    verdict: { state: "succeeded", nextAttemptAt: null, scheduleAttempts: 1 },
    now: NOW,
  };
}

const BY_ID =
  /^SEARCH (deliveries|d) USING (INDEX sqlite_autoindex_deliveries_1|PRIMARY KEY) \(id=\?\)$/;

/**
 * SQLite picks a plan per statement from guesses (hookd never runs ANALYZE),
 * and a bad guess costs per row times the backlog: recording 14 attempts once
 * walked all 4,000 deliveries in flight, 7 ms a statement. Plans, unlike
 * timings, are something a test can pin down.
 */
Deno.test("the delivery queue's statements use an index that fits, whatever the backlog", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-queue-" });
  const db = await busyStore(dir);
  const spy = new PlanRecorder(db);
  try {
    await t.step("recording attempts finds each delivery by primary key", async () => {
      for (const rows of [1, 14, 500]) {
        const items = Array.from({ length: rows }, (_, i) => attempt(deliveryId(i + 1)));
        const moved = await recordAttempts(spy, items);
        assert.equal(moved.filter(Boolean).length, rows);
        // Run in power-of-two chunks (statementChunks): 14 rows as 8 + 4 + 2.
        const statements = spy.takeByStatement();
        assert.ok(statements.length > 0);
        for (const steps of statements) {
          assert.equal(steps.length, 1, `${rows} rows: one step reads deliveries: ${steps}`);
          assert.match(steps[0]!, BY_ID, `${rows} rows: by id, not by walking those in flight`);
        }
        // Back in flight for the next round.
        await db.execute(
          `UPDATE deliveries SET state = 'sending', lease_owner = 'me', lease_until = ${
            NOW + 60_000
          } WHERE id <= '${deliveryId(rows)}'`,
        );
      }
    });

    await t.step("claiming and releasing find each delivery by primary key", async () => {
      const ids = [deliveryId(1), deliveryId(2), deliveryId(PER_STATE + 1)];
      await releaseDeliveries(spy, ids, "me", "pending", NOW);
      const release = spy.takeByStatement();
      assert.equal(release.length, 2, "two statements: 2 + 1 ids");
      for (const steps of release) assert.deepEqual(steps.map((s) => BY_ID.test(s)), [true]);
      const view = new WebhookView(await loadWebhookSnapshot(db));
      const claimed = await claimDeliveries(spy, view, ids, "me", NOW, NOW + 60_000);
      assert.deepEqual(claimed.map((c) => c.id).sort(), ids.slice(0, 2));
      const claim = spy.takeByStatement();
      assert.equal(claim.length, 3, "the claim (2 + 1 ids) and the read of what it claimed");
      for (const steps of claim) assert.deepEqual(steps.map((s) => BY_ID.test(s)), [true]);
    });

    await t.step("the loader reads only the partial indexes of pending and sending", async () => {
      const due = await dueDeliveries(spy, NOW + 2 * 3_600_000, NOW + 120_000, 5_000);
      assert.equal(due.length, 2 * PER_STATE, "every pending delivery and every expired lease");
      assert.deepEqual(spy.take().sort(), [
        "SEARCH deliveries USING INDEX deliveries_pending (next_attempt_at<?)",
        "SEARCH deliveries USING INDEX deliveries_sending (lease_until<?)",
      ]);
    });

    await t.step("pages after a cursor cover what is due once each, in order", async () => {
      const until = NOW + 2 * 3_600_000;
      const now = NOW + 120_000;
      const whole = await dueDeliveries(db, until, now, 5_000);
      spy.take();
      // A thousand pending deliveries share one due time: the cursor must break the tie by id.
      const paged: string[] = [];
      let after: { dueAt: number; id: string } | undefined;
      for (;;) {
        const page = await dueDeliveries(spy, until, now, 300, after);
        for (const steps of spy.takeByStatement()) {
          assert.ok(
            steps.every((step) => /USING INDEX deliveries_(pending|sending) \(/.test(step)),
            `only the partial indexes, as a range: ${steps}`,
          );
        }
        paged.push(...page.map((d) => d.id));
        assert.ok(paged.length <= 2 * PER_STATE, "a page repeats deliveries already read");
        if (page.length < 300) break;
        after = { dueAt: page.at(-1)!.dueAt, id: page.at(-1)!.id };
      }
      assert.equal(paged.length, 2 * PER_STATE);
      assert.deepEqual(paged, whole.map((d) => d.id), "the same deliveries, in the same order");
    });

    await t.step("the backlog is counted from the partial indexes, never the table", async () => {
      const until = NOW + 3_600_000 - 1;
      const counted = await backlog(spy, until);
      const steps = spy.take();
      const truth = async (where: string) =>
        Number(
          (await db.execute(`SELECT count(*) AS n FROM deliveries WHERE ${where}`)).rows[0]!.n,
        );
      assert.deepEqual(counted, {
        dueSoon: await truth(`state = 'pending' AND next_attempt_at <= ${until}`),
        later: await truth(`state = 'pending' AND next_attempt_at > ${until}`),
        held: await truth(`state = 'held'`),
        dead: PER_STATE,
      });
      assert.ok(counted.later > 0, "some pending deliveries lie beyond the horizon");
      assert.deepEqual(steps.sort(), [
        "SCAN deliveries USING COVERING INDEX deliveries_dead",
        "SCAN deliveries USING COVERING INDEX deliveries_held_by_webhook",
        "SEARCH deliveries USING COVERING INDEX deliveries_pending (next_attempt_at<?)",
        "SEARCH deliveries USING COVERING INDEX deliveries_pending (next_attempt_at>?)",
      ]);
    });

    await t.step("dead letters are listed and replayed from their partial index", async () => {
      const page = await listDeliveries(spy, { state: "dead" }, { limit: 10 });
      assert.equal(page.items.length, 10);
      assert.ok(page.items.every((d) => d.state === "dead"));
      assert.deepEqual(spy.take(), ["SCAN deliveries USING INDEX deliveries_dead"]);
      const replayed = await replayDeadLetters(spy, {}, page.nextAfter!, 5, NOW);
      assert.equal(replayed.count, 5);
      const [list, ...update] = spy.take();
      assert.equal(list, "SEARCH deliveries USING COVERING INDEX deliveries_dead (id>?)");
      // Each id is looked up, through the primary key or (to match live webhooks) webhook and id.
      assert.ok(update.length > 0, "the replay updated through deliveries");
      for (const step of update) {
        assert.match(step, /^SEARCH deliveries USING INDEX \S+ \(.*\bid=\?\)$/);
      }
    });

    await t.step("pausing, resuming and deleting a webhook never walk its history", async () => {
      // Webhook w's history is every delivery here; only its open ones may be read.
      const history = /USING INDEX deliveries_webhook\b/;
      await updateWebhook(spy, "w", { state: "paused" }, NOW);
      const pause = spy.take();
      assert.ok(!pause.some((s) => history.test(s)), pause.join("\n"));
      assert.ok(
        pause.includes(
          "SEARCH deliveries USING INDEX deliveries_pending_by_webhook (webhook_id=?)",
        ),
      );
      await updateWebhook(spy, "w", { state: "enabled" }, NOW);
      const resume = spy.take();
      assert.ok(!resume.some((s) => history.test(s)), resume.join("\n"));
      assert.ok(
        resume.includes("SEARCH deliveries USING INDEX deliveries_held_by_webhook (webhook_id=?)"),
      );
      assert.equal(await deleteWebhook(spy, "w", NOW), true);
      const cancel = spy.take();
      assert.deepEqual(cancel, [
        "SEARCH deliveries USING INDEX deliveries_pending_by_webhook (webhook_id=?)",
        "SEARCH deliveries USING INDEX deliveries_held_by_webhook (webhook_id=?)",
        "SCAN deliveries USING INDEX deliveries_sending",
      ]);
      const open = await db.execute(
        "SELECT count(*) AS n FROM deliveries WHERE state IN ('pending', 'held', 'sending')",
      );
      assert.equal(Number(open.rows[0]!.n), 0, "every open delivery was cancelled");
    });

    await t.step("a state filter takes only a known state", async () => {
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        listDeliveries(spy, { state: "dead' OR 1=1 --" as any }, { limit: 10 }),
        /Cannot filter deliveries: unknown state "dead' OR 1=1 --"/,
      );
    });
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full queue's postponements are recalled early, earliest first; the breaker's are not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-recall-" });
  const db = await busyStore(dir);
  try {
    const spy = new PlanRecorder(db);
    const column = async (id: string, name: string) =>
      (await db.execute({ sql: `SELECT ${name} AS v FROM deliveries WHERE id = ?`, args: [id] }))
        .rows[0]!.v;
    // d1..d10 (in flight under "me") go back for a full queue, due 1..10 minutes from now;
    // d11..d15 for an open breaker, due in a minute.
    for (let n = 1; n <= 10; n++) {
      await postponeDeliveries(db, [deliveryId(n)], "me", NOW + n * 60_000, NOW, true);
    }
    const breaker = [11, 12, 13, 14, 15].map(deliveryId);
    await postponeDeliveries(db, breaker, "me", NOW + 60_000, NOW, false);
    assert.equal(await column(deliveryId(3), "schedule_started_at"), NOW + 3 * 60_000);

    // What a daemon starting now learns: ten recallable, none of the breaker's.
    assert.deepEqual(await recallableByWebhook(spy, NOW, 100), [{ webhookId: "w", count: 10 }]);
    assert.ok(
      spy.take().some((step) => step.includes("USING COVERING INDEX deliveries_postponed")),
      "counted through the partial index alone",
    );
    // Those already due by then are the loader's, not a recall's.
    assert.deepEqual(await recallableByWebhook(db, NOW + 2 * 60_000, 100), [
      { webhookId: "w", count: 8 },
    ]);
    // The walk stops at the limit.
    assert.deepEqual(await recallableByWebhook(db, NOW, 4), [{ webhookId: "w", count: 4 }]);

    // 1 s later the queue has room for four: the four due soonest come now.
    const at = NOW + 1_000;
    const first = await recallPostponed(spy, "w", at, 4);
    assert.deepEqual(first, [1, 2, 3, 4].map(deliveryId));
    assert.equal(await column(deliveryId(3), "next_attempt_at"), at);
    // max_age counts the second it really waited, not the three minutes foretold.
    assert.equal(await column(deliveryId(3), "schedule_started_at"), NOW + 1_000);
    assert.ok(
      spy.take().some((step) => step.includes("USING INDEX deliveries_postponed")),
      "found through its partial index, not the webhook's whole backlog",
    );
    // The rest, but never the breaker's, the ordinary pending ones, or another webhook's.
    assert.deepEqual(
      await recallPostponed(db, "w", at, 1_000),
      [5, 6, 7, 8, 9, 10].map(deliveryId),
    );
    assert.deepEqual(await recallPostponed(db, "w", at, 1_000), []);
    assert.deepEqual(await recallableByWebhook(db, at, 100), []);
    assert.deepEqual(await recallPostponed(db, "other", at, 1_000), []);
    for (const id of breaker) assert.equal(await column(id, "next_attempt_at"), NOW + 60_000);

    // A claim clears the mark: a later retry of it is never recalled early.
    await postponeDeliveries(db, [deliveryId(16)], "me", NOW + 60_000, NOW, true);
    await db.execute({
      sql: "UPDATE deliveries SET next_attempt_at = ? WHERE id = ?",
      args: [NOW, deliveryId(16)],
    });
    const view = new WebhookView(await loadWebhookSnapshot(db));
    await claimDeliveries(db, view, [deliveryId(16)], "me", NOW, NOW + 60_000);
    assert.equal(await column(deliveryId(16), "postponed"), 0);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deferring moves only due deliveries nobody holds, without a claim, and keeps max_age fair", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-defer-" });
  const db = await busyStore(dir);
  try {
    const row = async (n: number) =>
      (await db.execute({
        sql: `SELECT state, next_attempt_at, lease_owner, schedule_started_at, attempts
          FROM deliveries WHERE id = ?`,
        args: [deliveryId(n)],
      })).rows[0]!;
    // d1 is in flight under a live lease; d2's lease ran out; d1001 is pending but due in an
    // hour; d1002 came due 5 s ago; d2001 succeeded.
    await db.execute({
      sql: "UPDATE deliveries SET lease_until = ? WHERE id = ?",
      args: [NOW - 1, deliveryId(2)],
    });
    await db.execute({
      sql: "UPDATE deliveries SET next_attempt_at = ? WHERE id = ?",
      args: [NOW - 5_000, deliveryId(1002)],
    });
    const until = NOW + 30_000;
    await deferDeliveries(db, [1, 2, 1001, 1002, 2001].map(deliveryId), until, NOW);

    for (const n of [2, 1002]) {
      const moved = await row(n);
      assert.equal(moved.state, "pending", `d${n}`);
      assert.equal(moved.next_attempt_at, until, `d${n}`);
      assert.equal(moved.lease_owner, null, `d${n}`);
      assert.equal(moved.attempts, 0, `d${n}: no attempt spent`);
      // The 30 s held back do not count toward the policy's max_age.
      assert.equal(moved.schedule_started_at, NOW + 30_000, `d${n}`);
    }
    assert.equal((await row(1)).state, "sending");
    assert.equal((await row(1)).lease_owner, "me");
    assert.equal((await row(1001)).next_attempt_at, NOW + 3_600_000);
    assert.equal((await row(2001)).state, "succeeded");
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
