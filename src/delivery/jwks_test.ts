import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { fromBase64, toBase64 } from "./base64.ts";
import { generatePrivateKey, publicKeyOf, signEd25519 } from "./ed25519_keys.ts";
import { jwkOf, jwksOf } from "./jwks.ts";
import { generateSecret } from "./signing.ts";

// RFC 8037 Appendix A.1 (the public key of RFC 8032 TEST 1) and A.3 (its RFC 7638 thumbprint).
const RFC8037 = {
  x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
  thumbprint: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
};

function whpkOf(x: string): string {
  return "whpk_" + toBase64(fromBase64(x.replaceAll("-", "+").replaceAll("_", "/")));
}

Deno.test("jwkOf gives the RFC 8037 OKP form with the RFC 7638 thumbprint as kid", () => {
  assert.deepEqual(jwkOf(whpkOf(RFC8037.x)), {
    kty: "OKP",
    crv: "Ed25519",
    x: RFC8037.x,
    kid: RFC8037.thumbprint,
    use: "sig",
    alg: "EdDSA",
  });
});

Deno.test("jwksOf lists the ed25519 keys in order and leaves HMAC secrets out", () => {
  const current = generatePrivateKey();
  const previous = generatePrivateKey();
  const set = jwksOf([current, previous]);
  assert.deepEqual(set.keys.map((k) => k.x), [
    jwkOf(publicKeyOf(current)).x,
    jwkOf(publicKeyOf(previous)).x,
  ]);
  assert.deepEqual(jwksOf([generateSecret(), "plain-text-secret-1234"]).keys, []);
  // Nothing private in it: the key set is the public halves only.
  assert.ok(!JSON.stringify(set).includes(current.slice(5)));
  // A receiver imports a listed key as is and verifies a signature with it.
  const jwk = set.keys[0]!;
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  const message = new TextEncoder().encode("id.1.{}");
  assert.ok(verify(null, message, key, fromBase64(signEd25519(current, "id.1.{}"))));
});
