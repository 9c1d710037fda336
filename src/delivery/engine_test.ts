import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { systemClock } from "../clock.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { type Reply, startReceiver } from "../testing/receiver.ts";
import { selfSignedCert } from "../testing/self_signed_cert.ts";

const ONCE = `
[policies.once]
timeout = "300ms"
schedule = ["0s"]
on_exhausted = "failed"

# For receivers that answer slowly or at length but well within their deadline: a loaded CI
# machine must not turn 90 ms of trickling into a timeout.
[policies.patient]
timeout = "10s"
schedule = ["0s"]
on_exhausted = "failed"

[policies.twice]
timeout = "300ms"
schedule = ["0s", "100ms"]
jitter = 0
on_exhausted = "dead"
`;

const TERMINAL = new Set(["succeeded", "failed", "dead", "cancelled"]);

Deno.test("each receiver behaviour lands in the right state with the right error kind", async () => {
  await using receiver = await startReceiver();
  const replies: Record<string, Reply> = {
    ok200: { status: 200, body: "thanks" },
    ok204: { status: 204 },
    err500: { status: 500, body: "boom" },
    moved302: { status: 302, headers: { location: `${receiver.url}/elsewhere` } },
    gone404: { status: 404 },
    hang: { kind: "hang" },
    reset: { kind: "reset" },
    slow: { kind: "slow", chunks: ["a", "b", "c"], delayMs: 30 },
    endless: { kind: "endless" },
  };
  receiver.respond((request) => replies[request.path.slice(1)] ?? { status: 418 });
  const expected: Record<string, [string, number | null, string | null]> = {
    ok200: ["succeeded", 200, null],
    ok204: ["succeeded", 204, null],
    err500: ["failed", 500, "status"],
    moved302: ["failed", 302, "redirect"],
    gone404: ["failed", 404, "status"],
    hang: ["failed", null, "timeout"],
    reset: ["failed", null, "reset"],
    slow: ["succeeded", 200, null],
    endless: ["succeeded", 200, null],
  };

  await withEngine({ clock: systemClock, configToml: ONCE }, async (h) => {
    const hooks: Record<string, { id: string; secret: string }> = {};
    for (const name of Object.keys(replies)) {
      const res = await h.api("POST", "/api/v1/webhooks", {
        url: `${receiver.url}/${name}`,
        event_types: [`test.${name}`],
        policy: name === "slow" || name === "endless" ? "patient" : "once",
      });
      assert.equal(res.status, 201);
      hooks[name] = res.body;
    }
    const deliveries: Record<string, string> = {};
    for (const name of Object.keys(replies)) {
      const res = await h.api("POST", "/api/v1/events", {
        id: `evt_${name}`,
        type: `test.${name}`,
        data: { scenario: name },
      });
      assert.equal(res.status, 202);
      deliveries[name] = res.body.deliveries[0].id;
    }
    const final: Record<
      string,
      { state: string; last_status: number | null; attempts: Record<string, unknown>[] }
    > = {};
    await h.until(async () => {
      for (const [name, id] of Object.entries(deliveries)) {
        const res = await h.api("GET", `/api/v1/deliveries/${id}`);
        final[name] = res.body;
      }
      return Object.values(final).every((d) => TERMINAL.has(d.state));
    });

    for (const [name, [state, status, kind]] of Object.entries(expected)) {
      const delivery = final[name]!;
      assert.equal(delivery.state, state, name);
      assert.equal(delivery.attempts.length, 1, name);
      const attempt = delivery.attempts[0]!;
      assert.equal(attempt.response_status, status, name);
      assert.equal(attempt.error_kind, kind, name);
      assert.equal(attempt.number, 1, name);
      assert.equal(attempt.trigger, "scheduled", name);
      if (kind !== null) assert.equal(typeof attempt.error_message, "string", name);
    }
    assert.equal(final.ok200!.attempts[0]!.response_body, "thanks");
    assert.equal(final.slow!.attempts[0]!.response_body, "abc");
    assert.equal((final.endless!.attempts[0]!.response_body as string).length, 4096);
    // The redirect was not followed.
    assert.ok(!receiver.requests.some((r) => r.path === "/elsewhere"));

    // What the receiver got: the data as posted, Standard Webhooks headers that verify.
    const request = receiver.requests.find((r) => r.path === "/ok200")!;
    assert.equal(request.method, "POST");
    assert.equal(request.body, '{"scenario":"ok200"}');
    assert.equal(request.headers["content-type"], "application/json");
    assert.match(request.headers["user-agent"]!, /^hookd\/\d+\.\d+\.\d+$/);
    assert.equal(request.headers["webhook-id"], "evt_ok200");
    const payload = new Webhook(hooks.ok200!.secret).verify(request.body, {
      "webhook-id": request.headers["webhook-id"]!,
      "webhook-timestamp": request.headers["webhook-timestamp"]!,
      "webhook-signature": request.headers["webhook-signature"]!,
    });
    assert.deepEqual(payload, { scenario: "ok200" });
    // The attempt log shows the headers sent.
    const logged = final.ok200!.attempts[0]!.request_headers as Record<string, string>;
    assert.equal(logged["webhook-id"], "evt_ok200");
    assert.equal(logged["webhook-signature"], request.headers["webhook-signature"]);
  });
});

