import assert from "node:assert/strict";
import { startReceiver } from "../../testing/receiver.ts";
import { HttpSender } from "../sender.ts";
import { ScriptedResolver } from "./_scripted_resolver.ts";
import { selfSignedCert } from "../../testing/self_signed_cert.ts";
import { ConnectProxy } from "./connect_proxy.ts";
import { TargetGuard } from "./guard.ts";
import { pinTarget } from "./pin_target.ts";

// Safety: receivers and proxies are on 127.0.0.1; hooks.test is only ever
// "resolved" by the scripted resolver and sent through pinned clients.

const tls = await selfSignedCert(["hooks.test"]);

Deno.test("guard + pinTarget: an http attempt reaches the approved address, not the URL's", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  const resolver = new ScriptedResolver({ "hooks.test": ["127.0.0.1"] });
  const guard = new TargetGuard({ allowPrivate: true, resolver });
  const url = new URL(`http://hooks.test:${r.port}/deliver`);
  const verdict = await guard.check(url);
  assert.ok(verdict.ok, JSON.stringify(verdict));
  {
    using pinned = pinTarget(url, verdict);
    const result = await sender.send({
      url: url.href,
      headers: {},
      body: "{}",
      timeoutMs: 5_000,
      client: pinned.client,
    });
    assert.equal(result.status, 200, result.errorMessage ?? undefined);
  }
  assert.deepEqual(resolver.asked, ["hooks.test"], "resolved once, by the guard");
  assert.equal(r.requests[0]?.headers["host"], `hooks.test:${r.port}`);

  // The URL names port 8089 on a name nobody resolves; the approval says
  // 127.0.0.1 at the receiver's port: the approval wins.
  const elsewhere = new URL("http://hooks.test:8089/elsewhere");
  {
    using pinned = pinTarget(elsewhere, {
      hostname: "hooks.test",
      address: "127.0.0.1",
      port: r.port,
    });
    const result = await sender.send({
      url: elsewhere.href,
      headers: {},
      body: "{}",
      timeoutMs: 5_000,
      client: pinned.client,
    });
    assert.equal(result.status, 200, result.errorMessage ?? undefined);
  }
  assert.equal(r.requests[1]?.path, "http://hooks.test:8089/elsewhere");
  assert.equal(r.requests[1]?.headers["host"], "hooks.test:8089");
  assert.equal(resolver.asked.length, 1);
});

Deno.test("pinTarget refuses https without a CONNECT proxy and other schemes", () => {
  const approved = { hostname: "hooks.test", address: "127.0.0.1", port: 443 };
  assert.throws(() => pinTarget(new URL("https://hooks.test/"), approved), TypeError);
  assert.throws(() => pinTarget(new URL("ftp://hooks.test/"), approved), TypeError);
});

Deno.test({
  name: "guard + pinTarget: an https attempt goes through the CONNECT proxy",
  ignore: tls === undefined, // needs openssl to make the certificate
  fn: async () => {
    await using r = await startReceiver({ tls: tls! });
    await using proxy = ConnectProxy.start();
    using sender = new HttpSender();
    const guard = new TargetGuard({
      allowPrivate: true,
      resolver: new ScriptedResolver({ "hooks.test": ["127.0.0.1"] }),
    });
    const url = new URL(`https://hooks.test:${r.port}/secure`);
    const verdict = await guard.check(url);
    assert.ok(verdict.ok);
    {
      using pinned = pinTarget(url, verdict, { proxy, caCerts: [tls!.cert] });
      const result = await sender.send({
        url: url.href,
        headers: {},
        body: "{}",
        timeoutMs: 5_000,
        client: pinned.client,
      });
      assert.equal(result.status, 200, result.errorMessage ?? undefined);
    }
    assert.equal(proxy.tunnels, 1);
    assert.equal(proxy.pending, 0);
    assert.equal(r.requests[0]?.path, "/secure");
    assert.equal(r.requests[0]?.headers["host"], `hooks.test:${r.port}`);
  },
});
