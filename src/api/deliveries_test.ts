import assert from "node:assert/strict";
import {
  type ApiHarness,
  recordAttempts,
  RecordingTrigger,
  START,
  withApi,
} from "../testing/api_harness.ts";

const HOUR = 60 * 60 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

async function createWebhook(api: ApiHarness, eventTypes: string[] = ["*"]): Promise<string> {
  const res = await api.json("POST", "/api/v1/webhooks", {
    body: { url: "https://example.com/hook", event_types: eventTypes },
  });
  assert.equal(res.status, 201);
  return res.body.id;
}

/** Ingests one event; returns its delivery ids by webhook id. */
async function ingest(api: ApiHarness, type: string): Promise<Record<string, string>> {
  const res = await api.json("POST", "/api/v1/events", { body: { type, data: {} } });
  assert.equal(res.status, 202);
  return Object.fromEntries(
    res.body.deliveries.map((d: { id: string; webhook_id: string }) => [d.webhook_id, d.id]),
  );
}

const ids = (body: { data: { id: string }[] }) => body.data.map((d) => d.id);

Deno.test("history: each filter narrows a webhook's deliveries, oldest first", async () => {
  await withApi(async (api) => {
    const hook = await createWebhook(api);
    const other = await createWebhook(api);
    const d1 = (await ingest(api, "order.created"))[hook]!;
    const d2 = (await ingest(api, "invoice.paid"))[hook]!;
    api.clock.advance(HOUR);
    const d3 = (await ingest(api, "order.created"))[hook]!;
    api.clock.advance(HOUR);
    const d4 = (await ingest(api, "order.created"))[hook]!;
    await recordAttempts(api.store, api.clock, [d2], { state: "dead" });

    const get = async (query: string) => {
      const res = await api.json("GET", `/api/v1/webhooks/${hook}/deliveries${query}`);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.next_cursor, null);
      return ids(res.body);
    };
    assert.deepEqual(await get(""), [d1, d2, d3, d4]);
    assert.deepEqual(await get("?state=dead"), [d2]);
    assert.deepEqual(await get("?state=pending"), [d1, d3, d4]);
    assert.deepEqual(await get("?state=succeeded"), []);
    assert.deepEqual(await get("?event_type=order.created"), [d1, d3, d4]);
    assert.deepEqual(await get("?event_type=invoice.paid"), [d2]);
    assert.deepEqual(await get("?event_type=order"), []);
    const hour1 = encodeURIComponent(iso(START + HOUR));
    const hour2 = encodeURIComponent(iso(START + 2 * HOUR));
    assert.deepEqual(await get(`?since=${hour1}`), [d3, d4]);
    // `until` is exclusive.
    assert.deepEqual(await get(`?until=${hour1}`), [d1, d2]);
    assert.deepEqual(await get(`?since=${hour1}&until=${hour2}`), [d3]);
    assert.deepEqual(await get(`?since=${hour1}&until=${hour1}`), []);
    // An offset other than Z means the same instant.
    assert.deepEqual(await get(`?since=${encodeURIComponent("2026-11-23T11:00:00+01:00")}`), [
      d3,
      d4,
    ]);
    assert.deepEqual(
      await get(`?state=pending&event_type=order.created&until=${hour2}`),
      [d1, d3],
    );

    // The other webhook's history holds only its own deliveries.
    const otherHistory = await api.json("GET", `/api/v1/webhooks/${other}/deliveries`);
    assert.equal(otherHistory.body.data.length, 4);
    assert.ok(otherHistory.body.data.every((d: { webhook_id: string }) => d.webhook_id === other));

    const dead = (await api.json("GET", `/api/v1/webhooks/${hook}/deliveries?state=dead`)).body
      .data[0];
    assert.deepEqual(dead, {
      id: d2,
      event_id: dead.event_id,
      event_type: "invoice.paid",
      webhook_id: hook,
      state: "dead",
      attempt_count: 1,
      next_attempt_at: null,
      last_status: 500,
      last_error_kind: "status",
      created_at: iso(START),
      updated_at: iso(START + 2 * HOUR),
      latest_attempt: {
        id: `${d2}-attempt-1`,
        number: 1,
        trigger: "scheduled",
        started_at: iso(START + 2 * HOUR),
        duration_ms: 10,
        request_headers: {},
        response_status: 500,
        response_headers: {},
        response_body: "",
        error_kind: "status",
        error_message: "HTTP 500",
      },
    });
  });
});