Deno.test("a failed attempt is retried with the same delivery id and a new attempt id", async () => {
  await using receiver = await startReceiver();
  receiver.script([{ status: 503 }, { status: 200 }]);
  await withEngine({ clock: systemClock, configToml: ONCE }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: `${receiver.url}/x`, policy: "twice" });
    const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: 1 });
    const id = event.body.deliveries[0].id;
    let delivery: {
      state: string;
      attempt_count: number;
      attempts: { id: string; number: number; response_status: number }[];
    } | undefined;
    await h.until(async () => {
      delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
      return delivery!.state === "succeeded";
    });
    assert.equal(delivery!.attempt_count, 2);
    assert.deepEqual(delivery!.attempts.map((a) => [a.number, a.response_status]), [[1, 503], [
      2,
      200,
    ]]);
    assert.notEqual(delivery!.attempts[0]!.id, delivery!.attempts[1]!.id);
    const [first, second] = receiver.requests;
    assert.equal(first!.headers["webhook-id"], second!.headers["webhook-id"]);
    assert.ok(second!.receivedAt >= first!.receivedAt);
  });
});

Deno.test("deleting a webhook cancels its pending retries; a late result changes nothing", async () => {
  await using receiver = await startReceiver();
  const release = Promise.withResolvers<void>();
  receiver.respond(async () => {
    await release.promise;
    return { status: 500 };
  });
  await withEngine({
    clock: systemClock,
    configToml: ONCE.replace(
      'timeout = "300ms"\nschedule = ["0s", "100ms"]',
      'timeout = "5s"\nschedule = ["0s", "100ms"]',
    ),
  }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/x`,
      policy: "twice",
    });
    const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: 1 });
    const id = event.body.deliveries[0].id;
    await receiver.waitForRequests(1);
    assert.equal((await h.api("DELETE", `/api/v1/webhooks/${hook.body.id}`)).status, 204);
    release.resolve();
    await h.until(async () =>
      (await h.api("GET", `/api/v1/deliveries/${id}`)).body.attempts.length === 1
    );
    await h.settle();
    const delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
    assert.equal(delivery.state, "cancelled");
    assert.equal(delivery.attempts[0].response_status, 500);
    assert.equal(receiver.requests.length, 1);
  });
});

Deno.test("per-webhook in-flight caps and the global concurrency limit hold", async () => {
  await using receiver = await startReceiver();
  const now = new Map<string, number>();
  const peak = new Map<string, number>();
  let total = 0;
  let totalPeak = 0;
  receiver.respond(async (request) => {
    const hook = request.path;
    now.set(hook, (now.get(hook) ?? 0) + 1);
    peak.set(hook, Math.max(peak.get(hook) ?? 0, now.get(hook)!));
    totalPeak = Math.max(totalPeak, ++total);
    await new Promise((resolve) => setTimeout(resolve, 20));
    now.set(hook, now.get(hook)! - 1);
    total--;
    return { status: 200 };
  });
  await withEngine(
    { clock: systemClock, env: { HOOKD_DELIVERY_CONCURRENCY: "3" } },
    async (h) => {
      await h.api("POST", "/api/v1/webhooks", { url: `${receiver.url}/capped`, max_in_flight: 2 });
      await h.api("POST", "/api/v1/webhooks", { url: `${receiver.url}/free` });
      const events = Array.from({ length: 12 }, (_, i) => ({ type: "t", data: i }));
      assert.equal((await h.api("POST", "/api/v1/events/batch", { events })).status, 202);
      await receiver.waitForRequests(24, 10_000);
      assert.equal(peak.get("/capped"), 2);
      assert.equal(totalPeak, 3);
    },
  );
});

Deno.test("a credential signs for every webhook that uses it; a null secret sends unsigned", async () => {
  await using receiver = await startReceiver();
  await withEngine({ clock: systemClock }, async (h) => {
    const credential = await h.api("POST", "/api/v1/credentials", {
      name: "shared",
      headers: { "X-Api-Key": "receiver-key" },
    });
    for (const path of ["a", "b"]) {
      await h.api("POST", "/api/v1/webhooks", {
        url: `${receiver.url}/${path}`,
        event_types: ["signed"],
        credential_id: credential.body.id,
      });
    }
    await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/unsigned`,
      event_types: ["plain"],
      secret: null,
    });
    await h.api("POST", "/api/v1/events", { id: "evt_s", type: "signed", data: { x: 1 } });
    await h.api("POST", "/api/v1/events", { id: "evt_p", type: "plain", data: { x: 2 } });
    const requests = await receiver.waitForRequests(3);
    for (const path of ["/a", "/b"]) {
      const r = requests.find((q) => q.path === path)!;
      assert.equal(r.headers["x-api-key"], "receiver-key");
      new Webhook(credential.body.secret).verify(r.body, {
        "webhook-id": r.headers["webhook-id"]!,
        "webhook-timestamp": r.headers["webhook-timestamp"]!,
        "webhook-signature": r.headers["webhook-signature"]!,
      });
    }
    const plain = requests.find((q) => q.path === "/unsigned")!;
    assert.equal(plain.headers["webhook-signature"], undefined);
    assert.equal(plain.body, '{"x":2}');
    // The attempt log never shows the credential's header value.
    await h.until(async () => {
      const list = await h.api("GET", `/api/v1/events/evt_s`);
      return list.body.deliveries.every((d: { state: string }) => d.state === "succeeded");
    });
    const event = await h.api("GET", "/api/v1/events/evt_s");
    const delivery = await h.api("GET", `/api/v1/deliveries/${event.body.deliveries[0].id}`);
    assert.equal(delivery.body.attempts[0].request_headers["X-Api-Key"], "[redacted]");
  });
});

