/**
 * ed25519 signing end to end, against the real program: a receiver on
 * 127.0.0.1 verifies each `v1a` signature with `node:crypto` against the key
 * it fetched from the daemon's `jwks.json` without an API key, before and
 * during a rotation; then the private keys, read from the database file, are
 * searched for in everything that leaves the daemon: its output at debug
 * level, every API answer and the attempt records.
 */
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { createClient } from "@libsql/client/node";
import { type ReceivedRequest, startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, type RunningDaemon, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "ed25519-test-admin-key-0123456789";

interface Jwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
}

async function until(what: string, condition: () => Promise<boolean> | boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The `v1a` signatures of a request, in header order. */
function v1aSignatures(request: ReceivedRequest): string[] {
  return request.headers["webhook-signature"]!.split(" ").map((part) => {
    assert.match(part, /^v1a,/, "every signature is v1a");
    return part.slice(4);
  });
}

/** What a receiver does: verify over `id.timestamp.body` with a key from the set. */
function verifiesWith(jwk: Jwk, request: ReceivedRequest, signature: string): boolean {
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  const signed = `${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.`;
  const message = new Uint8Array([...new TextEncoder().encode(signed), ...request.bodyBytes]);
  return verify(null, message, key, Buffer.from(signature, "base64"));
}

Deno.test("v1a signatures verify against the JWKS keys, during a rotation too; the private keys never leave", async () => {
  await using receiver = await startReceiver();
  const dir = await Deno.makeTempDir({ prefix: "hookd-ed25519-" });
  const env = daemonEnv(dir, ADMIN_KEY, {
    HOOKD_LOG_LEVEL: "debug",
  });
  /** Every API answer, as text, to search afterwards. */
  const answers: string[] = [];
  let daemon: RunningDaemon | undefined;
  const call = async <T>(method: string, path: string, body?: unknown, key = ADMIN_KEY) => {
    const answer = await api<T>(daemon!, method, path, { key, body });
    answers.push(JSON.stringify(answer.body));
    return answer;
  };
  /** The key set as a receiver fetches it: plain GET, no Authorization. */
  const jwks = async (path: string): Promise<Jwk[]> => {
    const response = await fetch(new URL(path, daemon!.url));
    const text = await response.text();
    answers.push(text);
    assert.equal(response.status, 200, text);
    assert.equal(response.headers.get("cache-control"), "public, max-age=300");
    return (JSON.parse(text) as { keys: Jwk[] }).keys;
  };
  const deliveryIds: string[] = [];
  const post = async (type: string) => {
    const accepted = await call<{ deliveries: { id: string }[] }>("POST", "/api/v1/events", {
      type,
      data: { order: 42, note: "é" },
    });
    assert.equal(accepted.status, 202);
    deliveryIds.push(...accepted.body.deliveries.map((d) => d.id));
  };

  try {
    daemon = await startDaemon({ dir, env });
    const webhook = await call<{ id: string; secret: null; public_key: string }>(
      "POST",
      "/api/v1/webhooks",
      { url: `${receiver.url}/own`, event_types: ["own.*"], signing: "ed25519" },
    );
    assert.equal(webhook.status, 201);
    assert.equal(webhook.body.secret, null);
    const credential = await call<{ id: string }>("POST", "/api/v1/credentials", {
      name: "shared-keys",
      signing: "ed25519",
    });
    const viaCredential = await call<{ id: string }>("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/shared`,
      event_types: ["shared.*"],
      credential_id: credential.body.id,
    });
    const ownPath = `/api/v1/webhooks/${webhook.body.id}/jwks.json`;
    const sharedPath = `/api/v1/webhooks/${viaCredential.body.id}/jwks.json`;
    // An unauthenticated request elsewhere is refused: the key sets are the exception.
    assert.equal((await fetch(new URL("/api/v1/webhooks", daemon.url))).status, 401);

    // One key each: every delivery's one signature verifies against it.
    const [ownKey] = await jwks(ownPath);
    const [sharedKey] = await jwks(sharedPath);
    assert.ok(ownKey && sharedKey);
    await post("own.created");
    await post("shared.created");
    const first = await receiver.waitForRequests(2, 20_000);
    for (const request of first) {
      const key: Jwk = request.path === "/own" ? ownKey : sharedKey;
      const [signature, ...more] = v1aSignatures(request);
      assert.deepEqual(more, []);
      assert.ok(verifiesWith(key, request, signature!), `${request.path} verifies`);
      const other: Jwk = request.path === "/own" ? sharedKey : ownKey;
      assert.ok(!verifiesWith(other, request, signature!), "and not under another key");
    }

    // Rotation: two signatures, the new key's first; each verifies against its key in the set.
    await call("POST", `/api/v1/webhooks/${webhook.body.id}/rotate-secret`);
    await call("POST", `/api/v1/credentials/${credential.body.id}/rotate-secret`);
    const ownKeys = await jwks(ownPath);
    const sharedKeys = await jwks(sharedPath);
    assert.deepEqual(ownKeys[1], ownKey, "the previous key is still listed");
    assert.deepEqual(sharedKeys[1], sharedKey);
    await post("own.updated");
    await post("shared.updated");
    const rotated = (await receiver.waitForRequests(4, 20_000)).slice(2);
    for (const request of rotated) {
      const keys = request.path === "/own" ? ownKeys : sharedKeys;
      const signatures = v1aSignatures(request);
      assert.equal(signatures.length, 2);
      signatures.forEach((signature, i) => {
        assert.ok(verifiesWith(keys[i]!, request, signature), `${request.path} signature ${i}`);
      });
    }

    // The API's own views of what was sent: webhooks, credentials and attempts.
    await until("every attempt recorded", async () => {
      for (const id of deliveryIds) {
        const delivery = await api<{ state: string }>(daemon!, "GET", `/api/v1/deliveries/${id}`, {
          key: ADMIN_KEY,
        });
        if (delivery.body.state !== "succeeded") return false;
      }
      return true;
    });
    for (const id of deliveryIds) {
      const delivery = await call<{ attempts: { request_headers: Record<string, string> }[] }>(
        "GET",
        `/api/v1/deliveries/${id}`,
      );
      assert.match(delivery.body.attempts[0]!.request_headers["webhook-signature"]!, /^v1a,/);
    }
    for (
      const path of [
        `/api/v1/webhooks/${webhook.body.id}`,
        "/api/v1/webhooks",
        `/api/v1/credentials/${credential.body.id}`,
        "/api/v1/credentials",
        `/api/v1/webhooks/${webhook.body.id}/deliveries?include=attempts`,
      ]
    ) await call("GET", path);
    assert.equal(await daemon.stop("SIGTERM"), 0);

    // Now the private keys, from where they live, and what was stored of each attempt.
    const db = createClient({ url: `file:${dir}/hookd.db` });
    let keys: string[];
    let attemptRecords: string;
    try {
      const rows = (await db.execute(`
        SELECT secret, previous_secret FROM webhooks WHERE id = '${webhook.body.id}'
        UNION ALL SELECT secret, previous_secret FROM credentials`)).rows;
      keys = rows.flatMap((row) => [String(row.secret), String(row.previous_secret)]);
      attemptRecords = JSON.stringify(
        (await db.execute("SELECT * FROM attempts")).rows.map((row) => Object.values(row)),
      );
    } finally {
      db.close();
    }
    assert.equal(keys.length, 4);
    const places = {
      "the daemon's output": daemon.output(),
      "an API answer": answers.join("\n"),
      "the attempt records": attemptRecords,
      "a delivered request": JSON.stringify(receiver.requests.map((r) => r.headers)),
    };
    assert.match(places["the daemon's output"], /"msg":"attempt"/, "attempts were logged");
    for (const key of keys) {
      assert.match(key, /^whsk_[A-Za-z0-9+/]{43}=$/);
      const base64 = key.slice(5);
      const base64url = base64.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
      for (const [place, text] of Object.entries(places)) {
        const hex = Buffer.from(base64, "base64").toString("hex");
        for (const form of [base64, base64.replace(/=+$/, ""), base64url, hex]) {
          assert.ok(!text.includes(form), `a private key in ${place}`);
        }
      }
    }
  } finally {
    await daemon?.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
