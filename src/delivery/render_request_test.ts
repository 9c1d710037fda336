import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { STANDARD_PROFILE } from "../config/profile.ts";
import { seedProfiles } from "../config/_seed_profiles.ts";
import { loadConfig } from "../config/load_config.ts";
import type { Profile, SignatureScheme } from "../config/types.ts";
import {
  headersForLog,
  type RenderInput,
  renderRequest,
  templateValues,
  usesTemplates,
} from "./render_request.ts";
import { decodeSecret } from "./signing.ts";

// 2026-11-23T09:00:00.750Z and 2026-01-22T06:40:00.000Z.
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0, 750);
const TS = Math.floor(NOW / 1000);
const OCCURRED = Date.UTC(2026, 0, 22, 6, 40, 0, 0);
const CURRENT = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PREVIOUS = "whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdGluZw==";
const PAYLOAD = '{"b": 1,  "a":[true, 1.50]}';

const SEEDS = seedProfiles();
function seed(name: string): Profile {
  const p = SEEDS[name];
  assert.ok(p, name);
  return p;
}

function input(extra: Partial<RenderInput> = {}): RenderInput {
  return {
    profile: STANDARD_PROFILE,
    webhook: { id: "wh_1", url: "https://example.com/hook", headers: { "X-Team": "billing" } },
    secrets: [CURRENT],
    event: {
      id: "evt_123456789",
      type: "pid.completed",
      tenantId: "tenant_abc",
      payload: PAYLOAD,
      occurredAt: OCCURRED,
    },
    deliveryId: "0192b1c2-0000-7000-8000-000000000001",
    attemptId: "0192b1c2-0000-7000-8000-0000000000a7",
    attemptNumber: 3,
    now: NOW,
    ...extra,
  };
}

function profileWith(scheme: SignatureScheme, extra: Partial<Profile> = {}): Profile {
  return { ...STANDARD_PROFILE, name: "t", signature: scheme, ...extra };
}

const hmac = (key: string | Uint8Array, text: string, encoding: "hex" | "base64") =>
  createHmac("sha256", key).update(text).digest(encoding);

Deno.test("templateValues(): every variable of an attempt", () => {
  assert.deepEqual(templateValues(input()), {
    event_id: "evt_123456789",
    event_type: "pid.completed",
    tenant_id: "tenant_abc",
    event_timestamp: "1769064000",
    event_timestamp_iso: "2026-01-22T06:40:00.000Z",
    delivery_id: "0192b1c2-0000-7000-8000-000000000001",
    attempt_id: "0192b1c2-0000-7000-8000-0000000000a7",
    attempt_number: "3",
    attempt_timestamp: String(TS),
    attempt_timestamp_iso: "2026-11-23T09:00:00.750Z",
    webhook_id: "wh_1",
    payload_version: "1.0",
  });
  assert.equal(TS, 1795424400);
});

Deno.test("every variable renders in headers and in an envelope", () => {
  const config = loadConfig({
    text: `[profiles.all]
payload_version = "7.1"
headers = { "X-All" = "{event_id}|{event_type}|{tenant_id}|{event_timestamp}|{event_timestamp_iso}|{delivery_id}|{attempt_id}|{attempt_number}|{attempt_timestamp}|{attempt_timestamp_iso}|{webhook_id}|{payload_version}|{{x}}" }
body = { a = "{event_id}", b = "{event_type}", c = "{tenant_id}", d = "{event_timestamp}", e = "{event_timestamp_iso}", f = "{delivery_id}", g = "{attempt_id}", h = "{attempt_number}", i = "{attempt_timestamp}", j = "{attempt_timestamp_iso}", k = "{webhook_id}", l = "{payload_version}", m = "{{x}} \\"q\\"", n = [1, 2.5, false, { d = "{data}" }] }
signature = { scheme = "none" }
`,
  });
  const request = renderRequest(input({ profile: config.profiles.all! }));
  assert.equal(
    request.headers["X-All"],
    "evt_123456789|pid.completed|tenant_abc|1769064000|2026-01-22T06:40:00.000Z|" +
      "0192b1c2-0000-7000-8000-000000000001|0192b1c2-0000-7000-8000-0000000000a7|3|" +
      "1795424400|2026-11-23T09:00:00.750Z|wh_1|7.1|{x}",
  );
  assert.equal(
    request.body,
    '{"a":"evt_123456789","b":"pid.completed","c":"tenant_abc","d":"1769064000",' +
      '"e":"2026-01-22T06:40:00.000Z","f":"0192b1c2-0000-7000-8000-000000000001",' +
      '"g":"0192b1c2-0000-7000-8000-0000000000a7","h":"3","i":"1795424400",' +
      '"j":"2026-11-23T09:00:00.750Z","k":"wh_1","l":"7.1","m":"{x} \\"q\\"",' +
      `"n":[1,2.5,false,{"d":${PAYLOAD}}]}`,
  );
  assert.deepEqual(Object.keys(request.headers), ["X-Team", "X-All"]);
});

