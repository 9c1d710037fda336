/**
 * The store's contract, run against every write executor: the prepared-
 * statement file writer and `@libsql/client` (the path every remote
 * `libsql://` / `http(s)://` URL takes), both on a local file here.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client/node";
import type { NewEvent } from "./events.ts";
import { SCHEMA_VERSION } from "./migrations.ts";
import { Store } from "./client.ts";
import type { WriteExecutor } from "./writer.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { webhookFixture } from "../testing/webhook_fixture.ts";
import type { WebhookRecord } from "./webhooks.ts";
import { uuidv7Floor } from "./webhook_stats.ts";
import { within } from "../testing/within.ts";

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const EXECUTORS: readonly WriteExecutor[] = ["prepared", "client"];

async function tempUrl(): Promise<{ url: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-store-" });
  return { url: `file:${dir}/nested/hookd.db`, dir };
}

function webhook(id: string, eventTypes: string[], extra: Partial<WebhookRecord> = {}) {
  return webhookFixture(id, eventTypes, NOW, extra);
}

function event(type: string, extra: Partial<NewEvent> = {}): NewEvent {
  return { tenantId: null, type, payload: "{}", fingerprint: `fp:${type}`, ...extra };
}

/** Registers `fn` once per executor; `openStore` opens a store on that executor. */
function contract(
  name: string,
  fn: (
    openStore: (
      url: string,
      commitWindowMs?: number,
      deferrableWindowMs?: number,
    ) => Promise<Store>,
  ) => Promise<void>,
): void {
  for (const executor of EXECUTORS) {
    Deno.test(`${name} [${executor}]`, () =>
      fn((url, commitWindowMs = 2, deferrableWindowMs) =>
        Store.open(
          { url, authToken: "", commitWindowMs, commitMaxBatch: 512, executor, deferrableWindowMs },
          NOW,
        )
      ));
  }
}

