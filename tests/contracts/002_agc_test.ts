/**
 * Seed 002 (AGC), end to end with examples/002-agc/hookd.toml: X-Agc-*
 * headers, the envelope, a signature only when a secret is configured,
 * success 200-399, 408/429/5xx/transport retried, 400/401/403/404/410 final,
 * exponential backoff for up to 24 hours, then `failed`; HTTPS only.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../src/clock.ts";
import { FakeClock } from "../../src/testing/fake_clock.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import { withEngine } from "../../src/testing/engine_harness.ts";
import { startReceiver } from "../../src/testing/receiver.ts";
import {
  exampleToml,
  gapsOf,
  headerNames,
  hmacHex,
  HOUR,
  ISO_MS,
  MINUTE,
  runSchedule,
  ScriptedSender,
  START,
  TICK,
} from "./_helpers.ts";
import { seededRng } from "../../src/testing/seeded_rng.ts";

const SEED = "002-agc";
const TOML = exampleToml(SEED);
/** Loopback receivers speak http://; the example itself requires https://. */
const HTTP_OK = { HOOKD_SECURITY_REQUIRE_HTTPS: "false" };
const DATA = { pid: "pid_1", result: { ok: true, items: [1, 2] } };
const EVENT = {
  id: "evt_123456789",
  type: "pid.completed",
  tenant_id: "tenant_abc",
  occurred_at: "2026-01-22T06:40:00.000Z",
  data: DATA,
};
const ENVELOPE = JSON.stringify({
  version: "1.0",
  tenant_id: "tenant_abc",
  event_id: "evt_123456789",
  event_type: "pid.completed",
  event_timestamp: "2026-01-22T06:40:00.000Z",
  data: DATA,
});
const AGC_HEADERS = [
  "x-agc-attempt-id",
  "x-agc-event-id",
  "x-agc-event-type",
  "x-agc-tenant-id",
  "x-agc-timestamp",
  "x-agc-version",
  "x-agc-webhook-id",
];

Deno.test("002: the example loads and accepts only https:// targets", async () => {
  const config = loadConfig({ file: `examples/${SEED}/hookd.toml` });
  assert.equal(config.security.requireHttps, true);
  await withEngine({ clock: new FakeClock(START), configToml: TOML }, async (h) => {
    const http = await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    assert.equal(http.status, 400);
    const https = await h.api("POST", "/api/v1/webhooks", { url: "https://127.0.0.1:9/hook" });
    assert.equal(https.status, 201);
  });
});

Deno.test("002: headers, envelope and signature; retried for up to 24 hours, then failed", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.script.push(408, 429, 500, 502, 599, "timeout", "connect", "dns", "tls", "reset");
  await withEngine(
    { clock, sender, rng: seededRng(5), configToml: TOML, env: HTTP_OK },
    async (h) => {
      const hook = await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/agc" });
      const secret = hook.body.secret as string;
      const event = await h.api("POST", "/api/v1/events", EVENT);
      const id = event.body.deliveries[0].id as string;
      const final = await runSchedule(h, clock, sender, id);
      assert.equal(final.state, "failed");
      const n = sender.sent.length;
      assert.equal(final.attempt_count, n);
      assert.deepEqual(
        final.attempts.slice(0, 10).map((a: { error_kind: string }) => a.error_kind),
        [
          "status",
          "status",
          "status",
          "status",
          "status",
          "timeout",
          "connect",
          "dns",
          "tls",
          "reset",
        ],
      );

      // Exponential: 1m, 2m, 4m, ... capped at 2h, +-10% (never above the cap).
      gapsOf(sender).forEach((gap, i) => {
        const base = Math.min(MINUTE * 2 ** i, 2 * HOUR);
        const hi = Math.min(base * 1.1, 2 * HOUR) + TICK;
        assert.ok(gap >= base * 0.9 && gap <= hi, `gap ${i + 2}: ${gap} vs ${base}`);
      });
      // Retries continue for up to 24 hours: the last attempt starts within 24h
      // of the first, and less than one capped wait before that limit.
      const lastAt = sender.sent[n - 1]!.at - START;
      assert.ok(lastAt <= 24 * HOUR, `last attempt at ${lastAt / HOUR} h`);
      assert.ok(lastAt >= 22 * HOUR, `last attempt at ${lastAt / HOUR} h`);
      clock.advance(48 * HOUR);
      await h.engine.refill();
      await h.settle();
      assert.equal(sender.sent.length, n);

      const attemptIds = new Set<string>();
      for (const [i, { at, request }] of sender.sent.entries()) {
        assert.deepEqual(headerNames(request), [...AGC_HEADERS, "x-agc-signature"].sort());
        assert.equal(request.headers["X-Agc-Version"], "1.0");
        assert.equal(request.headers["X-Agc-Tenant-Id"], "tenant_abc");
        assert.equal(request.headers["X-Agc-Webhook-Id"], hook.body.id);
        assert.equal(request.headers["X-Agc-Event-Id"], "evt_123456789");
        assert.equal(request.headers["X-Agc-Event-Type"], "pid.completed");
        const timestamp = request.headers["X-Agc-Timestamp"]!;
        assert.match(timestamp, ISO_MS);
        assert.equal(timestamp, new Date(at).toISOString(), "when this attempt was sent");
        const attemptId = request.headers["X-Agc-Attempt-Id"]!;
        assert.equal(attemptId, final.attempts[i].id);
        attemptIds.add(attemptId);
        // The same payload on every retry.
        assert.equal(request.body, ENVELOPE);
        const signature = request.headers["X-Agc-Signature"]!;
        assert.match(signature, /^[0-9a-f]{64}$/);
        assert.equal(signature, hmacHex(secret, `${timestamp}.${request.body}`));
      }
      assert.equal(attemptIds.size, n, "a new attempt id every attempt");
    },
  );
});

