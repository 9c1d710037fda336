/**
 * Receiver auth end to end: a token endpoint and a receiver on 127.0.0.1,
 * the real sender and SSRF guard, time virtual where renewal is tested.
 */
import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { ScriptedResolver } from "../net/_scripted_resolver.ts";
import { TargetGuard } from "../net/target_guard.ts";
import { START } from "../testing/api_harness.ts";
import { type EngineHarness, withEngine } from "../testing/engine_harness.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { captureLogs } from "../testing/log_capture.ts";
import { type ReceivedRequest, type Receiver, startReceiver } from "../testing/receiver.ts";

const CLIENT_SECRET = "oauth-client-secret-0123456789";
const PASSWORD = "basic-password-0123456789";
const HOUR = 3_600_000;

/** A token endpoint handing out `tok-1`, `tok-2`, ...; answers 500 while `down`. */
async function tokenEndpoint(expiresIn: number | null = 3600, prefix = "tok-") {
  const endpoint = await startReceiver();
  const state = { down: false, issued: 0 };
  endpoint.respond(() => {
    if (state.down) return { status: 500, body: '{"error":"temporarily_unavailable"}' };
    state.issued++;
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        access_token: `${prefix}${state.issued}`,
        token_type: "Bearer",
        ...(expiresIn === null ? {} : { expires_in: expiresIn }),
      }),
    };
  });
  return Object.assign(endpoint, { state });
}

function oauth2(endpoint: Receiver, extra: Record<string, unknown> = {}) {
  return {
    token_url: `${endpoint.url}/token`,
    client_id: "hookd",
    client_secret: CLIENT_SECRET,
    scope: "hooks:write",
    audience: "https://receiver.test",
    ...extra,
  };
}

async function post(h: EngineHarness, type: string, count = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await h.api("POST", "/api/v1/events", { type, data: { i } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ids.push(...res.body.deliveries.map((d: { id: string }) => d.id));
  }
  return ids;
}

const bearer = (request: ReceivedRequest) => request.headers.authorization;

Deno.test("OAuth2: one token for many deliveries, renewed shortly before it expires", async () => {
  await using endpoint = await tokenEndpoint(3600);
  await using receiver = await startReceiver();
  const clock = new FakeClock(START);
  await withEngine({ clock }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/in`,
      oauth2: oauth2(endpoint),
    });
    assert.equal(hook.status, 201);
    const ids = await post(h, "order.created", 10);
    await h.settle();
    assert.equal(receiver.requests.length, 10);
    assert.deepEqual(new Set(receiver.requests.map(bearer)), new Set(["Bearer tok-1"]));
    assert.equal(endpoint.requests.length, 1, "one token request for ten deliveries");

    // The token request: RFC 6749 §4.4 with client_secret_basic.
    const request = endpoint.requests[0]!;
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/token");
    assert.equal(request.headers["content-type"], "application/x-www-form-urlencoded");
    assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
      grant_type: "client_credentials",
      scope: "hooks:write",
      audience: "https://receiver.test",
    });
    assert.equal(request.headers.authorization, `Basic ${btoa(`hookd:${CLIENT_SECRET}`)}`);

    for (const id of ids) {
      const delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
      assert.equal(delivery.state, "succeeded");
      assert.equal(delivery.attempts[0].request_headers.authorization, "[redacted]");
    }

    // Still in use just before 90% of its hour; replaced from then on.
    clock.advance(0.9 * HOUR - 1);
    await post(h, "order.created");
    await h.settle();
    assert.equal(endpoint.requests.length, 1);
    clock.advance(1);
    await post(h, "order.created");
    await h.settle();
    assert.equal(endpoint.requests.length, 2);
    assert.equal(bearer(receiver.requests.at(-1)!), "Bearer tok-2");
  });
});

Deno.test("OAuth2: a 401 renews the token once within the attempt; client_secret_post", async () => {
  await using endpoint = await tokenEndpoint();
  await using receiver = await startReceiver();
  receiver.respond((request) => ({ status: bearer(request) === "Bearer tok-2" ? 200 : 401 }));
  await withEngine({ clock: systemClock }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/in`,
      oauth2: oauth2(endpoint, { auth_method: "client_secret_post", audience: null }),
    });
    const [id] = await post(h, "a.b");
    await h.settle();
    const delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
    assert.equal(delivery.state, "succeeded");
    assert.equal(delivery.attempts.length, 1, "the renewal costs no attempt");
    assert.deepEqual(receiver.requests.map(bearer), ["Bearer tok-1", "Bearer tok-2"]);
    assert.equal(endpoint.requests.length, 2);
    assert.equal(endpoint.requests[0]!.headers.authorization, undefined);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(endpoint.requests[0]!.body)), {
      grant_type: "client_credentials",
      scope: "hooks:write",
      client_id: "hookd",
      client_secret: CLIENT_SECRET,
    });

    await post(h, "a.b");
    await h.settle();
    assert.equal(endpoint.requests.length, 2, "the renewed token is kept");
    assert.equal(bearer(receiver.requests.at(-1)!), "Bearer tok-2");
  });
});

