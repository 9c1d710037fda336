import assert from "node:assert/strict";
import {
  type ApiHarness,
  type Json,
  recordAttempts,
  RecordingTrigger,
  START,
  withApi,
} from "../testing/api_harness.ts";

const HOUR = 60 * 60 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

async function createWebhook(api: ApiHarness): Promise<string> {
  const res = await api.json("POST", "/api/v1/webhooks", {
    body: { url: "https://example.com/hook", event_types: ["*"] },
  });
  assert.equal(res.status, 201);
  return res.body.id;
}

/** Ingests events of `types` in one batch; returns their deliveries in request order. */
async function ingest(
  api: ApiHarness,
  types: string[],
): Promise<{ id: string; webhook_id: string }[]> {
  const res = await api.json("POST", "/api/v1/events/batch", {
    body: { events: types.map((type) => ({ type, data: {} })) },
  });
  assert.equal(res.status, 202);
  return res.body.data.flatMap((event: Json) => event.deliveries);
}

/** Every delivery of `webhook` in `state`, walking all pages. */
async function inState(api: ApiHarness, webhook: string, state: string): Promise<Json[]> {
  const all: Json[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: Json } = await api.json(
      "GET",
      `/api/v1/webhooks/${webhook}/deliveries?state=${state}&limit=1000${
        cursor ? `&cursor=${cursor}` : ""
      }`,
    );
    assert.equal(res.status, 200);
    all.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return all;
}

async function deadIds(api: ApiHarness, query = ""): Promise<string[]> {
  const res = await api.json("GET", `/api/v1/dead-letters${query}`);
  assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.next_cursor, null);
  return res.body.data.map((d: { id: string }) => d.id);
}

/**
 * Two webhooks; at START, +1 h and +2 h one `order.created` and one
 * `invoice.paid` event each. Everything dies except the `invoice.paid`
 * deliveries of the last hour, which stay pending.
 */
async function scenario(api: ApiHarness) {
  const a = await createWebhook(api);
  const b = await createWebhook(api);
  const all: { id: string; webhook_id: string; type: string; hour: number }[] = [];
  for (let hour = 0; hour < 3; hour++) {
    if (hour > 0) api.clock.advance(HOUR);
    const types = ["order.created", "invoice.paid"];
    const deliveries = await ingest(api, types);
    // Each event fans out to both webhooks, in event order.
    all.push(...deliveries.map((d, i) => ({ ...d, type: types[Math.floor(i / 2)]!, hour })));
  }
  const live = all.filter((d) => d.hour === 2 && d.type === "invoice.paid").map((d) => d.id);
  await recordAttempts(
    api.store,
    api.clock,
    all.map((d) => d.id).filter((id) => !live.includes(id)),
    { state: "dead" },
  );
  const dead = all.filter((d) => !live.includes(d.id)).sort((x, y) => x.id < y.id ? -1 : 1);
  return { a, b, dead, live };
}

