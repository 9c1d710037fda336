import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import type { WebhookRecord } from "../store/webhooks.ts";
import { headersForLog, renderRequest, signingSecrets } from "./render_request.ts";

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0, 750);

const webhook = {
  id: "w1",
  url: "https://example.com/hook",
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  previousSecret: "whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdGluZw==",
  previousSecretUntil: NOW + 1,
  headers: { "X-Api-Key": "k-123", "X-Team": "billing" },
} as unknown as WebhookRecord;

Deno.test("standard profile: Standard Webhooks headers, custom headers, the body as posted", async () => {
  const payload = '{"b": 1, "a": [true]}';
  const request = await renderRequest({ webhook, event: { id: "evt_1", payload }, now: NOW });
  assert.equal(request.url, "https://example.com/hook");
  assert.equal(request.body, payload);
  assert.equal(request.headers["webhook-id"], "evt_1");
  assert.equal(request.headers["webhook-timestamp"], String(Math.floor(NOW / 1000)));
  assert.equal(request.headers["X-Api-Key"], "k-123");
  // Two signatures while the rotation overlaps; each verifies with the library.
  assert.equal(request.headers["webhook-signature"]!.split(" ").length, 2);
  // The library checks the timestamp against its own clock, so sign at the real time
  // with the overlap still open; each secret's signature must verify on its own.
  const live = { ...webhook, previousSecretUntil: Date.now() + 60_000 };
  const fresh = await renderRequest({
    webhook: live,
    event: { id: "evt_1", payload },
    now: Date.now(),
  });
  const headers = {
    "webhook-id": fresh.headers["webhook-id"]!,
    "webhook-timestamp": fresh.headers["webhook-timestamp"]!,
    "webhook-signature": fresh.headers["webhook-signature"]!,
  };
  for (const secret of [webhook.secret, webhook.previousSecret!]) {
    assert.deepEqual(new Webhook(secret).verify(payload, headers), { b: 1, a: [true] });
  }
  assert.throws(() => new Webhook("whsec_b3RoZXI=").verify(payload, headers), /signature/);
});

Deno.test("the previous secret stops signing when its overlap ends", () => {
  assert.deepEqual(signingSecrets(webhook, NOW), [webhook.secret, webhook.previousSecret]);
  assert.deepEqual(signingSecrets(webhook, NOW + 1), [webhook.secret]);
});

Deno.test("logged headers hide credentials but keep signatures", () => {
  assert.deepEqual(
    headersForLog({
      Authorization: "Basic x",
      "X-Api-Key": "k",
      "X-Team": "billing",
      "webhook-signature": "v1,abc",
    }),
    {
      Authorization: "[redacted]",
      "X-Api-Key": "[redacted]",
      "X-Team": "billing",
      "webhook-signature": "v1,abc",
    },
  );
});
