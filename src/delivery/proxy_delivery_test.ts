/**
 * Deliveries through a forward proxy, end to end in-process: the SSRF guard
 * checks every target before the proxy hears of it, the proxy is asked to
 * CONNECT to the checked address only, TLS inside the tunnel is verified for
 * the URL's name, proxy failures are their own kind that policies classify,
 * and the proxy's credentials stay out of attempt records, API answers and
 * logs.
 */
import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { ScriptedResolver } from "../net/_scripted_resolver.ts";
import { TargetGuard } from "../net/target_guard.ts";
import { startConnectProxy } from "../testing/connect_proxy.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { captureLogs } from "../testing/log_capture.ts";
import { startReceiver } from "../testing/receiver.ts";
import { selfSignedCert } from "../testing/self_signed_cert.ts";
import { ONCE_AND_THRICE } from "../testing/policies_toml.ts";
import { CLOSED_PORT } from "../testing/closed_port.ts";

// Safety: the proxies listen on 127.0.0.1 and tunnel to loopback only;
// receivers listen on 127.0.0.2. Webhook URLs name `receiver.test` and
// friends, which only the scripted resolver answers (127.0.0.2, or 10.0.0.5
// for the rebinding name, which the guard refuses and nothing connects to).

const PASSWORD = "pr0xy-pa55word";
const cert = await selfSignedCert(["receiver.test"]);
const TERMINAL = new Set(["succeeded", "failed", "dead"]);
const ONLY_ADDRESSES = /^CONNECT \d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d+ HTTP\/1\.1$/;

function configToml(proxyPort: number, otherPort = proxyPort) {
  return `
[delivery]
proxy = "http://hookd:${PASSWORD}@127.0.0.1:${proxyPort}"
proxies = { other = "http://127.0.0.1:${otherPort}" }
${ONCE_AND_THRICE}
[policies.retry_network]
timeout = "2s"
schedule = ["0s", "1h"]
jitter = 0
retry = ["network"]
on_exhausted = "failed"

[policies.retry_5xx]
timeout = "2s"
schedule = ["0s", "1h"]
jitter = 0
retry = ["5xx"]
on_exhausted = "failed"
`;
}

function guardFor(script: ConstructorParameters<typeof ScriptedResolver>[0]) {
  const resolver = new ScriptedResolver(script);
  // Loopback allowed by range; 10.0.0.5 is private and stays blocked.
  return { resolver, guard: new TargetGuard({ resolver, allowCidrs: ["127.0.0.0/8"] }) };
}

type Harness = Parameters<Parameters<typeof withEngine>[1]>[0];
type Delivery = { state: string; attempts: Record<string, unknown>[] };
let webhooks = 0;

/** Creates a webhook, posts one event to it, and waits until `done` holds for its delivery. */
async function deliver(
  h: Harness,
  webhook: Record<string, unknown>,
  done: (d: Delivery) => boolean = (d) => TERMINAL.has(d.state),
) {
  // A type of its own, so the event fans out to this webhook alone.
  const type = `t.proxy${++webhooks}`;
  const created = await h.api("POST", "/api/v1/webhooks", { event_types: [type], ...webhook });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const event = await h.api("POST", "/api/v1/events", { type, data: { n: 1 } });
  assert.equal(event.status, 202);
  const id = event.body.deliveries[0].id as string;
  let delivery: Delivery | undefined;
  await h.until(async () => {
    delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
    return done(delivery!);
  });
  return { webhook: created.body, delivery: delivery! };
}