Deno.test("dead letters list only dead deliveries, filtered by webhook, type and time", async () => {
  await withApi(async (api) => {
    const { a, b, dead } = await scenario(api);
    const idsWhere = (p: (d: (typeof dead)[number]) => boolean) => dead.filter(p).map((d) => d.id);

    assert.equal(dead.length, 10);
    assert.deepEqual(await deadIds(api), dead.map((d) => d.id));
    assert.deepEqual(await deadIds(api, `?webhook_id=${a}`), idsWhere((d) => d.webhook_id === a));
    assert.equal((await deadIds(api, `?webhook_id=${a}`)).length, 5);
    assert.deepEqual(
      await deadIds(api, "?event_type=invoice.paid"),
      idsWhere((d) => d.type === "invoice.paid"),
    );
    assert.equal((await deadIds(api, "?event_type=invoice.paid")).length, 4);
    assert.deepEqual(
      await deadIds(api, `?webhook_id=${b}&event_type=order.created`),
      idsWhere((d) => d.webhook_id === b && d.type === "order.created"),
    );
    assert.equal((await deadIds(api, `?webhook_id=${b}&event_type=order.created`)).length, 3);
    assert.deepEqual(await deadIds(api, "?webhook_id=nope"), []);

    const since = encodeURIComponent(iso(START + HOUR));
    const until = encodeURIComponent(iso(START + 2 * HOUR));
    const inHours = (hours: number[]) => idsWhere((d) => hours.includes(d.hour));
    assert.deepEqual(await deadIds(api, `?since=${since}`), inHours([1, 2]));
    assert.deepEqual(await deadIds(api, `?until=${until}`), inHours([0, 1]));
    assert.deepEqual(await deadIds(api, `?since=${since}&until=${until}`), inHours([1]));
    assert.equal(inHours([1]).length, 4);

    const paged = await api.json("GET", "/api/v1/dead-letters?limit=4");
    assert.equal(paged.body.data.length, 4);
    const rest = await api.json("GET", `/api/v1/dead-letters?cursor=${paged.body.next_cursor}`);
    assert.deepEqual(
      [...paged.body.data, ...rest.body.data].map((d: Json) => d.id),
      dead.map((d) => d.id),
    );
    assert.ok(rest.body.data.every((d: Json) => d.state === "dead"));

    const bad = await api.json("GET", "/api/v1/dead-letters?state=pending");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^state: is not a query parameter here; allowed: /);
  });
});

Deno.test("replay {} brings back all 1200 dead deliveries in batches and tells the engine", async () => {
  const trigger = new RecordingTrigger();
  await withApi(
    async (api) => {
      const a = await createWebhook(api);
      const b = await createWebhook(api);
      const deliveries = await ingest(api, Array.from({ length: 600 }, () => "order.created"));
      assert.equal(deliveries.length, 1200);
      await recordAttempts(api.store, api.clock, deliveries.map((d) => d.id), { state: "dead" });
      // An event whose deliveries are not dead: they must stay as they are.
      api.clock.advance(1000);
      const live = await ingest(api, ["order.created"]);
      assert.equal((await inState(api, a, "dead")).length, 600);

      api.clock.advance(10 * 60 * 1000);
      const now = api.clock.now();
      const writesBefore = api.store.stats().writes;
      const replayed = await api.json("POST", "/api/v1/dead-letters/replay", { body: {} });
      assert.equal(replayed.status, 200);
      assert.deepEqual(replayed.body, { replayed: 1200 });
      // 500 + 500 + 200, then the empty batch that ends the loop: each its own write.
      assert.equal(api.store.stats().writes - writesBefore, 4);
      assert.equal(trigger.refills, 3);
      assert.deepEqual(trigger.dueCalls, []);

      const liveIds = new Set(live.map((d) => d.id));
      for (const webhook of [a, b]) {
        assert.deepEqual(await inState(api, webhook, "dead"), []);
        const pending = await inState(api, webhook, "pending");
        assert.equal(pending.length, 601);
        const replayedHere = pending.filter((d) => !liveIds.has(d.id));
        assert.deepEqual(
          replayedHere.map((d) => d.id),
          deliveries.filter((d) => d.webhook_id === webhook).map((d) => d.id).sort(),
        );
        for (const d of replayedHere) {
          assert.deepEqual(
            [d.next_attempt_at, d.updated_at, d.attempt_count],
            [iso(now), iso(now), 1],
          );
        }
      }
      // The deliveries that were pending all along were not touched.
      for (const d of live) {
        const untouched = await api.json("GET", `/api/v1/deliveries/${d.id}`);
        assert.equal(untouched.body.state, "pending");
        assert.equal(untouched.body.next_attempt_at, iso(START + 1000));
        assert.equal(untouched.body.updated_at, iso(START + 1000));
      }
      assert.deepEqual(await deadIds(api), []);

      // Nothing left to replay: zero, and no hint to the engine.
      const again = await api.json("POST", "/api/v1/dead-letters/replay", { body: {} });
      assert.deepEqual(again.body, { replayed: 0 });
      assert.equal(trigger.refills, 3);
    },
    "",
    { delivery: trigger },
  );
});

