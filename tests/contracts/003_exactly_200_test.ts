/**
 * Seed 003 ("exactly 200"), end to end with examples/003-exactly-200/hookd.toml:
 * only HTTP 200 is a success (201, 204, 3xx are failures and retried), and
 * authentication is one reusable object (`/api/v1/credentials`) that several
 * webhooks reference by `credential_id`; rotating or editing it applies to
 * all of them.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { systemClock } from "../../src/clock.ts";
import { FakeClock } from "../../src/testing/fake_clock.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import type { SendRequest } from "../../src/delivery/sender.ts";
import { withEngine } from "../../src/testing/engine_harness.ts";
import { startReceiver } from "../../src/testing/receiver.ts";
import {
  exampleToml,
  gapsOf,
  headerNames,
  HOUR,
  MINUTE,
  runSchedule,
  ScriptedSender,
  SECOND,
  START,
  TICK,
} from "./_helpers.ts";
import { seededRng } from "../../src/testing/seeded_rng.ts";

const SEED = "003-exactly-200";
const TOML = exampleToml(SEED);
const DATA = { notification: "order.shipped", order: { id: 42 } };
/** The built-in schedule the example keeps: waits before attempts 2..8, +-10%. */
const DELAYS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];

/** Whether `secret` produced one of the request's Standard Webhooks signatures (node:crypto). */
function signedWith(secret: string, request: SendRequest): boolean {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const content = `${request.headers["webhook-id"]}.${
    request.headers["webhook-timestamp"]
  }.${request.body}`;
  const expected = `v1,${createHmac("sha256", key).update(content).digest("base64")}`;
  return request.headers["webhook-signature"]!.split(" ").includes(expected);
}

Deno.test("003: the example loads", () => {
  const config = loadConfig({ file: `examples/${SEED}/hookd.toml` });
  assert.deepEqual(config.policies.default!.success.statuses, [[200, 200]]);
});

Deno.test("003: only 200 succeeds; 201, 204, 302 and the rest are retried, then dead", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(9), configToml: TOML }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/n" });
    sender.script.push(201, 204, 302, 202, 200);
    const first = await h.api("POST", "/api/v1/events", { type: "order.shipped", data: DATA });
    const ok = await runSchedule(h, clock, sender, first.body.deliveries[0].id);
    assert.equal(ok.state, "succeeded");
    assert.deepEqual(ok.attempts.map((a: { response_status: number }) => a.response_status), [
      201,
      204,
      302,
      202,
      200,
    ]);
    assert.deepEqual(
      ok.attempts.map((a: { error_kind: string | null }) => a.error_kind),
      ["status", "status", "redirect", "status", null],
    );

    // Never a 200: the built-in 8 attempts, then the dead-letter queue.
    sender.sent.length = 0;
    sender.fallback = 201;
    const second = await h.api("POST", "/api/v1/events", { type: "order.shipped", data: DATA });
    const dead = await runSchedule(h, clock, sender, second.body.deliveries[0].id);
    assert.equal(dead.state, "dead");
    assert.equal(dead.attempt_count, 8);
    gapsOf(sender).forEach((gap, i) => {
      const base = DELAYS[i]!;
      assert.ok(gap >= base * 0.9 && gap <= base * 1.1 + TICK, `gap ${i + 2}: ${gap} vs ${base}`);
    });
  });
});