const POLICIES = `
[policies.patient]
schedule = ["0s", "1m", "1m"]
jitter = 0
on_exhausted = "failed"

[policies.strict]
schedule = ["0s", "1m", "1m"]
jitter = 0
retry = ["5xx", "network", "timeout"]
on_exhausted = "failed"
`;

Deno.test("OAuth2: a token endpoint failure is an auth failure the policy classifies", async () => {
  await using endpoint = await tokenEndpoint();
  await using receiver = await startReceiver();
  const clock = new FakeClock(START);
  await withEngine({ clock, configToml: POLICIES }, async (h) => {
    for (const policy of ["patient", "strict"]) {
      await h.api("POST", "/api/v1/webhooks", {
        url: `${receiver.url}/${policy}`,
        event_types: [`to.${policy}`],
        policy,
        oauth2: oauth2(endpoint),
      });
    }
    endpoint.state.down = true;
    const [retried] = await post(h, "to.patient");
    const [final] = await post(h, "to.strict");
    await h.settle();
    const read = async (id: string) => (await h.api("GET", `/api/v1/deliveries/${id}`)).body;

    const failed = await read(final!);
    assert.equal(failed.state, "failed", "strict does not list auth: final");
    assert.equal(failed.last_error_kind, "auth");
    const pending = await read(retried!);
    assert.equal(pending.state, "pending", "patient retries any failure, auth included");
    assert.equal(pending.attempts[0].error_kind, "auth");
    assert.equal(
      pending.attempts[0].error_message,
      "token endpoint answered HTTP 500 (temporarily_unavailable)",
    );
    assert.equal(pending.attempts[0].response_status, null);
    assert.equal(receiver.requests.length, 0, "nothing reaches the receiver without a token");

    endpoint.state.down = false;
    clock.advanceTo(Date.parse(pending.next_attempt_at));
    await h.engine.refill();
    clock.advance(10);
    await h.settle();
    const delivered = await read(retried!);
    assert.equal(delivered.state, "succeeded");
    assert.deepEqual(delivered.attempts.map((a: { error_kind: string }) => a.error_kind), [
      "auth",
      null,
    ]);
    assert.equal(receiver.requests.length, 1);

    const metrics = await (await h.app.request("http://hookd.test/metrics")).text();
    assert.match(metrics, /hookd_attempts_total\{status_class="none",error_kind="auth"\} 2/);
  });
});

Deno.test("OAuth2: the token URL goes through the SSRF guard and its pinning", async () => {
  await using endpoint = await tokenEndpoint();
  await using receiver = await startReceiver();
  const port = new URL(endpoint.url).port;
  // No real DNS: auth.test exists only here, at the endpoint's loopback address,
  // which the allowlist admits; internal.test is a private address, never reached.
  const resolver = new ScriptedResolver({
    "auth.test": ["127.0.0.1"],
    "internal.test": ["10.1.2.3"],
  });
  const guard = new TargetGuard({ resolver, allowCidrs: ["127.0.0.1/32"] });
  await withEngine({ clock: systemClock, guard }, async (h) => {
    for (const [name, host] of [["pinned", "auth.test"], ["private", "internal.test"]]) {
      await h.api("POST", "/api/v1/webhooks", {
        url: `${receiver.url}/${name}`,
        event_types: [`to.${name}`],
        oauth2: oauth2(endpoint, { token_url: `http://${host}:${port}/token` }),
      });
    }
    const [pinned] = await post(h, "to.pinned");
    const [refused] = await post(h, "to.private");
    await h.settle();

    const ok = (await h.api("GET", `/api/v1/deliveries/${pinned}`)).body;
    assert.equal(ok.state, "succeeded");
    assert.equal(endpoint.requests.length, 1);
    assert.equal(endpoint.requests[0]!.headers.host, `auth.test:${port}`);

    const blocked = (await h.api("GET", `/api/v1/deliveries/${refused}`)).body;
    assert.equal(blocked.attempts[0].error_kind, "auth");
    assert.match(blocked.attempts[0].error_message, /internal\.test resolves to 10\.1\.2\.3/);
    assert.deepEqual(resolver.asked.filter((n) => n === "internal.test"), ["internal.test"]);
    assert.deepEqual(receiver.requests.map((r) => r.path), ["/pinned"]);
  });
});

