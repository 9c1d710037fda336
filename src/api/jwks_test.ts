import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { fromBase64 } from "../delivery/base64.ts";
import { signStandardWebhooks } from "../delivery/signing.ts";
import { type ApiHarness, type Json, withApi } from "../testing/api_harness.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** GET without an API key, as a receiver would fetch it. */
async function fetchJwks(api: ApiHarness, path: string) {
  const response = await api.request("GET", path, { key: null });
  return {
    status: response.status,
    cacheControl: response.headers.get("cache-control"),
    text: await response.text(),
  };
}

/** Whether `signature` (the `v1a,` values of a `webhook-signature` header) verifies under `jwk`. */
function verifies(jwk: Json, message: string, signature: string): boolean {
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  return verify(null, new TextEncoder().encode(message), key, fromBase64(signature));
}

/** The private keys as stored, which only the store and the signer ever see. */
async function storedSecrets(api: ApiHarness, id: string): Promise<string[]> {
  const webhook = await api.store.read("getWebhook", { id });
  const owner = webhook ?? await api.store.read("getCredential", { id });
  return [owner!.secret, owner!.previousSecret].filter((s): s is string => s !== null);
}

Deno.test("jwks: an ed25519 webhook's key set needs no API key and verifies its v1a signatures", async () => {
  await withApi(async (api) => {
    const created = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/hooks", signing: "ed25519" },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.signing, "ed25519");
    assert.equal(created.body.secret, null, "the private key is never shown");
    assert.match(created.body.public_key, /^whpk_[A-Za-z0-9+/]{43}=$/);
    const id = created.body.id as string;
    // The public key stays readable.
    const read = await api.json("GET", `/api/v1/webhooks/${id}`);
    assert.equal(read.body.public_key, created.body.public_key);

    const jwks = await fetchJwks(api, `/api/v1/webhooks/${id}/jwks.json`);
    assert.equal(jwks.status, 200, jwks.text);
    assert.equal(jwks.cacheControl, "public, max-age=300");
    const set = JSON.parse(jwks.text);
    assert.equal(set.keys.length, 1);
    const [jwk] = set.keys;
    assert.deepEqual(
      { kty: jwk.kty, crv: jwk.crv, use: jwk.use, alg: jwk.alg },
      { kty: "OKP", crv: "Ed25519", use: "sig", alg: "EdDSA" },
    );
    assert.match(jwk.kid, /^[A-Za-z0-9_-]{43}$/);
    // x is the same 32 bytes as the whpk_ key, base64url.
    assert.deepEqual(
      fromBase64(jwk.x.replaceAll("-", "+").replaceAll("_", "/")),
      fromBase64(created.body.public_key.slice(5)),
    );

    // What the webhook signs with verifies under the published key, and only that.
    const [key] = await storedSecrets(api, id);
    const message = { id: "evt_1", timestamp: 1_800_000_000, body: '{"n":1}' };
    const header = signStandardWebhooks({ ...message, secrets: [key!] });
    assert.match(header, /^v1a,/);
    const text = `${message.id}.${message.timestamp}.${message.body}`;
    assert.ok(verifies(jwk, text, header.slice(4)));
    assert.ok(!verifies(jwk, text + " ", header.slice(4)));
  });
});