Deno.test("002: 200-399 succeed; 400/401/403/404/410 are final; 408/429/5xx retry", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine(
    { clock, sender, rng: seededRng(6), configToml: TOML, env: HTTP_OK },
    async (h) => {
      await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/agc" });
      const run = async (...script: (number | "timeout")[]) => {
        sender.script.push(...script);
        const event = await h.api("POST", "/api/v1/events", { type: "t", data: {} });
        return await runSchedule(h, clock, sender, event.body.deliveries[0].id);
      };
      for (const status of [200, 201, 204, 301, 302, 304, 307, 399]) {
        const d = await run(status);
        assert.equal(d.state, "succeeded", `${status}`);
        assert.equal(d.attempt_count, 1, `${status}`);
        assert.equal(d.attempts[0].error_kind, null, `${status}`);
      }
      for (const status of [400, 401, 403, 404, 410]) {
        const d = await run(status);
        assert.equal(d.state, "failed", `${status} is final`);
        assert.equal(d.attempt_count, 1, `${status} is not retried`);
      }
      for (const status of [408, 429, 500, 503, 504]) {
        const d = await run(status, 200);
        assert.equal(d.state, "succeeded", `${status} then 200`);
        assert.equal(d.attempt_count, 2, `${status} is retried`);
      }
      const timedOut = await run("timeout", 200);
      assert.equal(timedOut.attempt_count, 2);
    },
  );
});

Deno.test('002: a webhook created with "secret": null gets no X-Agc-Signature', async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.fallback = 200;
  await withEngine({ clock, sender, configToml: TOML, env: HTTP_OK }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", {
      url: "http://127.0.0.1:9/agc",
      secret: null,
    });
    assert.equal(hook.status, 201);
    assert.equal(hook.body.secret, null);
    const event = await h.api("POST", "/api/v1/events", EVENT);
    const final = await runSchedule(h, clock, sender, event.body.deliveries[0].id);
    assert.equal(final.state, "succeeded");
    const request = sender.last();
    assert.deepEqual(headerNames(request), AGC_HEADERS);
    assert.equal(request.body, ENVELOPE);
  });
});

Deno.test("002: an event without a tenant has tenant_id null in the envelope", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.fallback = 200;
  await withEngine({ clock, sender, configToml: TOML, env: HTTP_OK }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/agc" });
    const { tenant_id: _, ...noTenant } = EVENT;
    const event = await h.api("POST", "/api/v1/events", noTenant);
    await runSchedule(h, clock, sender, event.body.deliveries[0].id);
    const body = JSON.parse(sender.last().body);
    assert.equal(body.tenant_id, null);
    assert.deepEqual(Object.keys(body), [
      "version",
      "tenant_id",
      "event_id",
      "event_type",
      "event_timestamp",
      "data",
    ]);
  });
});

Deno.test("002: on the wire: UTF-8 JSON, headers and a verifiable signature", async () => {
  await using receiver = await startReceiver();
  await withEngine({ clock: systemClock, configToml: TOML, env: HTTP_OK }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: `${receiver.url}/agc` });
    await h.api("POST", "/api/v1/events", EVENT);
    const [request] = await receiver.waitForRequests(1);
    const r = request!;
    assert.equal(r.method, "POST");
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.body, ENVELOPE);
    assert.equal(r.headers["x-agc-event-id"], "evt_123456789");
    assert.equal(r.headers["x-agc-tenant-id"], "tenant_abc");
    const timestamp = r.headers["x-agc-timestamp"]!;
    assert.ok(Math.abs(Date.parse(timestamp) - Date.now()) < 30_000, "a current timestamp");
    assert.equal(r.headers["x-agc-signature"], hmacHex(hook.body.secret, `${timestamp}.${r.body}`));
  });
});