Deno.test("basic auth: the receiver gets Authorization: Basic, from a webhook or its credential", async () => {
  await using receiver = await startReceiver();
  await withEngine({ clock: systemClock }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/own`,
      event_types: ["to.own"],
      basic_auth: { username: "hookd", password: PASSWORD },
      // Receiver auth wins over a custom Authorization header.
      headers: { Authorization: "Bearer custom" },
    });
    const credential = await h.api("POST", "/api/v1/credentials", {
      name: "shared",
      basic_auth: { username: "shared-user", password: `${PASSWORD}-é` },
    });
    assert.equal(credential.status, 201, JSON.stringify(credential.body));
    await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/shared`,
      event_types: ["to.shared"],
      credential_id: credential.body.id,
    });
    const [own] = await post(h, "to.own");
    await post(h, "to.shared");
    await h.settle();
    const seen = Object.fromEntries(receiver.requests.map((r) => [r.path, bearer(r)]));
    const decode = (header: string | undefined) =>
      new TextDecoder().decode(
        Uint8Array.from(atob(header!.replace(/^Basic /, "")), (c) => c.charCodeAt(0)),
      );
    assert.equal(decode(seen["/own"]), `hookd:${PASSWORD}`);
    assert.equal(decode(seen["/shared"]), `shared-user:${PASSWORD}-é`);
    const attempt = (await h.api("GET", `/api/v1/deliveries/${own}`)).body.attempts[0];
    assert.equal(attempt.request_headers.authorization, "[redacted]");
    assert.equal(attempt.request_headers.Authorization, undefined);
  });
});

Deno.test("receiver auth secrets appear in no API answer, attempt record, metric or log line", async () => {
  const TOKEN = "access-token-secret-";
  await using endpoint = await tokenEndpoint(3600, TOKEN);
  await using receiver = await startReceiver();
  // The first token is refused, so two are fetched and both used.
  receiver.respond((request) => ({ status: bearer(request) === `Bearer ${TOKEN}1` ? 401 : 200 }));
  const logs = captureLogs("debug");
  await withEngine({ clock: systemClock, log: logs.log }, async (h) => {
    const credential = await h.api("POST", "/api/v1/credentials", {
      name: "shared",
      oauth2: oauth2(endpoint, { auth_method: "client_secret_post" }),
    });
    await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/oauth2`,
      event_types: ["a"],
      credential_id: credential.body.id,
    });
    await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/basic`,
      event_types: ["a"],
      basic_auth: { username: "hookd", password: PASSWORD },
    });
    const down = await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/down`,
      event_types: ["a"],
      oauth2: oauth2(endpoint, { token_url: `${receiver.url}/no-token-here` }),
    });
    assert.equal(down.status, 201);
    const event = (await h.api("POST", "/api/v1/events", { type: "a", data: {} })).body;
    await h.settle();
    assert.ok(receiver.requests.some((r) => bearer(r) === `Bearer ${TOKEN}2`));
    assert.ok(receiver.requests.some((r) => bearer(r)?.startsWith("Basic ")));

    const answers: unknown[] = [
      (await h.api("GET", "/api/v1/webhooks")).body,
      (await h.api("GET", "/api/v1/credentials")).body,
      (await h.api("GET", `/api/v1/credentials/${credential.body.id}`)).body,
      (await h.api("GET", `/api/v1/events/${event.id}`)).body,
    ];
    for (const { id } of event.deliveries) {
      answers.push((await h.api("GET", `/api/v1/deliveries/${id}`)).body);
    }
    const attempts = answers.slice(4).flatMap((d) => (d as { attempts: unknown[] }).attempts);
    assert.equal(attempts.length, 3);
    const metrics = await (await h.app.request("http://hookd.test/metrics")).text();
    const everything = [JSON.stringify(answers), metrics, logs.text()].join("\n");
    assert.ok(logs.withMessage("OAuth2 token fetched").length >= 2, logs.text());
    for (
      const secret of [
        CLIENT_SECRET,
        PASSWORD,
        btoa(`hookd:${PASSWORD}`),
        TOKEN,
      ]
    ) {
      assert.ok(!everything.includes(secret), `leaked: ${secret.slice(0, 10)}…`);
    }
  });
});
