import assert from "node:assert/strict";
import type { CredentialRecord } from "../store/credentials.ts";
import type { WebhookRecord } from "../store/webhooks.ts";
import { signingMaterial } from "./signing_material.ts";

const NOW = 1_000_000;
const hook = (extra: Partial<WebhookRecord>) =>
  ({
    secret: "whsec_own",
    previousSecret: "whsec_old",
    previousSecretUntil: NOW + 1,
    headers: { "X-Team": "a" },
    credentialId: null,
    ...extra,
  }) as WebhookRecord;
const credential = {
  id: "c1",
  secret: "shared-new",
  previousSecret: "shared-old",
  previousSecretUntil: NOW + 1,
  headers: { "X-Api-Key": "k", "X-Team": "from-credential" },
} as unknown as CredentialRecord;

Deno.test("a webhook signs with its own secrets; the previous one until its overlap ends", () => {
  assert.deepEqual(signingMaterial(hook({}), undefined, NOW), {
    secrets: ["whsec_own", "whsec_old"],
    headers: { "X-Team": "a" },
  });
  assert.deepEqual(signingMaterial(hook({}), undefined, NOW + 1)!.secrets, ["whsec_own"]);
  assert.deepEqual(
    signingMaterial(hook({ secret: null, previousSecret: null }), undefined, NOW)!.secrets,
    [],
  );
});

Deno.test("a credential's secrets and headers replace and merge with the webhook's", () => {
  assert.deepEqual(signingMaterial(hook({ credentialId: "c1" }), credential, NOW), {
    secrets: ["shared-new", "shared-old"],
    headers: { "X-Api-Key": "k", "X-Team": "a" },
  });
  assert.equal(signingMaterial(hook({ credentialId: "c1" }), undefined, NOW), undefined);
});