Deno.test("an http delivery goes through a CONNECT tunnel to the checked address, with the proxy's credentials", async () => {
  await using receiver = await startReceiver({ hostname: "127.0.0.2" });
  await using proxy = startConnectProxy();
  const { guard, resolver } = guardFor({ "receiver.test": ["127.0.0.2"] });
  const logs = captureLogs();
  await withEngine(
    { clock: systemClock, configToml: configToml(proxy.port), guard, log: logs.log },
    async (h) => {
      const { webhook, delivery } = await deliver(h, {
        url: `http://receiver.test:${receiver.port}/hook?x=1`,
        policy: "once",
      });
      assert.equal(delivery.state, "succeeded", JSON.stringify(delivery.attempts));
      assert.equal(webhook.proxy, null, "the default proxy: not named on the webhook");
      const [got] = await receiver.waitForRequests(1);
      assert.equal(got!.path, "/hook?x=1");
      assert.equal(got!.headers["host"], `receiver.test:${receiver.port}`);
      assert.deepEqual(proxy.requests.map((r) => r.line), [
        `CONNECT 127.0.0.2:${receiver.port} HTTP/1.1`,
      ]);
      const basic = `Basic ${btoa(`hookd:${PASSWORD}`)}`;
      assert.equal(proxy.requests[0]!.headers["proxy-authorization"], basic);
      assert.deepEqual(resolver.asked, ["receiver.test"], "hookd resolved, the proxy did not");

      // The credentials are nowhere but on the wire to the proxy.
      const everything = JSON.stringify([
        delivery,
        (await h.api("GET", `/api/v1/webhooks/${webhook.id}`)).body,
        (await h.api("GET", `/api/v1/webhooks/${webhook.id}/deliveries`)).body,
        logs.text(),
      ]);
      for (const secret of [PASSWORD, basic, btoa(`hookd:${PASSWORD}`)]) {
        assert.ok(!everything.includes(secret), `${secret} leaked`);
      }
      assert.ok(!("proxy-authorization" in (delivery.attempts[0]!.request_headers as object)));
    },
  );
});

Deno.test({
  name: "https through the proxy verifies the receiver's name end to end; another name is refused",
  ignore: cert === undefined, // needs openssl
  fn: async () => {
    await using receiver = await startReceiver({ hostname: "127.0.0.2", tls: cert! });
    await using proxy = startConnectProxy();
    const { guard } = guardFor({ "receiver.test": ["127.0.0.2"], "wrong.test": ["127.0.0.2"] });
    await withEngine(
      { clock: systemClock, configToml: configToml(proxy.port), guard },
      async (h) => {
        const tls = { ca_certs: [cert!.cert] };
        const ok = await deliver(h, {
          url: `https://receiver.test:${receiver.port}/secure`,
          policy: "once",
          tls,
        });
        assert.equal(ok.delivery.state, "succeeded", JSON.stringify(ok.delivery.attempts));
        assert.equal(receiver.requests[0]?.headers["host"], `receiver.test:${receiver.port}`);

        const wrong = await deliver(h, {
          url: `https://wrong.test:${receiver.port}/secure`,
          policy: "once",
          tls,
        });
        assert.equal(wrong.delivery.state, "failed");
        assert.equal(wrong.delivery.attempts[0]!.error_kind, "tls");
        assert.equal(receiver.requests.length, 1, "nothing was sent to the wrong name");
        for (const request of proxy.requests) assert.match(request.line, ONLY_ADDRESSES);
      },
    );
  },
});

Deno.test("a rebinding name is refused before the proxy is asked; the proxy only ever sees checked addresses", async () => {
  await using receiver = await startReceiver({
    hostname: "127.0.0.2",
    respond: () => ({ status: 503 }),
  });
  await using proxy = startConnectProxy();
  const { guard } = guardFor({
    "public.test": ["10.0.0.5"],
    "flip.test": { sequence: [["127.0.0.2"], ["10.0.0.5"], ["10.0.0.5"]] },
  });
  await withEngine({ clock: systemClock, configToml: configToml(proxy.port), guard }, async (h) => {
    const refused = await deliver(h, {
      url: `http://public.test:${receiver.port}/`,
      policy: "once",
    });
    assert.equal(refused.delivery.state, "failed");
    assert.equal(refused.delivery.attempts[0]!.error_kind, "blocked");
    assert.match(
      String(refused.delivery.attempts[0]!.error_message),
      /public\.test resolves to 10\.0\.0\.5/,
    );
    assert.equal(proxy.connectionCount, 0, "the proxy was never contacted");
    assert.equal(proxy.requests.length, 0);

    // First answer allowed and tunnelled, then the name moves to a private address.
    const flipped = await deliver(h, {
      url: `http://flip.test:${receiver.port}/`,
      policy: "thrice",
    });
    assert.equal(flipped.delivery.state, "dead");
    assert.deepEqual(
      flipped.delivery.attempts.map((a) => [a.response_status, a.error_kind]),
      [[503, "status"], [null, "blocked"], [null, "blocked"]],
    );
    assert.deepEqual(proxy.requests.map((r) => r.line), [
      `CONNECT 127.0.0.2:${receiver.port} HTTP/1.1`,
    ]);
    assert.equal(receiver.requests.length, 1);
  });
});

