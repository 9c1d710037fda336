/**
 * mTLS end to end: a receiver that demands a client certificate accepts the
 * one a webhook carries (`tls.client_cert` / `client_key`) and refuses a
 * webhook without one. Deno's TLS listener cannot ask for client
 * certificates, so the receiver is `openssl s_server -Verify 1` on 127.0.0.1,
 * answering the first request through its stdin.
 */
import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { selfSignedCert } from "../testing/self_signed_cert.ts";
import { ScriptedResolver } from "../net/_scripted_resolver.ts";
import { TargetGuard } from "../net/target_guard.ts";

const server = await selfSignedCert(["127.0.0.1"]);
const named = await selfSignedCert(["localhost"]);
const client = await selfSignedCert(["hookd-client"]);

const ONCE = `
[policies.once]
timeout = "3s"
schedule = ["0s"]
on_exhausted = "failed"
`;

/**
 * `openssl s_server` requiring a client certificate issued by `clientCa`;
 * one request. Listens on `hostname` (a loopback address) with `pair`.
 */
async function strictReceiver(
  dir: string,
  clientCa: string,
  { hostname = "127.0.0.1", pair = server! } = {},
) {
  const name = crypto.randomUUID();
  await Deno.writeTextFile(`${dir}/${name}.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/${name}.key`, pair.key);
  await Deno.writeTextFile(`${dir}/client-ca.pem`, clientCa);
  const probe = Deno.listen({ hostname, port: 0 });
  const port = probe.addr.port;
  probe.close();
  const proc = new Deno.Command("openssl", {
    args: [
      "s_server",
      "-accept",
      `${hostname}:${port}`,
      "-cert",
      `${dir}/${name}.pem`,
      "-key",
      `${dir}/${name}.key`,
      "-CAfile",
      `${dir}/client-ca.pem`,
      "-Verify",
      "1",
      "-quiet",
      // One for the readiness probe below, one for the delivery.
      "-naccept",
      "2",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let received = "";
  const writer = proc.stdin.getWriter();
  const reading = (async () => {
    for await (const chunk of proc.stdout.pipeThrough(new TextDecoderStream())) {
      received += chunk;
      if (received.includes("\r\n\r\n")) {
        await writer.write(new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n"));
        await writer.close();
        break;
      }
    }
  })();
  // s_server prints nothing when it is ready: wait until it accepts.
  for (let i = 0; i < 100; i++) {
    const conn = await Deno.connect({ hostname, port }).catch(() => undefined);
    if (conn) {
      conn.close();
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    url: `https://${hostname}:${port}`,
    received: () => received,
    async [Symbol.asyncDispose]() {
      try {
        proc.kill();
      } catch { /* exited */ }
      await proc.status;
      await reading.catch(() => {});
    },
  };
}

type Harness = Parameters<Parameters<typeof withEngine>[1]>[0];

/** Creates a webhook for `url` with `tls`, posts one event, and returns its delivery once final. */
async function deliverOnce(h: Harness, tls: Record<string, unknown>, url: string) {
  const created = await h.api("POST", "/api/v1/webhooks", {
    url,
    event_types: ["m"],
    policy: "once",
    tls,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const event = await h.api("POST", "/api/v1/events", { type: "m", data: {} });
  const id = event.body.deliveries[0].id;
  let delivery: { state: string; attempts: Record<string, unknown>[] } | undefined;
  await h.until(async () => {
    delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
    return delivery!.state === "succeeded" || delivery!.state === "failed";
  });
  await h.api("DELETE", `/api/v1/webhooks/${created.body.id}`);
  return delivery!;
}

Deno.test({
  name: "a webhook's client certificate passes a receiver that demands one (mTLS)",
  ignore: server === undefined || client === undefined, // needs openssl
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using withCert = await strictReceiver(dir, client!.cert);
      await using withoutCert = await strictReceiver(dir, client!.cert);
      await withEngine({ clock: systemClock, configToml: ONCE }, async (h) => {
        const accepted = await deliverOnce(h, {
          ca_certs: [server!.cert],
          client_cert: client!.cert,
          client_key: client!.key,
        }, `${withCert.url}/hook`);
        assert.equal(accepted.state, "succeeded", JSON.stringify(accepted.attempts));
        assert.equal(accepted.attempts[0]!.response_status, 204);
        assert.match(withCert.received(), /^POST \/hook HTTP\/1\.1\r\n/);

        // The same receiver, a webhook that trusts it but has no certificate of its own.
        const refused = await deliverOnce(
          h,
          { ca_certs: [server!.cert] },
          `${withoutCert.url}/hook`,
        );
        assert.equal(refused.state, "failed");
        assert.equal(refused.attempts[0]!.error_kind, "tls", JSON.stringify(refused.attempts));
        assert.equal(withoutCert.received(), "", "nothing reached it");
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "mTLS to a named host pinned to the checked address: the name is verified, the cert sent",
  ignore: named === undefined || client === undefined, // needs openssl
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // Listening on 127.0.0.2 only: a connection that resolved `localhost`
      // itself (127.0.0.1 or ::1) would find nothing there.
      await using receiver = await strictReceiver(dir, client!.cert, {
        hostname: "127.0.0.2",
        pair: named!,
      });
      const resolver = new ScriptedResolver({ localhost: ["127.0.0.2"] });
      const guard = new TargetGuard({ allowPrivate: true, resolver });
      await withEngine({ clock: systemClock, configToml: ONCE, guard }, async (h) => {
        const delivery = await deliverOnce(h, {
          ca_certs: [named!.cert],
          client_cert: client!.cert,
          client_key: client!.key,
        }, `https://localhost:${receiver.port}/hook`);
        assert.equal(delivery.state, "succeeded", JSON.stringify(delivery.attempts));
        assert.match(receiver.received(), /^POST \/hook HTTP\/1\.1\r\nhost: localhost:\d+\r\n/);
        assert.deepEqual(resolver.asked, ["localhost"]);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