Deno.test("history: the latest attempt inline (seed 004), every attempt with include=attempts", async () => {
  await withApi(async (api) => {
    const hook = await createWebhook(api);
    const tried = (await ingest(api, "order.created"))[hook]!;
    const fresh = (await ingest(api, "order.created"))[hook]!;
    await recordAttempts(
      api.store,
      api.clock,
      [tried],
      { state: "pending", nextAttemptAt: START },
      {
        responseStatus: 503,
        errorKind: "status",
        errorMessage: "HTTP 503",
        durationMs: 40,
        requestHeaders: { "webhook-id": "e" },
        responseHeaders: { "retry-after": "1" },
      },
    );
    api.clock.advance(HOUR);
    await recordAttempts(api.store, api.clock, [tried], { state: "succeeded" }, {
      responseStatus: 200,
      errorKind: null,
      errorMessage: null,
      durationMs: 25,
      requestHeaders: { "webhook-id": "e" },
      responseHeaders: { "x-ok": "yes" },
    });
    const history = async (query: string) =>
      (await api.json("GET", `/api/v1/webhooks/${hook}/deliveries${query}`)).body.data;

    const [first, second] = await history("");
    assert.equal(first.id, tried);
    assert.equal(first.attempts, undefined, "all attempts only on request");
    assert.deepEqual(
      {
        number: first.latest_attempt.number,
        status: first.latest_attempt.response_status,
        duration: first.latest_attempt.duration_ms,
        sent: first.latest_attempt.request_headers,
        answered: first.latest_attempt.response_headers,
      },
      {
        number: 2,
        status: 200,
        duration: 25,
        sent: { "webhook-id": "e" },
        answered: { "x-ok": "yes" },
      },
    );
    assert.equal(second.id, fresh);
    assert.equal(second.latest_attempt, null, "not attempted yet");

    const [all] = await history("?include=attempts");
    assert.deepEqual(all.attempts.map((a: { number: number }) => a.number), [1, 2]);
    assert.equal(all.attempts[0].response_status, 503);
    assert.deepEqual(all.latest_attempt, all.attempts[1]);

    const bad = await api.json("GET", `/api/v1/webhooks/${hook}/deliveries?include=everything`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].field, "include");
  });
});

