import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { startReceiver } from "../testing/receiver.ts";
import { selfSignedCert } from "../testing/self_signed_cert.ts";
import { ScriptedResolver } from "../net/_scripted_resolver.ts";
import { TargetGuard } from "../net/target_guard.ts";
import { ONCE_AND_THRICE } from "../testing/policies_toml.ts";
import { CLOSED_PORT } from "../testing/closed_port.ts";

// Safety: receivers listen on 127.0.0.2 and 127.0.0.3; webhook URLs name
// `localhost`, which the guard's scripted resolver maps there. A delivery
// that escaped the pin would resolve `localhost` itself (/etc/hosts:
// 127.0.0.1 or ::1), reach nothing on that port and fail: no DNS query, no
// connection off loopback. 10.0.0.7 is only ever an answer of the script,
// refused by the guard, never connected to.

const TERMINAL = new Set(["succeeded", "failed", "dead"]);
const cert = await selfSignedCert(["localhost"]);

async function deliver(
  h: Parameters<Parameters<typeof withEngine>[1]>[0],
  webhook: Record<string, unknown>,
) {
  const created = await h.api("POST", "/api/v1/webhooks", { event_types: ["t.pin"], ...webhook });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const event = await h.api("POST", "/api/v1/events", { type: "t.pin", data: { n: 1 } });
  assert.equal(event.status, 202);
  const id = event.body.deliveries[0].id as string;
  let delivery: { state: string; attempts: Record<string, unknown>[] } | undefined;
  await h.until(async () => {
    delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
    return TERMINAL.has(delivery!.state);
  });
  await h.api("DELETE", `/api/v1/webhooks/${created.body.id}`);
  return delivery!;
}

Deno.test("a named http target is delivered to the address the guard checked, with its own Host", async () => {
  await using receiver = await startReceiver({ hostname: "127.0.0.2" });
  const resolver = new ScriptedResolver({ localhost: ["127.0.0.2"] });
  const guard = new TargetGuard({ allowPrivate: true, resolver });
  await withEngine({ clock: systemClock, configToml: ONCE_AND_THRICE, guard }, async (h) => {
    const delivery = await deliver(h, {
      url: `http://localhost:${receiver.port}/hook?x=1`,
      policy: "once",
    });
    assert.equal(delivery.state, "succeeded", JSON.stringify(delivery.attempts));
    const [got] = await receiver.waitForRequests(1);
    assert.equal(got!.path, "/hook?x=1", "origin form, as without a proxy");
    assert.equal(got!.headers["host"], `localhost:${receiver.port}`);
    assert.match(got!.body, /"n":1/);
    assert.deepEqual(resolver.asked, ["localhost"]);
  });
});

Deno.test({
  name: "a named https target is pinned too, with TLS verified for its name and the webhook's CA",
  ignore: cert === undefined, // needs openssl
  fn: async () => {
    await using receiver = await startReceiver({ hostname: "127.0.0.2", tls: cert! });
    const resolver = new ScriptedResolver({ localhost: ["127.0.0.2"] });
    const guard = new TargetGuard({ allowPrivate: true, resolver });
    await withEngine({ clock: systemClock, configToml: ONCE_AND_THRICE, guard }, async (h) => {
      const delivery = await deliver(h, {
        url: `https://localhost:${receiver.port}/secure`,
        policy: "once",
        tls: { ca_certs: [cert!.cert] },
      });
      assert.equal(delivery.state, "succeeded", JSON.stringify(delivery.attempts));
      assert.equal(receiver.requests[0]?.path, "/secure");
      assert.equal(receiver.requests[0]?.headers["host"], `localhost:${receiver.port}`);
    });
  },
});

Deno.test("each attempt connects where that attempt's check said: rebinding to a blocked address is refused", async () => {
  // Same port on two loopback addresses, so only the checked address decides
  // which receiver is reached.
  await using first = await startReceiver({
    hostname: "127.0.0.2",
    respond: () => ({ status: 503 }),
  });
  await using second = await startReceiver({ hostname: "127.0.0.3", port: first.port });
  const resolver = new ScriptedResolver({
    localhost: { sequence: [["127.0.0.2"], ["127.0.0.3"], ["10.0.0.7"]] },
  });
  // Loopback addresses are allowed by range; 10.0.0.7 is private and not.
  const guard = new TargetGuard({ resolver, allowCidrs: ["127.0.0.0/8"] });
  await withEngine({ clock: systemClock, configToml: ONCE_AND_THRICE, guard }, async (h) => {
    second.respond(() => ({ status: 503 }));
    const delivery = await deliver(h, {
      url: `http://localhost:${first.port}/hook`,
      policy: "thrice",
    });
    assert.equal(delivery.state, "dead");
    const kinds = delivery.attempts.map((a) => [a.response_status, a.error_kind]);
    assert.deepEqual(kinds, [[503, "status"], [503, "status"], [null, "blocked"]]);
    assert.match(String(delivery.attempts[2]!.error_message), /localhost resolves to 10\.0\.0\.7/);
    assert.equal(first.requests.length, 1, "attempt 1 went to 127.0.0.2");
    assert.equal(second.requests.length, 1, "attempt 2 went to 127.0.0.3");
    assert.equal(resolver.asked.length, 3, "one check per attempt, and nothing else resolved");
  });
});

Deno.test("a pinned address that refuses the connection is a connect failure naming that address", async () => {
  const port = CLOSED_PORT;
  const resolver = new ScriptedResolver({ localhost: ["127.0.0.2"] });
  const guard = new TargetGuard({ allowPrivate: true, resolver });
  await withEngine({ clock: systemClock, configToml: ONCE_AND_THRICE, guard }, async (h) => {
    const delivery = await deliver(h, { url: `http://localhost:${port}/`, policy: "once" });
    assert.equal(delivery.state, "failed");
    const attempt = delivery.attempts[0]!;
    assert.equal(attempt.error_kind, "connect");
    assert.equal(attempt.response_status, null);
    assert.match(
      String(attempt.error_message),
      /^could not connect: Connection refused .*\(address 127\.0\.0\.2:\d+\)$/,
    );
  });
});
