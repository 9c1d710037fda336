import assert from "node:assert/strict";
import type { SignatureScheme } from "../config/types.ts";
import { generateSigningSecret, signingKindOf, signingProblem } from "./signing_kind.ts";

Deno.test("the prefix tells the kind; generated secrets are of the kind asked for", () => {
  assert.equal(signingKindOf("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "hmac");
  assert.equal(signingKindOf("a-plain-text-secret-of-mine"), "hmac");
  assert.equal(signingKindOf("whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="), "ed25519");
  assert.match(generateSigningSecret("hmac"), /^whsec_/);
  assert.match(generateSigningSecret("ed25519"), /^whsk_/);
  assert.equal(signingKindOf(generateSigningSecret("ed25519")), "ed25519");
});

Deno.test("an ed25519 key goes with standard-webhooks, svix and none only", () => {
  const schemes: [SignatureScheme, boolean][] = [
    [{ kind: "standard-webhooks", headerPrefix: "webhook" }, true],
    [{ kind: "standard-webhooks", headerPrefix: "svix" }, true],
    [{ kind: "none" }, true],
    [{ kind: "github" }, false],
    [{ kind: "stripe" }, false],
    [{ kind: "hmac-sha256", header: "X-Sig", content: [], encoding: "hex", prefix: "" }, false],
  ];
  for (const [scheme, fits] of schemes) {
    assert.equal(signingProblem(scheme, "ed25519") === undefined, fits, scheme.kind);
    assert.equal(signingProblem(scheme, "hmac"), undefined, scheme.kind);
  }
  assert.match(signingProblem({ kind: "github" }, "ed25519")!, /"github" signs with HMAC only/);
});