Deno.test("history: invalid filters are 400 naming the field", async () => {
  await withApi(async (api) => {
    const hook = await createWebhook(api);
    const table: [string, string, RegExp][] = [
      ["state=gone", "state", /"pending", "sending", "succeeded", "failed", "dead"/],
      ["event_type=has%20space", "event_type", /event type/],
      ["since=yesterday", "since", /RFC 3339/],
      ["until=2026-02-30T00:00:00Z", "until", /RFC 3339/],
      ["since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "since", /not be after until/],
      ["limit=0", "limit", /1 to 1000/],
      ["cursor=%25%25", "cursor", /cursor/],
      // Unknown query parameters are refused, named as query parameters.
      ["webhook_id=x", "webhook_id", /not a query parameter here; allowed: limit, cursor, state/],
    ];
    for (const [query, field, message] of table) {
      const res = await api.json("GET", `/api/v1/webhooks/${hook}/deliveries?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error.code, "validation_failed", query);
      const problem = res.body.error.details[0];
      assert.equal(problem.field, field, query);
      assert.match(problem.message, message, query);
    }
  });
});

Deno.test("history: pages with limit and cursor; unknown or deleted webhook is 404", async () => {
  await withApi(async (api) => {
    const hook = await createWebhook(api);
    const expected: string[] = [];
    for (let i = 0; i < 5; i++) {
      api.clock.advance(1);
      expected.push((await ingest(api, "a.b"))[hook]!);
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { data: { id: string }[]; next_cursor: string | null } } =
        await api.json(
          "GET",
          `/api/v1/webhooks/${hook}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        );
      assert.equal(res.status, 200);
      sizes.push(res.body.data.length);
      seen.push(...ids(res.body));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.deepEqual(seen, expected);

    const missing = await api.json("GET", "/api/v1/webhooks/nope/deliveries");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, {
      error: { code: "not_found", message: 'No webhook with id "nope"', details: null },
    });
    assert.equal((await api.request("DELETE", `/api/v1/webhooks/${hook}`)).status, 204);
    assert.equal((await api.json("GET", `/api/v1/webhooks/${hook}/deliveries`)).status, 404);
  });
});

Deno.test("a delivery reads back with every attempt, fully rendered", async () => {
  await withApi(async (api) => {
    const hook = await createWebhook(api);
    const id = (await ingest(api, "order.created"))[hook]!;
    const fresh = await api.json("GET", `/api/v1/deliveries/${id}`);
    assert.equal(fresh.status, 200);
    assert.deepEqual(fresh.body.attempts, []);
    assert.equal(fresh.body.state, "pending");

    api.clock.advance(1000);
    await recordAttempts(api.store, api.clock, [id], {
      state: "pending",
      nextAttemptAt: START + 31_000,
    }, {
      id: "att-1",
      durationMs: 5000,
      requestHeaders: { "content-type": "application/json", "webhook-id": id },
      responseStatus: null,
      responseHeaders: null,
      responseBody: null,
      errorKind: "timeout",
      errorMessage: "no response within 5s",
    });
    api.clock.advanceTo(START + 31_000);
    await recordAttempts(api.store, api.clock, [id], { state: "dead" }, {
      id: "att-2",
      durationMs: 42,
      requestHeaders: { "content-type": "application/json" },
      responseStatus: 503,
      responseHeaders: { "retry-after": "120" },
      responseBody: "busy",
      errorKind: "status",
      errorMessage: "HTTP 503",
    });

    const read = await api.json("GET", `/api/v1/deliveries/${id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, {
      id,
      event_id: fresh.body.event_id,
      event_type: "order.created",
      webhook_id: hook,
      state: "dead",
      attempt_count: 2,
      next_attempt_at: null,
      last_status: 503,
      last_error_kind: "status",
      created_at: iso(START),
      updated_at: iso(START + 31_000),
      attempts: [
        {
          id: "att-1",
          number: 1,
          trigger: "scheduled",
          started_at: iso(START + 1000),
          duration_ms: 5000,
          request_headers: { "content-type": "application/json", "webhook-id": id },
          response_status: null,
          response_headers: null,
          response_body: null,
          error_kind: "timeout",
          error_message: "no response within 5s",
        },
        {
          id: "att-2",
          number: 2,
          trigger: "scheduled",
          started_at: iso(START + 31_000),
          duration_ms: 42,
          request_headers: { "content-type": "application/json" },
          response_status: 503,
          response_headers: { "retry-after": "120" },
          response_body: "busy",
          error_kind: "status",
          error_message: "HTTP 503",
        },
      ],
    });

    const missing = await api.json("GET", "/api/v1/deliveries/nope");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, 'No delivery with id "nope"');
  });
});

Deno.test("retry makes a dead delivery due now, as a manual attempt, and tells the engine", async () => {
  const trigger = new RecordingTrigger();
  await withApi(
    async (api) => {
      const hook = await createWebhook(api);
      const id = (await ingest(api, "order.created"))[hook]!;
      await recordAttempts(api.store, api.clock, [id], { state: "dead" });
      api.clock.advance(5 * 60 * 1000);
      const now = api.clock.now();

      const retried = await api.json("POST", `/api/v1/deliveries/${id}/retry`);
      assert.equal(retried.status, 202);
      assert.deepEqual(retried.body, {
        id,
        event_id: retried.body.event_id,
        event_type: "order.created",
        webhook_id: hook,
        state: "pending",
        attempt_count: 1,
        next_attempt_at: iso(now),
        last_status: 500,
        last_error_kind: "status",
        created_at: iso(START),
        updated_at: iso(now),
      });
      assert.deepEqual(trigger.dueCalls, [[{ id, webhookId: hook, dueAt: now }]]);
      assert.equal(trigger.refills, 0);

      // The store agrees, and the engine's next claim sends it as a manual attempt.
      const read = await api.json("GET", `/api/v1/deliveries/${id}`);
      assert.deepEqual({ ...read.body, attempts: undefined }, {
        ...retried.body,
        attempts: undefined,
      });
      const [claimed] = await api.store.write("claimDeliveries", {
        ids: [id],
        owner: "engine",
        now,
        leaseUntil: now + 1000,
      });
      assert.equal(claimed?.trigger, "manual");
    },
    "",
    { delivery: trigger },
  );
});

Deno.test("retry refuses an in-flight or cancelled delivery (409) and a missing one (404)", async () => {
  const trigger = new RecordingTrigger();
  await withApi(
    async (api) => {
      const hook = await createWebhook(api);
      const id = (await ingest(api, "a.b"))[hook]!;
      const now = api.clock.now();
      await api.store.write("claimDeliveries", {
        ids: [id],
        owner: "test",
        now,
        leaseUntil: now + 60_000,
      });

      const sending = await api.json("POST", `/api/v1/deliveries/${id}/retry`);
      assert.equal(sending.status, 409);
      assert.deepEqual(sending.body, {
        error: {
          code: "conflict",
          message: `Cannot retry delivery "${id}": ` +
            "an attempt of this delivery is in flight; retry after it",
          details: {
            delivery_id: id,
            reason: "an attempt of this delivery is in flight; retry after it",
          },
        },
      });
      assert.equal((await api.json("GET", `/api/v1/deliveries/${id}`)).body.state, "sending");

      const missing = await api.json("POST", "/api/v1/deliveries/nope/retry");
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, "not_found");

      const other = await createWebhook(api);
      const pending = (await ingest(api, "a.b"))[other]!;
      assert.equal((await api.request("DELETE", `/api/v1/webhooks/${other}`)).status, 204);
      const cancelled = await api.json("POST", `/api/v1/deliveries/${pending}/retry`);
      assert.equal(cancelled.status, 409);
      assert.match(cancelled.body.error.message, /webhook was deleted/);
      assert.equal(
        (await api.json("GET", `/api/v1/deliveries/${pending}`)).body.state,
        "cancelled",
      );

      assert.deepEqual(trigger.dueCalls, []);
    },
    "",
    { delivery: trigger },
  );
});

Deno.test("reading needs deliveries:read; retrying needs deliveries:replay", async () => {
  await withApi(async (api) => {
    const hook = await createWebhook(api);
    const id = (await ingest(api, "a.b"))[hook]!;
    const reader = (await api.json("POST", "/api/v1/keys", {
      body: { name: "reader", scopes: ["deliveries:read"] },
    })).body.key;
    const producer = (await api.json("POST", "/api/v1/keys", {
      body: { name: "producer", scopes: ["events:write"] },
    })).body.key;
    assert.equal((await api.json("GET", `/api/v1/deliveries/${id}`, { key: reader })).status, 200);
    assert.equal(
      (await api.json("GET", `/api/v1/webhooks/${hook}/deliveries`, { key: reader })).status,
      200,
    );
    const forbidden = await api.json("POST", `/api/v1/deliveries/${id}/retry`, { key: reader });
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body.error.message, /deliveries:replay/);
    assert.equal(
      (await api.json("GET", `/api/v1/deliveries/${id}`, { key: producer })).status,
      403,
    );
    assert.equal((await api.json("GET", `/api/v1/deliveries/${id}`, { key: null })).status, 401);
  });
});