contract(
  "an ingest answer carries the payload once, with the claimed deliveries",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const store = await openStore(url);
    // Every answer crosses from the store thread by structured clone: a payload
    // carried twice is copied twice on both threads.
    const payload = JSON.stringify({ marker: "p".repeat(64) });
    const copies = (answer: unknown) => JSON.stringify(answer).split("p".repeat(64)).length - 1;
    try {
      await store.write("insertWebhook", { webhook: webhook("w1", ["a.b"]) });
      await store.write("insertWebhook", { webhook: webhook("w2", ["a.b"]) });
      const lease = { owner: "me", until: NOW + 30_000 };
      const [claimed] = await store.write("ingest", {
        events: [event("a.b", { id: "e1", payload })],
        now: NOW,
        lease,
      });
      assert.equal(claimed?.status, "created");
      if (claimed?.status !== "created") return;
      const { claimed: claims, ...rest } = claimed;
      assert.equal(copies(rest), 0, "the payload travels with the claims only");
      assert.equal(claims.length, 2);
      assert.equal(claims[0]!.event.payload, payload);
      assert.equal(claims[0]!.event, claims[1]!.event, "two claims share one event object");
      const [pending] = await store.write("ingest", {
        events: [event("a.b", { id: "e2", payload })],
        now: NOW,
      });
      assert.equal(copies(pending), 0);
      assert.deepEqual(
        pending?.status === "created" && pending.deliveries.map((d) => Object.keys(d).sort()),
        [["id", "state", "webhookId"], ["id", "state", "webhookId"]],
      );
      const [again] = await store.write("ingest", {
        events: [event("a.b", { id: "e2", payload })],
        now: NOW,
      });
      assert.equal(again?.status, "duplicate");
      assert.equal(copies(again), 0);
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract("the store creates its directory and opens in WAL mode", async (openStore) => {
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

contract("group commit: 500 concurrent ingests share far fewer transactions", async (openStore) => {
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

contract(
  "one batch commits at a time; what queued meanwhile goes before that batch's writers go on",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const store = await openStore(url, 0);
    const ingest = (id: string) =>
      store.write("ingest", { events: [event("order.created", { id })], now: NOW });
    try {
      // The first write goes at once; the twenty written while it commits
      // queue behind it and go together: 2 commits, not one for the first,
      // one for the second alone and one for the rest.
      let before = store.stats().transactions;
      await Promise.all(Array.from({ length: 21 }, (_, i) => ingest(`a${i}`)));
      assert.equal(store.stats().transactions - before, 2);

      // A write made when the first one's answer is taken comes after the
      // queued twenty are already on their way: the store thread starts on
      // them before any writer's continuation runs, so it commits apart.
      before = store.stats().transactions;
      let late: Promise<unknown> | undefined;
      const first = ingest("b0").then(() => late = ingest("late"));
      const queued = Array.from({ length: 20 }, (_, i) => ingest(`b${i + 1}`));
      await Promise.all([first, ...queued]);
      await late;
      assert.equal(store.stats().transactions - before, 3);
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract("deferrable writes queued together share one commit", async (openStore) => {
  const { url, dir } = await tempUrl();
  // No commit window for urgent writes: without deferral these would go as
  // two commits (the first at once, the rest behind it).
  const store = await openStore(url, 0, 200);
  try {
    const before = store.stats().transactions;
    await Promise.all(
      ["d1", "d2", "d3"].map((id) =>
        store.write("insertWebhook", { webhook: webhook(id, ["*"]) }, { deferrable: true })
      ),
    );
    assert.equal(store.stats().transactions - before, 1);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

contract("a deferrable write alone commits once its window ends", async (openStore) => {
  const { url, dir } = await tempUrl();
  const store = await openStore(url, 0, 20);
  try {
    const before = store.stats().transactions;
    await within(
      store.write("insertWebhook", { webhook: webhook("d", ["*"]) }, { deferrable: true }),
      10_000,
      "a deferrable write alone",
    );
    assert.equal(store.stats().transactions - before, 1);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

contract(
  "urgent writes commit without the deferrable ones still in their window; close commits those",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    // A deferrable write may wait a minute here, far longer than this test.
    const store = await openStore(url, 0, 60_000);
    try {
      const before = store.stats().transactions;
      let deferredDone = false;
      const deferred = ["d1", "d2"].map((id) =>
        store.write("insertWebhook", { webhook: webhook(id, ["*"]) }, { deferrable: true })
      );
      void Promise.all(deferred).then(() => deferredDone = true);
      // Someone waits on this one: it goes at once, and alone, so its commit
      // is no longer for the deferred writes queued before it.
      await store.write("insertWebhook", { webhook: webhook("u", ["*"]) });
      await store.read("listWebhooks", { filter: {}, page: { limit: 10 } });
      assert.equal(deferredDone, false, "a deferrable write went before its window ended");
      assert.equal(store.stats().transactions - before, 1);
      // Closing (a stop) commits what still waits, in one transaction.
      await store.close();
      await Promise.all(deferred);
      assert.equal(store.stats().transactions - before, 2);
    } finally {
      await store.close();
    }
    const reopened = await openStore(url);
    try {
      const listed = await reopened.read("listWebhooks", { filter: {}, page: { limit: 10 } });
      assert.deepEqual(listed.items.map((w) => w.id), ["d1", "d2", "u"]);
    } finally {
      await reopened.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract("a failing write fails alone; the rest of its batch commits", async (openStore) => {
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

contract("ingest is idempotent by id and by key; other content conflicts", async (openStore) => {
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
      keyedAgain?.status === "duplicate" && keyedAgain.eventId,
      keyed?.status === "created" && keyed.eventId,
    );
    const [keyConflict] = await ingest(event("a.b", { idempotencyKey: "k1", fingerprint: "x" }));
    assert.equal(keyConflict?.status, "conflict");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

contract(
  "pause and disable hold, enable releases (giving the held time back), delete cancels",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const store = await openStore(url);
    const states = async (id: string) =>
      (await store.read("getEvent", { id }))!.deliveries.map((d) => `${d.webhookId}:${d.state}`);
    try {
      await store.write("insertWebhook", { webhook: webhook("p", ["*"], { state: "paused" }) });
      await store.write("insertWebhook", { webhook: webhook("q", ["*"]) });
      await store.write("ingest", { events: [event("x", { id: "e1" })], now: NOW });
      assert.deepEqual(await states("e1"), ["p:held", "q:pending"]);

      // Held for 10 minutes from its creation: its schedule starts 10 minutes later.
      const enabledAt = NOW + 600_000;
      await store.write("updateWebhook", { id: "p", patch: { state: "enabled" }, now: enabledAt });
      assert.deepEqual(await states("e1"), ["p:pending", "q:pending"]);
      const [pDelivery] = (await store.read("getEvent", { id: "e1" }))!.deliveries;
      const [claimed] = await store.write("claimDeliveries", {
        ids: [pDelivery!.id],
        owner: "me",
        now: enabledAt,
        leaseUntil: enabledAt + 60_000,
      });
      assert.equal(claimed?.scheduleStartedAt, NOW + 600_000, "a hold spends no max_age");
      await store.write("releaseDeliveries", {
        ids: [pDelivery!.id],
        owner: "me",
        state: "pending",
        now: enabledAt,
      });

      const disabled = await store.write("updateWebhook", {
        id: "p",
        patch: { state: "disabled", disabledReason: "maintenance" },
        now: enabledAt + 1,
      });
      assert.equal(disabled?.disabledAt, enabledAt + 1);
      assert.equal(disabled?.disabledReason, "maintenance");
      assert.deepEqual(await states("e1"), ["p:held", "q:pending"]);
      assert.equal(await store.write("deleteWebhook", { id: "q", now: NOW + 3 }), true);
      assert.deepEqual(await states("e1"), ["p:held", "q:cancelled"]);
      assert.equal(await store.read("getWebhook", { id: "q" }), null);
      assert.equal(await store.write("deleteWebhook", { id: "q", now: NOW + 4 }), false);

      // A disabled webhook receives nothing new; a deleted one is gone from fan-out.
      await store.write("ingest", { events: [event("x", { id: "e2" })], now: NOW + 5 });
      assert.deepEqual(await states("e2"), []);

      // Dropping what it holds is an explicit act.
      assert.equal(await store.write("cancelHeldDeliveries", { webhookId: "p", now: NOW + 6 }), 1);
      assert.deepEqual(await states("e1"), ["p:cancelled", "q:cancelled"]);
      assert.equal(
        await store.write("cancelHeldDeliveries", { webhookId: "q", now: NOW + 6 }),
        null,
      );
      const enabled = await store.write("updateWebhook", {
        id: "p",
        patch: { state: "enabled" },
        now: NOW + 7,
      });
      assert.equal(enabled?.disabledAt, null);
      assert.equal(enabled?.disabledReason, null);
      assert.deepEqual(await states("e1"), ["p:cancelled", "q:cancelled"]);
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract("data survives closing and reopening the store", async (openStore) => {
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

contract(
  "attempts recorded together move only the deliveries their sender still holds",
  async (openStore) => {
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
      // The late result would disable its webhook at once; being history only, it counts nothing.
      const gone = {
        webhookId: "w",
        kind: "ended" as const,
        at: NOW,
        problem: "HTTP 410",
        disablingStatus: 410,
        rules: { failingForMs: null, exhaustedInRow: null },
      };
      const recorded = await Promise.all([
        store.write("recordAttempt", { attempt: attempt(ids[0]!), owner: "me", verdict, now: NOW }),
        store.write("recordAttempt", {
          attempt: attempt(ids[1]!),
          owner: "other",
          verdict,
          now: NOW,
          health: gone,
        }),
      ]);
      assert.deepEqual(recorded, [
        { moved: true, autoDisabled: null, recovered: false, unparked: null },
        { moved: false, autoDisabled: null, recovered: false, unparked: null },
      ]);
      assert.equal((await store.read("getWebhook", { id: "w" }))?.state, "enabled");
      const states = (await store.read("getEvent", { id: "e1" }))!.deliveries.map((d) => d.state);
      assert.deepEqual(states, ["succeeded"]);
      const second = await store.read("getDelivery", { id: ids[1]! });
      assert.equal(second!.delivery.state, "sending");
      assert.equal(second!.attempts.length, 1, "the late result is kept as history");
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract(
  "fan-out sees webhooks another store on the database wrote, at its next write",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const a = await openStore(url);
    const b = await openStore(url);
    const deliveredTo = async (store: Store, id: string) => {
      const [result] = await store.write("ingest", {
        events: [event("order.paid", { id })],
        now: NOW,
      });
      return result?.status === "created" ? result.deliveries.map((d) => d.webhookId) : [];
    };
    try {
      assert.deepEqual(await deliveredTo(b, "e0"), []);
      await a.write("insertWebhook", { webhook: webhook("w1", ["order.*"]) });
      assert.deepEqual(await deliveredTo(b, "e1"), ["w1"], "B fans out to A's new webhook");
      await a.write("updateWebhook", { id: "w1", patch: { eventTypes: ["user.*"] }, now: NOW + 1 });
      assert.deepEqual(await deliveredTo(b, "e2"), [], "B sees A's change of subscription");
      await a.write("updateWebhook", { id: "w1", patch: { eventTypes: ["*"] }, now: NOW + 2 });
      await a.write("deleteWebhook", { id: "w1", now: NOW + 3 });
      assert.deepEqual(await deliveredTo(b, "e3"), [], "B sees A's delete");
    } finally {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract(
  "the main thread's view follows every webhook and credential write, from any store",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      const credential = {
        id: "c1",
        name: "shared",
        secret: "whsec_one",
        previousSecret: null,
        previousSecretUntil: null,
        headers: {},
        receiverAuth: null,
        createdAt: NOW,
        updatedAt: NOW,
      };
      await a.write("insertCredential", { credential });
      await a.write("insertWebhook", { webhook: webhook("w1", ["*"], { credentialId: "c1" }) });
      assert.equal(
        a.webhooks.get("w1")?.credentialId,
        "c1",
        "A's own write is in A's view at once",
      );
      assert.equal(a.webhooks.credential("c1")?.secret, "whsec_one");
      assert.equal(b.webhooks.get("w1"), undefined, "B has not written since");

      await b.write("probeWrite", { now: NOW });
      assert.equal(b.webhooks.get("w1")?.url, webhook("w1", ["*"]).url);
      const version = b.webhooks.version;
      await b.write("probeWrite", { now: NOW + 1 });
      assert.equal(b.webhooks.version, version, "no change, no reload");

      await a.write("rotateCredentialSecret", {
        id: "c1",
        secret: "whsec_two",
        previousUntil: NOW + 60_000,
        now: NOW + 2,
      });
      await a.write("updateWebhook", { id: "w1", patch: { state: "paused" }, now: NOW + 3 });
      await b.write("probeWrite", { now: NOW + 4 });
      assert.equal(b.webhooks.credential("c1")?.secret, "whsec_two");
      assert.equal(b.webhooks.get("w1")?.state, "paused");
      assert.ok(b.webhooks.version > version);
    } finally {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract(
  "a claim holds what another store paused or disabled and cancels what it deleted",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      for (const id of ["paused", "disabled", "deleted", "enabled"]) {
        await a.write("insertWebhook", { webhook: webhook(id, [`${id}.x`]) });
      }
      const ids: string[] = [];
      for (const id of ["paused", "disabled", "deleted", "enabled"]) {
        const [result] = await b.write("ingest", { events: [event(`${id}.x`)], now: NOW });
        assert.equal(result?.status, "created");
        if (result?.status === "created") ids.push(result.deliveries[0]!.id);
      }
      await a.write("updateWebhook", { id: "paused", patch: { state: "paused" }, now: NOW + 1 });
      await a.write("deleteWebhook", { id: "deleted", now: NOW + 1 });
      // Straight in SQL, as an older build or another tool might: the triggers still see it.
      const sql = createClient({ url });
      await sql.execute("UPDATE webhooks SET state = 'disabled' WHERE id = 'disabled'");
      sql.close();

      const claimed = await b.write("claimDeliveries", {
        ids,
        owner: "b",
        now: NOW + 2,
        leaseUntil: NOW + 60_000,
      });
      assert.deepEqual(claimed.map((c) => c.webhookId), ["enabled"]);
      const states = [];
      for (const id of ids) states.push((await b.read("getDelivery", { id }))!.delivery.state);
      // Pausing held the pending one itself; the claim held the one whose webhook was
      // disabled behind the API's back; deleting had cancelled the other.
      assert.deepEqual(states, ["held", "held", "cancelled", "sending"]);
    } finally {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract(
  "webhook stats count each webhook's attempts in the window, newest attempt last",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const store = await openStore(url);
    try {
      for (const id of ["w1", "w2", "quiet"]) {
        await store.write("insertWebhook", { webhook: webhook(id, [id]) });
      }
      const lease = { owner: "me", until: NOW + 3_600_000 };
      const deliveryOf = async (type: string, id: string) => {
        const [result] = await store.write("ingest", {
          events: [event(type, { id })],
          now: NOW,
          lease,
        });
        return result?.status === "created" ? result.deliveries[0]!.id : "";
      };
      const [d1, d2, d3] = [
        await deliveryOf("w1", "e1"),
        await deliveryOf("w1", "e2"),
        await deliveryOf("w2", "e3"),
      ];
      // Whether the delivery moves does not matter here: every attempt is kept as history.
      const retry = {
        state: "pending" as const,
        nextAttemptAt: NOW + 3_600_000,
        scheduleAttempts: 1,
      };
      // Attempt ids are UUIDv7 of their start, as the dispatcher makes them (spelled out here:
      // `uuidv7` never goes back in time within a process, and this test does).
      let made = 0;
      const attemptId = (at: number) =>
        `${uuidv7Floor(at)}-7000-8000-${String(++made).padStart(12, "0")}`;
      const record = (deliveryId: string, at: number, extra = {}) =>
        store.write("recordAttempt", {
          attempt: attemptFixture(attemptId(at), deliveryId, at, extra),
          owner: "me",
          verdict: retry,
          now: at,
        });
      const failed = { responseStatus: 503, errorKind: "status", errorMessage: "HTTP 503" };
      await record(d1!, NOW - 2 * 3_600_000, failed); // before the window: not counted
      await record(d1!, NOW + 1_000);
      await record(d2!, NOW + 2_000, failed);
      await record(d1!, NOW + 3_000, { responseStatus: null, errorKind: "timeout" });
      await record(d3!, NOW + 4_000);

      const window = await store.read("webhookStats", { since: NOW, maxAttempts: 100 });
      assert.equal(window.complete, true);
      assert.equal(window.since, NOW);
      assert.deepEqual(window.webhooks, [
        {
          webhookId: "w2",
          attempts: 1,
          succeeded: 1,
          failed: 0,
          lastStatus: 200,
          lastErrorKind: null,
          lastAttemptAt: NOW + 4_000,
        },
        {
          webhookId: "w1",
          attempts: 3,
          succeeded: 1,
          failed: 2,
          lastStatus: null,
          lastErrorKind: "timeout",
          lastAttemptAt: NOW + 3_000,
        },
      ]);

      // Bounded: only the newest attempts count, and the answer says from when.
      const cut = await store.read("webhookStats", { since: NOW, maxAttempts: 2 });
      assert.equal(cut.complete, false);
      assert.equal(cut.since, NOW + 3_000);
      assert.deepEqual(cut.webhooks.map((w) => [w.webhookId, w.attempts]), [["w2", 1], ["w1", 1]]);
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract(
  "an erased event's id and key stay refused after retention removed its row",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const store = await openStore(url);
    try {
      const ingest = async (extra: Partial<NewEvent>) =>
        (await store.write("ingest", { events: [event("user.created", extra)], now: NOW }))[0]!;
      assert.equal((await ingest({ id: "e1", idempotencyKey: "k1" })).status, "created");
      const erased = await store.write("eraseEvent", { id: "e1", now: NOW + 1 });
      assert.deepEqual(erased, { status: "erased", erasedAt: NOW + 1, fresh: true, cancelled: 0 });
      assert.deepEqual(await ingest({ id: "e1" }), {
        status: "erased",
        eventId: "e1",
        erasedAt: NOW + 1,
      });
      // Retention removes the row (no deliveries); the tombstone's trigger still refuses both.
      const purged = await store.write("purgeEvents", { before: NOW + 10, limit: 100 });
      assert.equal(purged.deleted, 1);
      assert.equal(await store.read("getEvent", { id: "e1" }), null);
      assert.equal((await ingest({ id: "e1" })).status, "erased");
      assert.equal((await ingest({ id: "e2", idempotencyKey: "k1" })).status, "erased");
      assert.equal((await ingest({ id: "e2" })).status, "created");
      assert.equal(await store.read("eventErasedAt", { id: "e1" }), NOW + 1);
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract(
  "recover pages through a window and creates each missing delivery once",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const store = await openStore(url);
    try {
      await store.write("insertWebhook", {
        webhook: webhook("w1", ["a.*"], { state: "disabled" }),
      });
      const events = Array.from({ length: 7 }, (_, i) => event(i % 2 === 0 ? "a.x" : "b.x"));
      await store.write("ingest", { events, now: NOW });
      const page = (after?: { receivedAt: number; id: string }) =>
        store.write("recoverEvents", {
          webhookId: "w1",
          since: NOW,
          until: NOW + 1,
          after,
          limit: 3,
          now: NOW + 5,
        });
      const results = [];
      let next: { receivedAt: number; id: string } | undefined;
      do {
        const result = (await page(next))!;
        results.push(result.created);
        next = result.next;
      } while (next !== undefined);
      assert.deepEqual(results, [2, 1, 1, 0].slice(0, results.length));
      assert.equal(results.reduce((a, b) => a + b, 0), 4);
      // Disabled: held until it is enabled. A second pass creates nothing.
      const listed = await store.read("listDeliveries", {
        filter: { webhookId: "w1" },
        page: { limit: 10 },
      });
      assert.deepEqual(listed.items.map((d) => d.state), ["held", "held", "held", "held"]);
      assert.deepEqual({ ...(await page())!, next: undefined }, {
        created: 0,
        skipped: 2,
        scanned: 3,
        next: undefined,
      });
      assert.equal(
        await store.write("recoverEvents", {
          webhookId: "nope",
          since: NOW,
          until: NOW + 1,
          limit: 3,
          now: NOW,
        }),
        null,
      );
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

contract(
  "receiver auth round-trips; a token one store saved is read by another, newest wins, and a change of auth forgets it",
  async (openStore) => {
    const { url, dir } = await tempUrl();
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      const oauth2 = {
        kind: "oauth2" as const,
        tokenUrl: "https://auth.example/token",
        clientId: "client",
        clientSecret: "client-secret",
        scope: "hooks:write",
        audience: null,
        authMethod: "client_secret_basic" as const,
      };
      await a.write("insertWebhook", { webhook: webhook("w1", ["*"], { receiverAuth: oauth2 }) });
      assert.deepEqual((await b.read("getWebhook", { id: "w1" }))?.receiverAuth, oauth2);
      await b.write("probeWrite", { now: NOW });
      assert.deepEqual(b.webhooks.get("w1")?.receiverAuth, oauth2, "the view carries it");

      const owner = "webhook:w1";
      const token = {
        owner,
        fingerprint: "f1",
        accessToken: "t1",
        fetchedAt: NOW,
        refreshAt: NOW + 9,
      };
      await a.write("putReceiverToken", { token });
      assert.deepEqual(await b.read("getReceiverToken", { owner }), token);
      // A token fetched earlier (a slower daemon) does not replace a newer one.
      await b.write("putReceiverToken", {
        token: { ...token, accessToken: "t0", fetchedAt: NOW - 1 },
      });
      assert.equal((await a.read("getReceiverToken", { owner }))?.accessToken, "t1");
      await b.write("putReceiverToken", {
        token: { ...token, accessToken: "t2", fetchedAt: NOW + 1 },
      });
      assert.equal((await a.read("getReceiverToken", { owner }))?.accessToken, "t2");

      await a.write("updateWebhook", {
        id: "w1",
        patch: { receiverAuth: { kind: "basic", username: "u", password: "p" } },
        now: NOW + 2,
      });
      assert.equal(await b.read("getReceiverToken", { owner }), null);
      await a.write("putReceiverToken", { token });
      await a.write("deleteWebhook", { id: "w1", now: NOW + 3 });
      assert.equal(await b.read("getReceiverToken", { owner }), null);
    } finally {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