Deno.test("a webhook's own CA certificates let it reach a receiver the system does not trust", async () => {
  const pair = await selfSignedCert(["127.0.0.1"]);
  if (!pair) return; // no openssl here: nothing to test with
  await using receiver = await startReceiver({ tls: pair });
  await withEngine({ clock: systemClock, configToml: ONCE }, async (h) => {
    const untrusted = await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/untrusted`,
      event_types: ["u"],
      policy: "once",
    });
    const trusted = await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/trusted`,
      event_types: ["t"],
      policy: "once",
      tls: { ca_certs: [pair.cert] },
    });
    assert.equal(trusted.status, 201);
    assert.deepEqual(trusted.body.tls, {
      ca_certs: [pair.cert],
      client_cert: null,
      client_key: null,
    });
    assert.equal(untrusted.body.tls, null);
    const ids: string[] = [];
    for (const type of ["u", "t"]) {
      const event = await h.api("POST", "/api/v1/events", { type, data: { type } });
      ids.push(event.body.deliveries[0].id);
    }
    const final: { state: string; attempts: { error_kind: string | null }[] }[] = [];
    await h.until(async () => {
      final.length = 0;
      for (const id of ids) final.push((await h.api("GET", `/api/v1/deliveries/${id}`)).body);
      return final.every((d) => TERMINAL.has(d.state));
    });
    assert.equal(final[0]!.state, "failed");
    assert.equal(final[0]!.attempts[0]!.error_kind, "tls");
    assert.equal(final[1]!.state, "succeeded");
    assert.deepEqual(receiver.requests.map((r) => r.path), ["/trusted"]);
  });
});