Deno.test("the data body is the payload byte for byte", () => {
  for (const payload of [PAYLOAD, "null", '"text"', "[ ]", '{"z":1,"a":{"y":[],"b":"\\u00e9"}}']) {
    const request = renderRequest(input({ event: { ...input().event, payload } }));
    assert.equal(request.body, payload);
  }
});

Deno.test("seed 000: X-Webhook-* headers and a hex HMAC of timestamp.body", () => {
  const request = renderRequest(input({ profile: seed("seed000") }));
  assert.deepEqual(request, {
    url: "https://example.com/hook",
    headers: {
      "X-Team": "billing",
      "X-Webhook-Event": "pid.completed",
      "X-Webhook-Timestamp": "1795424400",
      "X-Webhook-Delivery-Id": "0192b1c2-0000-7000-8000-000000000001",
      "X-Webhook-Signature": hmac(CURRENT, `1795424400.${PAYLOAD}`, "hex"),
    },
    body: PAYLOAD,
  });
  assert.match(request.headers["X-Webhook-Signature"]!, /^[0-9a-f]{64}$/);
});

Deno.test("seed 002: X-Agc-* headers, the envelope, a signature only with a secret", () => {
  const envelope = `{"version":"1.0","tenant_id":"tenant_abc","event_id":"evt_123456789",` +
    `"event_type":"pid.completed","event_timestamp":"2026-01-22T06:40:00.000Z","data":${PAYLOAD}}`;
  const agc = {
    "X-Agc-Version": "1.0",
    "X-Agc-Tenant-Id": "tenant_abc",
    "X-Agc-Webhook-Id": "wh_1",
    "X-Agc-Attempt-Id": "0192b1c2-0000-7000-8000-0000000000a7",
    "X-Agc-Event-Id": "evt_123456789",
    "X-Agc-Event-Type": "pid.completed",
    "X-Agc-Timestamp": "2026-11-23T09:00:00.750Z",
  };
  const signed = renderRequest(input({ profile: seed("seed002") }));
  assert.equal(signed.body, envelope);
  assert.deepEqual(JSON.parse(signed.body).data, JSON.parse(PAYLOAD));
  assert.deepEqual(signed.headers, {
    "X-Team": "billing",
    ...agc,
    "X-Agc-Signature": hmac(CURRENT, `2026-11-23T09:00:00.750Z.${envelope}`, "hex"),
  });

  // No secret: no signature header at all. No tenant: "" in the header, null in the body.
  const event = { ...input().event, tenantId: null };
  const unsigned = renderRequest(input({ profile: seed("seed002"), secrets: [], event }));
  assert.deepEqual(unsigned.headers, { "X-Team": "billing", ...agc, "X-Agc-Tenant-Id": "" });
  assert.equal(unsigned.body, envelope.replace('"tenant_abc"', "null"));
});

Deno.test("seed 004: delivery_id in the payload", () => {
  const request = renderRequest(input({ profile: seed("seed004") }));
  assert.equal(
    request.body,
    '{"delivery_id":"0192b1c2-0000-7000-8000-000000000001","event_id":"evt_123456789",' +
      `"event_type":"pid.completed","occurred_at":"2026-01-22T06:40:00.000Z","data":${PAYLOAD}}`,
  );
  assert.deepEqual(Object.keys(request.headers), [
    "X-Team",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
  ]);
});

Deno.test("no secret: no signature header, whatever the scheme", () => {
  const schemes: SignatureScheme[] = [
    { kind: "standard-webhooks", headerPrefix: "webhook" },
    { kind: "standard-webhooks", headerPrefix: "svix" },
    {
      kind: "hmac-sha256",
      header: "X-Sig",
      content: [{ variable: "body" }],
      encoding: "hex",
      prefix: "",
    },
    { kind: "github" },
    { kind: "stripe" },
    { kind: "none" },
  ];
  for (const scheme of schemes) {
    const request = renderRequest(input({ profile: profileWith(scheme), secrets: [] }));
    assert.deepEqual(request.headers, { "X-Team": "billing" }, scheme.kind);
    assert.equal(request.body, PAYLOAD);
  }
  const none = renderRequest(input({ profile: profileWith({ kind: "none" }) }));
  assert.deepEqual(none.headers, { "X-Team": "billing" });
});

