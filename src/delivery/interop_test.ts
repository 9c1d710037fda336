/**
 * Signatures verified by the receivers' own libraries, not by hookd code:
 * `standardwebhooks`, `svix`, `stripe` and `@octokit/webhooks`. Each library
 * checks the timestamp against the real clock, so requests are rendered at
 * `Date.now()`. During a rotation both secrets verify where the scheme
 * carries several signatures; GitHub's carries one, the current secret's.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { STANDARD_PROFILE } from "../config/profile.ts";
import type { Profile, SignatureScheme } from "../config/types.ts";
import { type RenderInput, renderRequest } from "./render_request.ts";
import { generateSecret } from "./signing.ts";

/** The part of the stripe client these tests use. */
interface StripeLike {
  readonly webhooks: {
    constructEvent(
      body: string,
      header: string,
      secret: string,
      tolerance?: number,
      cryptoProvider?: unknown,
    ): unknown;
    constructEventAsync(body: string, header: string, secret: string): Promise<unknown>;
  };
}

// Imported by a computed specifier so the type checker does not load stripe's
// types: they pull in @types/node, whose node:assert typings differ from
// Deno's and break type checking elsewhere in `deno check src`.
const STRIPE = "stripe";
const { default: Stripe } = await import(STRIPE) as {
  default: new (key: string) => StripeLike;
};

const DATA = { object: "event", id: "evt_1", n: 7, name: "Zoë ✓", nested: { a: [1, 2] } };
const PAYLOAD = JSON.stringify(DATA);

function render(scheme: SignatureScheme, secrets: string[], extra: Partial<Profile> = {}) {
  const input: RenderInput = {
    profile: { ...STANDARD_PROFILE, name: "interop", signature: scheme, ...extra },
    webhook: { id: "wh_1", url: "https://example.com/hook", headers: {} },
    secrets,
    event: {
      id: "msg_2b4c6e8a",
      type: "order.created",
      tenantId: null,
      payload: PAYLOAD,
      occurredAt: Date.now() - 1000,
    },
    deliveryId: "dlv_1",
    attemptId: "att_1",
    attemptNumber: 1,
    now: Date.now(),
  };
  return renderRequest(input);
}

function rotation(): { current: string; previous: string; other: string } {
  return { current: generateSecret(), previous: generateSecret(), other: generateSecret() };
}

Deno.test("standardwebhooks verifies the standard-webhooks scheme, both secrets while rotating", async () => {
  const { current, previous, other } = rotation();
  for (const secrets of [[current], [current, previous]]) {
    const { headers, body } = await render(
      { kind: "standard-webhooks", headerPrefix: "webhook" },
      secrets,
    );
    for (const secret of secrets) {
      assert.deepEqual(new StandardWebhook(secret).verify(body, headers), DATA);
    }
    assert.throws(() => new StandardWebhook(other).verify(body, headers));
    assert.throws(() => new StandardWebhook(current).verify(body + " ", headers));
  }
});

Deno.test("svix verifies the svix scheme (svix-* headers), both secrets while rotating", async () => {
  const { current, previous, other } = rotation();
  for (const secrets of [[current], [current, previous]]) {
    const { headers, body } = await render(
      { kind: "standard-webhooks", headerPrefix: "svix" },
      secrets,
    );
    assert.deepEqual(Object.keys(headers), ["svix-id", "svix-timestamp", "svix-signature"]);
    for (const secret of secrets) {
      // svix's verify returns nothing; it throws when no signature matches.
      assert.doesNotThrow(() => new SvixWebhook(secret).verify(body, headers));
    }
    assert.throws(() => new SvixWebhook(other).verify(body, headers));
  }
});

Deno.test("stripe verifies the stripe scheme, both secrets while rotating", async () => {
  const stripe = new Stripe("sk_test_x");
  // Under Deno the stripe package loads its web build, whose default (Web
  // Crypto) provider only works in constructEventAsync. The synchronous
  // constructEvent gets a provider backed by node:crypto; parsing the header,
  // the tolerance and the comparison remain stripe's.
  const nodeCrypto = {
    computeHMACSignature: (payload: string, secret: string) =>
      createHmac("sha256", secret).update(payload, "utf8").digest("hex"),
    computeHMACSignatureAsync: (payload: string, secret: string) =>
      Promise.resolve(createHmac("sha256", secret).update(payload, "utf8").digest("hex")),
    computeSHA256Async: (data: Uint8Array) =>
      Promise.resolve(new Uint8Array(createHash("sha256").update(data).digest())),
  };
  const { current, previous, other } = rotation();
  for (const secrets of [[current], [current, previous]]) {
    const { headers, body } = await render({ kind: "stripe" }, secrets);
    const header = headers["Stripe-Signature"]!;
    assert.equal(header.split(",v1=").length, secrets.length + 1);
    for (const secret of secrets) {
      const event = stripe.webhooks.constructEvent(body, header, secret, undefined, nodeCrypto);
      assert.deepEqual(event, DATA);
      assert.deepEqual(await stripe.webhooks.constructEventAsync(body, header, secret), DATA);
    }
    assert.throws(() => stripe.webhooks.constructEvent(body, header, other, undefined, nodeCrypto));
    await assert.rejects(() => stripe.webhooks.constructEventAsync(body, header, other));
  }
});

Deno.test("@octokit/webhooks verifies the github scheme; only the current secret signs", async () => {
  const { current, previous } = rotation();
  for (const secrets of [[current], [current, previous]]) {
    const { headers, body } = await render({ kind: "github" }, secrets);
    const signature = headers["X-Hub-Signature-256"]!;
    assert.equal(await new Webhooks({ secret: current }).verify(body, signature), true);
    assert.equal(await new Webhooks({ secret: previous }).verify(body, signature), false);
  }
});

Deno.test("an envelope body verifies too (signatures cover the exact bytes sent)", async () => {
  const { current, previous } = rotation();
  const envelope = {
    kind: "object",
    entries: [["id", { kind: "template", template: [{ variable: "event_id" }] }], [
      "data",
      { kind: "data" },
    ]],
  } as const;
  const { headers, body } = await render(
    { kind: "standard-webhooks", headerPrefix: "webhook" },
    [current, previous],
    { body: envelope },
  );
  assert.equal(body, `{"id":"msg_2b4c6e8a","data":${PAYLOAD}}`);
  for (const secret of [current, previous]) {
    assert.deepEqual(new StandardWebhook(secret).verify(body, headers), JSON.parse(body));
  }
  const gh = await render({ kind: "github" }, [current], { body: envelope });
  assert.equal(
    await new Webhooks({ secret: current }).verify(gh.body, gh.headers["X-Hub-Signature-256"]!),
    true,
  );
});