Deno.test("replay with a filter touches only the matching dead deliveries", async () => {
  const trigger = new RecordingTrigger();
  await withApi(
    async (api) => {
      const { a, b, dead } = await scenario(api);
      api.clock.advance(HOUR);
      const now = api.clock.now();
      const replay = async (body: Json) => {
        const res = await api.json("POST", "/api/v1/dead-letters/replay", { body });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body.replayed as number;
      };
      const stillDead = async () => new Set(await deadIds(api));

      assert.equal(await replay({ webhook_id: a, event_type: "invoice.paid" }), 2);
      let remaining = await stillDead();
      const expectedGone = dead.filter((d) => d.webhook_id === a && d.type === "invoice.paid");
      assert.deepEqual(
        dead.filter((d) => !remaining.has(d.id)).map((d) => d.id),
        expectedGone.map((d) => d.id),
      );
      for (const d of expectedGone) {
        const read = await api.json("GET", `/api/v1/deliveries/${d.id}`);
        assert.equal(read.body.state, "pending");
        assert.equal(read.body.next_attempt_at, iso(now));
      }

      // Only b's deliveries created in the second hour: [START+1h, START+2h).
      assert.equal(
        await replay({
          webhook_id: b,
          since: iso(START + HOUR),
          until: "2026-11-23T12:00:00+01:00",
        }),
        2,
      );
      remaining = await stillDead();
      assert.equal(remaining.size, 6);
      assert.deepEqual(
        dead.filter((d) => !remaining.has(d.id)).map((d) => d.id),
        dead.filter((d) =>
          (d.webhook_id === a && d.type === "invoice.paid") || (d.webhook_id === b && d.hour === 1)
        ).map((d) => d.id),
      );

      assert.equal(await replay({ event_type: "no.such.type" }), 0);
      assert.equal((await stillDead()).size, 6);
      assert.equal(await replay({ event_type: "order.created" }), 5);
      // What is left: b's invoice.paid from the first hour.
      assert.deepEqual(
        [...await stillDead()],
        dead.filter((d) => d.webhook_id === b && d.type === "invoice.paid" && d.hour === 0)
          .map((d) => d.id),
      );
      assert.equal(trigger.refills, 3);
    },
    "",
    { delivery: trigger },
  );
});

Deno.test("an invalid replay filter is 400 and replays nothing", async () => {
  const trigger = new RecordingTrigger();
  await withApi(
    async (api) => {
      const { dead } = await scenario(api);
      const table: [unknown, string, RegExp][] = [
        [{ since: "yesterday" }, "since", /RFC 3339/],
        [{ until: "2026-11-23T09:00:00" }, "until", /RFC 3339/],
        [{ since: "2026-11-24T00:00:00Z", until: "2026-11-23T00:00:00Z" }, "since", /after until/],
        [{ webhook_id: 5 }, "webhook_id", /webhook id/],
        [{ webhook_id: "" }, "webhook_id", /empty/],
        [{ event_type: "not a type" }, "event_type", /event type/],
        [{ state: "dead" }, "body", /unknown field "state"/],
        [{ webhook: "x" }, "body", /unknown field "webhook"/],
        [[], "body", /object/],
      ];
      for (const [body, field, message] of table) {
        const res = await api.json("POST", "/api/v1/dead-letters/replay", { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, "validation_failed", JSON.stringify(body));
        assert.equal(res.body.error.details[0].field, field, JSON.stringify(body));
        assert.match(res.body.error.details[0].message, message, JSON.stringify(body));
      }
      const noBody = await api.json("POST", "/api/v1/dead-letters/replay");
      assert.equal(noBody.status, 415);
      assert.deepEqual(await deadIds(api), dead.map((d) => d.id));
      assert.equal(trigger.refills, 0);

      const reader = (await api.json("POST", "/api/v1/keys", {
        body: { name: "reader", scopes: ["deliveries:read"] },
      })).body.key;
      assert.equal((await api.json("GET", "/api/v1/dead-letters", { key: reader })).status, 200);
      const forbidden = await api.json("POST", "/api/v1/dead-letters/replay", {
        key: reader,
        body: {},
      });
      assert.equal(forbidden.status, 403);
      assert.deepEqual(await deadIds(api), dead.map((d) => d.id));
    },
    "",
    { delivery: trigger },
  );
});