Deno.test("jwks: a rotation lists the new key and the old one until the overlap ends", async () => {
  await withApi(async (api) => {
    const { body: created } = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/hooks", signing: "ed25519" },
    });
    const path = `/api/v1/webhooks/${created.id}/jwks.json`;
    const before = JSON.parse((await fetchJwks(api, path)).text).keys;
    const rotated = await api.json("POST", `/api/v1/webhooks/${created.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.secret, null);
    assert.match(rotated.body.public_key, /^whpk_/);
    assert.notEqual(rotated.body.public_key, created.public_key);
    const read = (await api.json("GET", `/api/v1/webhooks/${created.id}`)).body;
    assert.equal(read.public_key, rotated.body.public_key);
    assert.equal(read.signing, "ed25519", "rotation keeps the kind");

    const during = JSON.parse((await fetchJwks(api, path)).text).keys;
    assert.equal(during.length, 2);
    assert.deepEqual(during[1], before[0], "the previous key, second");
    assert.notEqual(during[0].kid, during[1].kid);
    // Both stored keys sign, current first, and each signature verifies under its listed key.
    const secrets = await storedSecrets(api, created.id);
    const header = signStandardWebhooks({ id: "e", timestamp: 1, body: "{}", secrets });
    const signatures = header.split(" ").map((s) => s.slice(4));
    assert.equal(signatures.length, 2);
    assert.ok(verifies(during[0], "e.1.{}", signatures[0]!));
    assert.ok(verifies(during[1], "e.1.{}", signatures[1]!));

    api.clock.advance(DAY_MS);
    const after = JSON.parse((await fetchJwks(api, path)).text).keys;
    assert.deepEqual(after, [during[0]], "the old key is gone with its overlap");
  });
});

Deno.test("jwks: unknown, deleted, HMAC and unsigned all answer the same 404", async () => {
  await withApi(async (api) => {
    const hmac = (await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/a" },
    })).body;
    assert.equal(hmac.signing, "hmac");
    assert.equal(hmac.public_key, null);
    const unsigned = (await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/b", secret: null },
    })).body;
    assert.equal(unsigned.signing, "none");
    const deleted = (await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/c", signing: "ed25519" },
    })).body;
    assert.equal((await api.request("DELETE", `/api/v1/webhooks/${deleted.id}`)).status, 204);
    const credential = (await api.json("POST", "/api/v1/credentials", { body: { name: "h" } }))
      .body;

    // The same id in every request, so the answers can be compared byte for byte.
    const answers = [];
    for (const id of [hmac.id, unsigned.id, deleted.id, "0190aaaa-0000-7000-8000-000000000000"]) {
      const answer = await fetchJwks(api, `/api/v1/webhooks/${id}/jwks.json`);
      answers.push({ ...answer, text: answer.text.replaceAll(id, "ID") });
    }
    for (const id of [credential.id, "0190aaaa-0000-7000-8000-000000000000"]) {
      const answer = await fetchJwks(api, `/api/v1/credentials/${id}/jwks.json`);
      answers.push({
        ...answer,
        text: answer.text.replaceAll(id, "ID").replace("credential", "webhook"),
      });
    }
    for (const answer of answers) {
      assert.deepEqual(answer, {
        status: 404,
        cacheControl: "no-store",
        text: JSON.stringify({
          error: {
            code: "not_found",
            message: 'No published signing keys for webhook "ID"',
            details: null,
          },
        }),
      });
    }
  });
});

Deno.test("jwks: a webhook using an ed25519 credential publishes the credential's keys", async () => {
  await withApi(async (api) => {
    const credential = await api.json("POST", "/api/v1/credentials", {
      body: { name: "keys", signing: "ed25519" },
    });
    assert.equal(credential.status, 201);
    assert.equal(credential.body.secret, null);
    assert.equal(credential.body.signing, "ed25519");
    const read = await api.json("GET", `/api/v1/credentials/${credential.body.id}`);
    assert.equal(read.body.public_key, credential.body.public_key);
    const webhook = (await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/hooks", credential_id: credential.body.id },
    })).body;
    const own = await fetchJwks(api, `/api/v1/credentials/${credential.body.id}/jwks.json`);
    const viaWebhook = await fetchJwks(api, `/api/v1/webhooks/${webhook.id}/jwks.json`);
    assert.equal(own.status, 200);
    assert.equal(viaWebhook.text, own.text);

    const rotated = await api.json(
      "POST",
      `/api/v1/credentials/${credential.body.id}/rotate-secret`,
    );
    assert.equal(rotated.body.secret, null);
    assert.match(rotated.body.public_key, /^whpk_/);
    const keys = JSON.parse(
      (await fetchJwks(api, `/api/v1/webhooks/${webhook.id}/jwks.json`)).text,
    ).keys;
    assert.equal(keys.length, 2);
  });
});

Deno.test("signing: the choice is validated, and ed25519 needs a profile that carries v1a", async () => {
  const config = `
[profiles.gh]
signature = { scheme = "github" }
[profiles.quiet]
signature = { scheme = "none" }
`;
  await withApi(async (api) => {
    const refused = async (path: string, body: unknown, field: string, message: RegExp) => {
      const res = await api.json(path.endsWith("}") ? "PATCH" : "POST", path, { body });
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(res.body.error.details[0].field, field, JSON.stringify(res.body));
      assert.match(res.body.error.details[0].message, message);
    };
    const url = "https://example.com/hooks";
    const key = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=";
    await refused("/api/v1/webhooks", { url, signing: "rsa" }, "signing", /"ed25519"/);
    await refused(
      "/api/v1/webhooks",
      { url, signing: "ed25519", secret: "a".repeat(20) },
      "secret",
      /hookd generates ed25519 keys/,
    );
    await refused(
      "/api/v1/webhooks",
      { url, signing: "ed25519", secret: null },
      "secret",
      /leave "secret" out/,
    );
    await refused("/api/v1/webhooks", { url, secret: key }, "secret", /hookd generates itself/);
    await refused("/api/v1/credentials", { name: "c", secret: key }, "secret", /ed25519/);
    await refused(
      "/api/v1/credentials",
      { name: "c", signing: "ed25519", secret: "a".repeat(20) },
      "secret",
      /hookd generates/,
    );
    await refused(
      "/api/v1/webhooks",
      { url, signing: "ed25519", profile: "gh" },
      "profile",
      /"github" signs with HMAC only/,
    );

    // A profile with no signature takes any key; switching to one that cannot sign it is refused.
    const quiet = await api.json("POST", "/api/v1/webhooks", {
      body: { url, signing: "ed25519", profile: "quiet" },
    });
    assert.equal(quiet.status, 201);
    const path = `/api/v1/webhooks/${quiet.body.id}`;
    const patch = (body: unknown) => api.json("PATCH", path, { body });
    assert.equal((await patch({ profile: "gh" })).status, 400);
    assert.equal((await patch({ profile: "standard" })).status, 200);

    // Pointing an HMAC webhook on a github profile at an ed25519 credential is refused too.
    const credential = (await api.json("POST", "/api/v1/credentials", {
      body: { name: "k", signing: "ed25519" },
    })).body;
    const gh = (await api.json("POST", "/api/v1/webhooks", { body: { url, profile: "gh" } })).body;
    const moved = await api.json("PATCH", `/api/v1/webhooks/${gh.id}`, {
      body: { credential_id: credential.id },
    });
    assert.equal(moved.status, 400);
    assert.equal(moved.body.error.details[0].field, "credential_id");
    await refused(
      "/api/v1/webhooks",
      { url, profile: "gh", credential_id: credential.id },
      "profile",
      /HMAC only/,
    );
  }, config);
});

Deno.test("signing: the private key appears in no API answer, not even base64 alone", async () => {
  await withApi(async (api) => {
    const answers: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await api.request(method, path, { body });
      const text = await response.text();
      answers.push(text);
      return text === "" ? null : JSON.parse(text);
    };
    const credential = await call("POST", "/api/v1/credentials", { name: "k", signing: "ed25519" });
    const webhook = await call("POST", "/api/v1/webhooks", {
      url: "https://example.com/hooks",
      signing: "ed25519",
    });
    await call("POST", `/api/v1/webhooks/${webhook.id}/rotate-secret`);
    await call("POST", `/api/v1/credentials/${credential.id}/rotate-secret`);
    await call("PATCH", `/api/v1/webhooks/${webhook.id}`, { description: "x" });
    for (
      const path of [
        `/api/v1/webhooks/${webhook.id}`,
        "/api/v1/webhooks",
        `/api/v1/credentials/${credential.id}`,
        "/api/v1/credentials",
        `/api/v1/webhooks/${webhook.id}/jwks.json`,
        `/api/v1/credentials/${credential.id}/jwks.json`,
      ]
    ) await call("GET", path);
    const keys = [
      ...await storedSecrets(api, webhook.id),
      ...await storedSecrets(api, credential.id),
    ];
    assert.equal(keys.length, 4);
    for (const key of keys) {
      assert.match(key, /^whsk_/);
      for (const answer of answers) {
        assert.ok(!answer.includes(key.slice(5)), "a private key in an API answer");
        const urlSafe = key.slice(5).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
        assert.ok(!answer.includes(urlSafe), "a private key, base64url, in an API answer");
      }
    }
  });
});
