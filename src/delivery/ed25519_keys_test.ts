import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { fromBase64, toBase64, toBase64Url } from "./base64.ts";
import {
  generatePrivateKey,
  isPrivateKey,
  publicKeyOf,
  rawPublicKey,
  signEd25519,
} from "./ed25519_keys.ts";
import { signStandardWebhooks } from "./signing.ts";

const hex = (text: string) => Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));

// RFC 8032 §7.1, TEST 1: a seed, its public key and the signature of the empty message.
const RFC8032 = {
  seed: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
  publicKey: hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
  signature: hex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  ),
};

// The asymmetric vector of the Standard Webhooks reference library
// (libraries/go/webhook_asymmetric_test.go, TestAsymmetricWebhookSign): the
// key is the base64 of a 32-byte seed, as `whsk_` keys are here.
const STANDARD_WEBHOOKS = {
  key: "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature:
    "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==",
};

/** A node:crypto public key from a `whpk_` key, the way a receiver would build one. */
function receiverKey(publicKey: string) {
  const x = toBase64Url(rawPublicKey(publicKey));
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
}

Deno.test("signStandardWebhooks matches the Standard Webhooks asymmetric (v1a) vector", () => {
  const { key, id, timestamp, body, signature } = STANDARD_WEBHOOKS;
  assert.equal(signStandardWebhooks({ id, timestamp, body, secrets: [key] }), signature);
});

Deno.test("ed25519 keys match RFC 8032 TEST 1: public key and signature", () => {
  const key = "whsk_" + toBase64(RFC8032.seed);
  assert.equal(publicKeyOf(key), "whpk_" + toBase64(RFC8032.publicKey));
  assert.deepEqual(rawPublicKey(publicKeyOf(key)), RFC8032.publicKey);
  assert.deepEqual(fromBase64(signEd25519(key, "")), RFC8032.signature);
});

Deno.test("a generated key is whsk_ and base64 of 32 fresh bytes; its signatures verify", () => {
  const key = generatePrivateKey();
  assert.match(key, /^whsk_[A-Za-z0-9+/]{43}=$/);
  assert.equal(fromBase64(key.slice(5)).length, 32);
  assert.ok(isPrivateKey(key));
  assert.notEqual(generatePrivateKey(), key);
  const publicKey = publicKeyOf(key);
  assert.match(publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
  const message = 'msg_1.1700000000.{"é":1}';
  const signature = fromBase64(signEd25519(key, message));
  assert.equal(signature.length, 64);
  const data = new TextEncoder().encode(message);
  assert.ok(verify(null, data, receiverKey(publicKey), signature));
  assert.ok(!verify(null, data, receiverKey(publicKeyOf(generatePrivateKey())), signature));
  // Signing is deterministic (RFC 8032): the cached key object changes nothing.
  assert.equal(signEd25519(key, message), signEd25519(key, message));
});

Deno.test("a malformed key is refused without quoting it", () => {
  for (const bad of ["whsk_", "whsk_not base64!", "whsk_" + toBase64(new Uint8Array(31))]) {
    assert.throws(() => signEd25519(bad, "m"), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.ok(!error.message.includes(bad.slice(5)) || bad === "whsk_", error.message);
      return true;
    });
  }
  assert.throws(() => publicKeyOf("whsec_AAAA"), TypeError);
  assert.throws(() => rawPublicKey("whsk_" + toBase64(new Uint8Array(32))), TypeError);
  assert.throws(() => rawPublicKey("whpk_" + toBase64(new Uint8Array(33))), TypeError);
});