Deno.test("rotation: every secret signs where the scheme carries several, else the current", () => {
  const both = [CURRENT, PREVIOUS];
  const sw = (secret: string) =>
    `v1,${hmac(decodeSecret(secret), `evt_123456789.${TS}.${PAYLOAD}`, "base64")}`;
  const stripeV1 = (secret: string) => `v1=${hmac(secret, `${TS}.${PAYLOAD}`, "hex")}`;
  const table: [SignatureScheme, Record<string, string>][] = [
    [{ kind: "standard-webhooks", headerPrefix: "webhook" }, {
      "webhook-id": "evt_123456789",
      "webhook-timestamp": String(TS),
      "webhook-signature": `${sw(CURRENT)} ${sw(PREVIOUS)}`,
    }],
    [{ kind: "standard-webhooks", headerPrefix: "svix" }, {
      "svix-id": "evt_123456789",
      "svix-timestamp": String(TS),
      "svix-signature": `${sw(CURRENT)} ${sw(PREVIOUS)}`,
    }],
    [{ kind: "stripe" }, {
      "Stripe-Signature": `t=${TS},${stripeV1(CURRENT)},${stripeV1(PREVIOUS)}`,
    }],
    [{ kind: "github" }, { "X-Hub-Signature-256": `sha256=${hmac(CURRENT, PAYLOAD, "hex")}` }],
    [{
      kind: "hmac-sha256",
      header: "X-Sig",
      content: [{ variable: "event_id" }, { text: ":" }, { variable: "body" }],
      encoding: "base64",
      prefix: "v=",
    }, { "X-Sig": `v=${hmac(CURRENT, `evt_123456789:${PAYLOAD}`, "base64")}` }],
  ];
  for (const [scheme, expected] of table) {
    const request = renderRequest(input({ profile: profileWith(scheme), secrets: both }));
    assert.deepEqual(request.headers, { "X-Team": "billing", ...expected }, scheme.kind);
  }
});

Deno.test("headers: custom, then profile (wins, any case), then signature", () => {
  const profile = profileWith({ kind: "github" }, {
    headers: { "x-team": [{ text: "from-profile" }], "X-Kind": [{ variable: "event_type" }] },
  });
  const request = renderRequest(input({
    profile,
    webhook: {
      id: "wh_1",
      url: "https://example.com/hook",
      headers: { "X-Team": "billing", "X-Hub-Signature-256": "forged", "X-Api-Key": "k" },
    },
  }));
  assert.deepEqual(request.headers, {
    "x-team": "from-profile",
    "X-Api-Key": "k",
    "X-Kind": "pid.completed",
    "X-Hub-Signature-256": `sha256=${hmac(CURRENT, PAYLOAD, "hex")}`,
  });
});

Deno.test("variables cannot break a header: control and non-ASCII characters are encoded", () => {
  const event = { ...input().event, id: "evt\r\nX-Injected: 1", tenantId: "Zoë ключ" };
  const profile = profileWith({ kind: "standard-webhooks", headerPrefix: "webhook" }, {
    headers: { "X-Tenant": [{ variable: "tenant_id" }], "X-Event": [{ variable: "event_id" }] },
  });
  const request = renderRequest(input({ profile, event }));
  assert.equal(
    request.headers["X-Tenant"],
    "Zo%C3%AB %D0%BA%D0%BB%D1%8E%D1%87",
  );
  assert.equal(request.headers["X-Event"], "evt%0D%0AX-Injected: 1");
  assert.equal(request.headers["webhook-id"], "evt%0D%0AX-Injected: 1");
  // Every value is a valid header value for fetch.
  new Headers(request.headers);
  // The body keeps the real values.
  const envelope = renderRequest(input({ profile: seed("seed002"), event }));
  assert.equal(JSON.parse(envelope.body).event_id, "evt\r\nX-Injected: 1");
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

Deno.test("usesTemplates: only a profile with no template skips the template values", () => {
  assert.equal(usesTemplates(STANDARD_PROFILE), false);
  const text = [{ variable: "event_id" as const }];
  assert.equal(usesTemplates({ ...STANDARD_PROFILE, headers: { "X-Id": text } }), true);
  assert.equal(
    usesTemplates({ ...STANDARD_PROFILE, body: { kind: "template", template: text } }),
    true,
  );
  const signature: SignatureScheme = {
    kind: "hmac-sha256",
    header: "X-Sig",
    content: text,
    encoding: "hex",
    prefix: "",
  };
  assert.equal(usesTemplates({ ...STANDARD_PROFILE, signature }), true);
  // With no other template, the signed content still sees the values.
  const rendered = renderRequest(input({ profile: { ...STANDARD_PROFILE, signature } }));
  const expected = createHmac("sha256", CURRENT).update(input().event.id).digest("hex");
  assert.equal(rendered.headers["X-Sig"], expected);
});
