import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import {
  decodeSecret,
  generateSecret,
  signGithub,
  signStandardWebhooks,
  signStripe,
  textSecret,
} from "./signing.ts";
import { generatePrivateKey } from "./ed25519_keys.ts";

const encoder = new TextEncoder();

// The vector used by the Standard Webhooks spec and its libraries' tests.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

function headers(id: string, timestamp: number, signature: string): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
  };
}

Deno.test("signStandardWebhooks matches the published test vector", () => {
  const { secret, id, timestamp, body, signature } = VECTOR;
  assert.equal(signStandardWebhooks({ id, timestamp, body, secrets: [secret] }), signature);
  // The library agrees with the vector too.
  assert.equal(new Webhook(secret).sign(id, new Date(timestamp * 1000), body), signature);
});

Deno.test("signatures verify with the standardwebhooks library", () => {
  const timestamp = Math.floor(Date.now() / 1000);
  const id = "msg_2b4c6e8a";
  const body = JSON.stringify({ type: "order.created", data: { id: 7, name: "Zoë ✓" } });
  const secret = generateSecret();
  const sig = signStandardWebhooks({ id, timestamp, body, secrets: [secret] });
  assert.match(sig, /^v1,[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(new Webhook(secret).verify(body, headers(id, timestamp, sig)), JSON.parse(body));
  // A changed body, id or timestamp does not verify.
  assert.throws(() => new Webhook(secret).verify(body + " ", headers(id, timestamp, sig)));
  assert.throws(() => new Webhook(secret).verify(body, headers("msg_x", timestamp, sig)));
  assert.throws(() => new Webhook(secret).verify(body, headers(id, timestamp - 1, sig)));
  // Neither does another secret.
  assert.throws(() => new Webhook(generateSecret()).verify(body, headers(id, timestamp, sig)));
});

Deno.test("several secrets give space-separated signatures that each verify (rotation)", () => {
  const timestamp = Math.floor(Date.now() / 1000);
  const id = "msg_rotate";
  const body = '{"rotated":true}';
  const [current, previous, other] = [generateSecret(), generateSecret(), generateSecret()];
  const sig = signStandardWebhooks({ id, timestamp, body, secrets: [current, previous] });
  const parts = sig.split(" ");
  assert.equal(parts.length, 2);
  assert.equal(parts[0], signStandardWebhooks({ id, timestamp, body, secrets: [current] }));
  assert.equal(parts[1], signStandardWebhooks({ id, timestamp, body, secrets: [previous] }));
  for (const secret of [current, previous]) {
    assert.deepEqual(new Webhook(secret).verify(body, headers(id, timestamp, sig)), {
      rotated: true,
    });
  }
  assert.throws(() => new Webhook(other).verify(body, headers(id, timestamp, sig)));
});

Deno.test("a secret without whsec_ signs with its UTF-8 bytes (raw format)", () => {
  const timestamp = Math.floor(Date.now() / 1000);
  const id = "msg_raw";
  const body = "{}";
  const secret = "my plain shared secret";
  const sig = signStandardWebhooks({ id, timestamp, body, secrets: [secret] });
  assert.deepEqual(
    new Webhook(secret, { format: "raw" }).verify(body, headers(id, timestamp, sig)),
    {},
  );
  assert.deepEqual(decodeSecret(secret), encoder.encode(secret));
  assert.deepEqual(decodeSecret("ключ"), encoder.encode("ключ"));
});

Deno.test("signStandardWebhooks rejects no secrets and bad timestamps", () => {
  const input = { id: "m", timestamp: 1, body: "", secrets: [VECTOR.secret] };
  assert.throws(() => signStandardWebhooks({ ...input, secrets: [] }), RangeError);
  for (const timestamp of [-1, 1.5, NaN, Date.now() * 1e6]) {
    assert.throws(() => signStandardWebhooks({ ...input, timestamp }), RangeError);
  }
});

Deno.test("generateSecret: whsec_ + base64 of 24 random bytes", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const s = generateSecret();
    assert.match(s, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(decodeSecret(s).length, 24);
    seen.add(s);
  }
  assert.equal(seen.size, 100);
});

Deno.test("decodeSecret: whsec_ is base64, errors are typed", () => {
  assert.deepEqual(decodeSecret("whsec_AAEC/w=="), new Uint8Array([0, 1, 2, 255]));
  // Padding is optional.
  assert.deepEqual(decodeSecret("whsec_AAEC/w"), new Uint8Array([0, 1, 2, 255]));
  assert.throws(() => decodeSecret("whsec_not base64!"), TypeError);
  assert.throws(() => decodeSecret("whsec_"), RangeError);
  assert.throws(() => decodeSecret(""), RangeError);
});

Deno.test("signGithub matches GitHub's documented example", () => {
  // https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
  assert.equal(
    signGithub({ body: "Hello, World!", secret: "It's a Secret to Everybody" }),
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
  );
  assert.throws(() => signGithub({ body: "", secret: "" }), RangeError);
});

Deno.test("signStripe: t=, then one v1= per secret over t.body, the secret used as text", () => {
  const body = '{"id":"evt_1"}';
  const v1 = (secret: string) =>
    createHmac("sha256", secret).update(`1614265330.${body}`).digest("hex");
  assert.equal(
    signStripe({ timestamp: 1614265330, body, secrets: ["whsec_a", "whsec_b"] }),
    `t=1614265330,v1=${v1("whsec_a")},v1=${v1("whsec_b")}`,
  );
  assert.throws(() => signStripe({ timestamp: 1, body, secrets: [] }), RangeError);
  assert.throws(() => signStripe({ timestamp: -1, body, secrets: ["s"] }), RangeError);
  assert.deepEqual(textSecret("whsec_AAEC"), encoder.encode("whsec_AAEC"));
  assert.throws(() => textSecret(""), RangeError);
});

Deno.test("an ed25519 key signs v1a beside v1 (a rotation between kinds) and never as HMAC", () => {
  const key = generatePrivateKey();
  const secret = generateSecret();
  const input = { id: "msg_1", timestamp: 1700000000, body: "{}" };
  const [asymmetric, symmetric] = signStandardWebhooks({ ...input, secrets: [key, secret] })
    .split(" ");
  assert.match(asymmetric!, /^v1a,[A-Za-z0-9+/]{86}==$/);
  assert.equal(symmetric, signStandardWebhooks({ ...input, secrets: [secret] }));
  // The schemes that carry only HMAC refuse the key rather than use it as one.
  assert.throws(() => decodeSecret(key), TypeError);
  assert.throws(() => textSecret(key), TypeError);
  assert.throws(() => signGithub({ body: "{}", secret: key }), /ed25519/);
  assert.throws(() => signStripe({ timestamp: 1, body: "{}", secrets: [key] }), /ed25519/);
  // And the message never quotes it.
  assert.throws(() => textSecret(key), (error: Error) => !error.message.includes(key.slice(5)));
});
