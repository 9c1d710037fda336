import assert from "node:assert/strict";
import type { SignatureScheme } from "../config/types.ts";
import { signStandardWebhooks } from "./signing.ts";
import { generateSigningSecret, signingKindOf, signingProblem } from "./signing_kind.ts";

Deno.test("the prefix tells the kind; generated secrets are of the kind asked for", () => {
  assert.equal(signingKindOf("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "hmac");
  assert.equal(signingKindOf("a-plain-text-secret-of-mine"), "hmac");
  assert.equal(signingKindOf("whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="), "ed25519");
  // A text secret the API took before keys existed stays the HMAC secret it was.
  const message = { id: "e", timestamp: 1, body: "{}" };
  for (
    const legacy of ["whsk_a-plain-text-secret", "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk"]
  ) {
    assert.equal(signingKindOf(legacy), "hmac", legacy);
    assert.match(signStandardWebhooks({ ...message, secrets: [legacy] }), /^v1,/);
  }
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
