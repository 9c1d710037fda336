import assert from "node:assert/strict";
import { type Json, recordAttempts, withApi } from "../testing/api_harness.ts";

const SECRET_ATTEMPT = {
  requestHeaders: { "x-signature": "v1,secret-signature", "x-customer": "alice@example.com" },
  responseHeaders: { "set-cookie": "session=alice" },
  responseBody: "hello alice@example.com",
};

Deno.test("erasure removes the data, cancels what could send it, and refuses the id for good", async () => {
  await withApi(async (api) => {
    const ok = async (method: string, path: string, status: number, body?: unknown) => {
      const res = await api.json(method, path, { body });
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const live = await ok("POST", "/api/v1/webhooks", 201, {
      url: "https://example.com/live",
      event_types: ["user.*"],
    });
    const paused = await ok("POST", "/api/v1/webhooks", 201, {
      url: "https://example.com/paused",
      event_types: ["user.*"],
      state: "paused",
    });
    const accepted = (await api.json("POST", "/api/v1/events", {
      body: { id: "u1", type: "user.created", data: { email: "alice@example.com" } },
      headers: { "idempotency-key": "signup-alice" },
    })).body;
    const toLive = accepted.deliveries.find((d: Json) => d.webhook_id === live.id).id;
    const toPaused = accepted.deliveries.find((d: Json) => d.webhook_id === paused.id).id;
    await recordAttempts(api.store, api.clock, [toLive], {
      state: "pending",
      nextAttemptAt: api.clock.now() + 60_000,
    }, SECRET_ATTEMPT);
    // Another event that succeeded: its delivery keeps its state, and cannot be resent.
    const done = (await api.json("POST", "/api/v1/events", {
      body: { id: "u2", type: "user.updated", data: { email: "alice@example.com" } },
    })).body;
    const doneLive = done.deliveries.find((d: Json) => d.webhook_id === live.id).id;
    await recordAttempts(api.store, api.clock, [doneLive], { state: "succeeded" }, SECRET_ATTEMPT);

    api.clock.advance(1_000);
    const erasedAt = new Date(api.clock.now()).toISOString();
    assert.deepEqual(await ok("DELETE", "/api/v1/events/u1", 200), {
      id: "u1",
      erased_at: erasedAt,
      cancelled: 2,
    });
    // The paused webhook's held delivery of it is cancelled; the succeeded one stays succeeded.
    assert.equal((await ok("DELETE", "/api/v1/events/u2", 200)).cancelled, 1);

    // Read the rows back: no payload, no headers, no bodies; nothing left to send.
    const stored = await api.store.read("getEvent", { id: "u1" });
    assert.equal(stored!.event.payload, "null");
    assert.deepEqual(stored!.deliveries.map((d) => d.state), ["cancelled", "cancelled"]);
    for (const id of [toLive, toPaused, doneLive]) {
      const found = await api.store.read("getDelivery", { id });
      for (const attempt of found!.attempts) {
        assert.deepEqual(attempt.requestHeaders, {});
        assert.equal(attempt.responseHeaders, null);
        assert.equal(attempt.responseBody, null);
      }
    }
    assert.equal(
      (await api.store.read("getDelivery", { id: doneLive }))!.delivery.state,
      "succeeded",
    );
    const retry = await ok("POST", `/api/v1/deliveries/${doneLive}/retry`, 409);
    assert.match(retry.error.message, /its event was erased/);
    await ok("POST", `/api/v1/deliveries/${toLive}/retry`, 409);
    assert.equal(
      (await api.store.read("dueDeliveries", {
        until: api.clock.now() + 86_400_000,
        now: api.clock.now(),
        limit: 10,
      })).length,
      0,
    );

    // It says it was erased, and when; the id and the key are refused from now on.
    const gone = await ok("GET", "/api/v1/events/u1", 410);
    assert.deepEqual(gone.error.details, { event_id: "u1", erased_at: erasedAt });
    const sameId = await ok("POST", "/api/v1/events", 410, {
      id: "u1",
      type: "user.created",
      data: { email: "alice@example.com" },
    });
    assert.match(sameId.error.message, /was erased .* never accepted again/);
    const sameKey = await api.json("POST", "/api/v1/events", {
      body: { type: "user.created", data: { email: "alice@example.com" } },
      headers: { "idempotency-key": "signup-alice" },
    });
    assert.equal(sameKey.status, 410);
    const batch = await ok("POST", "/api/v1/events/batch", 202, {
      events: [{ id: "u1", type: "user.created", data: {} }, {
        id: "u3",
        type: "user.created",
        data: {},
      }],
    });
    assert.deepEqual(batch.data.map((r: Json) => r.status), ["erased", "created"]);

    // Idempotent, and only for events that exist.
    assert.deepEqual(await ok("DELETE", "/api/v1/events/u1", 200), {
      id: "u1",
      erased_at: erasedAt,
      cancelled: 0,
    });
    await ok("DELETE", "/api/v1/events/nope", 404);
    await ok("GET", "/api/v1/events/nope", 404);

    // Its own scope: replaying deliveries does not allow erasing events.
    const replayer = await ok("POST", "/api/v1/keys", 201, {
      name: "replayer",
      scopes: ["deliveries:replay", "deliveries:read"],
    });
    const refused = await api.json("DELETE", "/api/v1/events/u3", { key: replayer.key });
    assert.equal(refused.status, 403);
  });
});

Deno.test("an attempt in flight during the erasure is recorded without its data", async () => {
  await withApi(async (api) => {
    await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/h", event_types: ["*"] },
    });
    const accepted = (await api.json("POST", "/api/v1/events", {
      body: { id: "e1", type: "x", data: { secret: 1 } },
    })).body;
    const now = api.clock.now();
    const [claimed] = await api.store.write("claimDeliveries", {
      ids: [accepted.deliveries[0].id],
      owner: "daemon-a",
      now,
      leaseUntil: now + 60_000,
    });
    await api.store.write("eraseEvent", { id: "e1", now });
    const recorded = await api.store.write("recordAttempt", {
      attempt: {
        id: "late-attempt",
        deliveryId: claimed!.id,
        number: 1,
        trigger: "scheduled",
        startedAt: now,
        durationMs: 5,
        responseStatus: 200,
        errorKind: null,
        errorMessage: null,
        ...SECRET_ATTEMPT,
      },
      owner: "daemon-a",
      verdict: { state: "succeeded", nextAttemptAt: null, scheduleAttempts: 1 },
      now,
    });
    assert.equal(recorded.moved, false, "the erasure cancelled it");
    const found = await api.store.read("getDelivery", { id: claimed!.id });
    assert.equal(found!.delivery.state, "cancelled");
    assert.deepEqual(found!.attempts.map((a) => [a.id, a.requestHeaders, a.responseBody]), [
      ["late-attempt", {}, null],
    ]);
  });
});

Deno.test("erasing an ordered event lets the next of its key go", async () => {
  await withApi(async (api) => {
    await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/h", event_types: ["*"], ordering: "key" },
    });
    const post = async (id: string) =>
      (await api.json("POST", "/api/v1/events", {
        body: { id, type: "x", data: {}, ordering_key: "customer-1" },
      })).body.deliveries[0].id as string;
    await post("first");
    const second = await post("second");
    const nextOf = async () =>
      (await api.json("GET", `/api/v1/deliveries/${second}`)).body.next_attempt_at;
    assert.equal(await nextOf(), null, "parked behind the first");
    assert.equal((await api.json("DELETE", "/api/v1/events/first")).status, 200);
    assert.equal(await nextOf(), new Date(api.clock.now()).toISOString());
  });
});