Deno.test("003: one credential authenticates several webhooks; rotation and edits apply to all", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.fallback = 200;
  await withEngine({ clock, sender, rng: seededRng(4), configToml: TOML }, async (h) => {
    const credential = await h.api("POST", "/api/v1/credentials", {
      name: "crm integration",
      headers: { "X-Api-Key": "key_live_123" },
    });
    assert.equal(credential.status, 201);
    const credentialId = credential.body.id as string;
    const oldSecret = credential.body.secret as string;
    assert.match(oldSecret, /^whsec_/);
    const urls = ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b", "http://127.0.0.1:9/c"];
    const hooks: { id: string; secret: string | null }[] = [];
    for (const url of urls) {
      const hook = await h.api("POST", "/api/v1/webhooks", {
        url,
        event_types: ["order.shipped"],
        credential_id: credentialId,
      });
      assert.equal(hook.status, 201);
      hooks.push(hook.body);
    }
    const unknown = await h.api("POST", "/api/v1/webhooks", {
      url: urls[0],
      credential_id: "no-such-credential",
    });
    assert.equal(unknown.status, 400);

    const deliverAll = async (id: string) => {
      const before = sender.sent.length;
      const event = await h.api("POST", "/api/v1/events", {
        id,
        type: "order.shipped",
        data: DATA,
      });
      assert.equal(event.body.deliveries.length, 3);
      for (const d of event.body.deliveries) {
        assert.equal((await runSchedule(h, clock, sender, d.id)).state, "succeeded");
      }
      const sent = sender.sent.slice(before).map((s) => s.request);
      assert.deepEqual(sent.map((r) => r.url).sort(), urls);
      return sent;
    };

    for (const request of await deliverAll("evt_1")) {
      assert.deepEqual(headerNames(request), [
        "webhook-id",
        "webhook-signature",
        "webhook-timestamp",
        "x-api-key",
      ]);
      assert.equal(request.headers["X-Api-Key"], "key_live_123");
      assert.equal(request.headers["webhook-id"], "evt_1");
      assert.equal(request.body, JSON.stringify(DATA));
      assert.ok(signedWith(oldSecret, request), "signed with the credential's secret");
      for (const hook of hooks) {
        if (hook.secret) assert.ok(!signedWith(hook.secret, request), "not the webhook's own");
      }
    }

    // Rotate once: every webhook signs with the new secret (and, for a 24 h
    // overlap, the old one too, so receivers can switch without downtime).
    const rotated = await h.api("POST", `/api/v1/credentials/${credentialId}/rotate-secret`);
    assert.equal(rotated.status, 200);
    const newSecret = rotated.body.secret as string;
    assert.notEqual(newSecret, oldSecret);
    for (const request of await deliverAll("evt_2")) {
      assert.ok(signedWith(newSecret, request), "new secret");
      assert.ok(signedWith(oldSecret, request), "old secret during the overlap");
    }
    clock.advance(25 * HOUR);
    for (const request of await deliverAll("evt_3")) {
      assert.ok(signedWith(newSecret, request), "new secret");
      assert.ok(!signedWith(oldSecret, request), "old secret no longer signs");
    }

    // Editing the credential's headers applies to every webhook too.
    const patched = await h.api("PATCH", `/api/v1/credentials/${credentialId}`, {
      headers: { "X-Api-Key": "key_live_456" },
    });
    assert.equal(patched.status, 200);
    for (const request of await deliverAll("evt_4")) {
      assert.equal(request.headers["X-Api-Key"], "key_live_456");
    }

    // The credential cannot be deleted while webhooks use it.
    assert.equal((await h.api("DELETE", `/api/v1/credentials/${credentialId}`)).status, 409);
  });
});

Deno.test("003: on the wire, the receiver's standardwebhooks library verifies the credential", async () => {
  await using receiver = await startReceiver();
  await withEngine({ clock: systemClock, configToml: TOML }, async (h) => {
    const credential = await h.api("POST", "/api/v1/credentials", { name: "shared" });
    for (const path of ["/one", "/two"]) {
      await h.api("POST", "/api/v1/webhooks", {
        url: `${receiver.url}${path}`,
        credential_id: credential.body.id,
      });
    }
    await h.api("POST", "/api/v1/events", { type: "order.shipped", data: DATA });
    const requests = await receiver.waitForRequests(2);
    for (const r of requests) {
      assert.equal(r.headers["content-type"], "application/json");
      const payload = new Webhook(credential.body.secret).verify(r.body, {
        "webhook-id": r.headers["webhook-id"]!,
        "webhook-timestamp": r.headers["webhook-timestamp"]!,
        "webhook-signature": r.headers["webhook-signature"]!,
      });
      assert.deepEqual(payload, DATA);
    }
  });
});