Deno.test("proxy failures are attempts of kind proxy that policies classify under network", async () => {
  await using receiver = await startReceiver({ hostname: "127.0.0.2" });
  await using proxy = startConnectProxy();
  proxy.answer(() => 407);
  const { guard } = guardFor({ "receiver.test": ["127.0.0.2"] });
  const logs = captureLogs();
  await withEngine(
    { clock: systemClock, configToml: configToml(proxy.port), guard, log: logs.log },
    async (h) => {
      const url = `http://receiver.test:${receiver.port}/`;
      const retried = await deliver(
        h,
        { url, policy: "retry_network" },
        (d) => d.attempts.length === 1,
      );
      assert.equal(retried.delivery.state, "pending", 'retry = ["network"] retries it');
      const attempt = retried.delivery.attempts[0]!;
      assert.equal(attempt.error_kind, "proxy");
      assert.equal(attempt.response_status, null, "no response from the receiver");
      assert.match(
        String(attempt.error_message),
        /^proxy 127\.0\.0\.1:\d+: refused CONNECT 127\.0\.0\.2:\d+ with 407: the proxy did not accept hookd's credentials$/,
      );

      const final = await deliver(h, { url, policy: "retry_5xx" });
      assert.equal(final.delivery.state, "failed", 'retry = ["5xx"] does not retry it');
      assert.equal(final.delivery.attempts[0]!.error_kind, "proxy");
      assert.equal(receiver.requests.length, 0);
      assert.ok(!logs.text().includes(PASSWORD));
    },
  );
});

Deno.test("a proxy that is down is a proxy failure; a webhook may go direct or through a named proxy", async () => {
  await using receiver = await startReceiver({ hostname: "127.0.0.2" });
  await using other = startConnectProxy();
  const { guard } = guardFor({ "receiver.test": ["127.0.0.2"] });
  await withEngine(
    { clock: systemClock, configToml: configToml(CLOSED_PORT, other.port), guard },
    async (h) => {
      const url = `http://receiver.test:${receiver.port}/`;
      const down = await deliver(h, { url, policy: "once" });
      assert.equal(down.delivery.state, "failed");
      assert.equal(down.delivery.attempts[0]!.error_kind, "proxy");
      assert.match(
        String(down.delivery.attempts[0]!.error_message),
        /^proxy 127\.0\.0\.1:\d+: could not connect: .*refused/i,
      );

      const direct = await deliver(h, { url, policy: "once", proxy: "direct" });
      assert.equal(direct.delivery.state, "succeeded", JSON.stringify(direct.delivery.attempts));
      assert.equal(direct.webhook.proxy, "direct");
      assert.equal(other.connectionCount, 0);

      const named = await deliver(h, { url, policy: "once", proxy: "other" });
      assert.equal(named.delivery.state, "succeeded", JSON.stringify(named.delivery.attempts));
      assert.deepEqual(other.requests.map((r) => r.line), [
        `CONNECT 127.0.0.2:${receiver.port} HTTP/1.1`,
      ]);
      assert.equal(other.requests[0]!.headers["proxy-authorization"], undefined);
      assert.equal(receiver.requests.length, 2);
    },
  );
});
