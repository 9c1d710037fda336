import assert from "node:assert/strict";
import { startReceiver } from "../../testing/receiver.ts";
import { HttpSender } from "../sender.ts";
import { ScriptedResolver } from "./_scripted_resolver.ts";
import { TargetGuard } from "./guard.ts";
import { createProxiedClient, noProxyProblem, pinnedClient, PinningError } from "./pin.ts";
import { pinTarget } from "./pin_target.ts";

// Safety: every socket here is on 127.0.0.1. Names such as hooks.test appear
// only in URLs sent through a pinned client, which never resolves them; the
// clients refuse to exist when NO_PROXY is set (it would make Deno resolve).

/** A raw TCP listener on 127.0.0.1 that records the first bytes of one connection. */
function firstBytesListener() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const bytes = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    conn.close();
    return buf.slice(0, n ?? 0);
  })();
  return { port: listener.addr.port, bytes, close: () => listener.close() };
}

Deno.test("Deno 2.9.6 transport:tcp sends an https: URL as cleartext HTTP: never pin https this way", async () => {
  const raw = firstBytesListener();
  const client = createProxiedClient({
    proxy: { transport: "tcp", hostname: "127.0.0.1", port: raw.port },
  });
  try {
    const sent = fetch("https://hooks.test/x", { method: "POST", body: "{}", client })
      .catch((e) => e);
    const text = new TextDecoder().decode(await raw.bytes);
    await sent;
    // Not a TLS ClientHello (0x16 0x03 …) but the request itself, readable on the wire.
    assert.notEqual((await raw.bytes)[0], 0x16);
    assert.match(text, /^POST https:\/\/hooks\.test\/x HTTP\/1\.1\r\n/);
    assert.match(text, /\r\nhost: hooks\.test\r\n/i);
    assert.ok(text.endsWith("\r\n\r\n{}"), "the body follows in cleartext");
  } finally {
    client.close();
    raw.close();
  }
});

Deno.test("pinnedClient sends an http: request to the approved address in absolute form", async () => {
  await using r = await startReceiver();
  const client = pinnedClient("127.0.0.1", r.port);
  try {
    const res = await fetch(`http://hooks.test:${r.port}/x?y=1`, {
      method: "POST",
      body: "{}",
      client,
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
  } finally {
    client.close();
  }
  const [got] = await r.waitForRequests(1);
  assert.equal(got!.method, "POST");
  assert.equal(got!.path, `http://hooks.test:${r.port}/x?y=1`, "absolute-form request target");
  assert.equal(got!.headers["host"], `hooks.test:${r.port}`);
});

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

async function runWithEnv(env: Record<string, string>, code: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("NO_PROXY makes Deno bypass a transport:tcp pin (seen on 127.0.0.1 only)", async () => {
  // A child process, so this process's environment is untouched. The URL's
  // host is 127.0.0.1 itself: if the pin is bypassed the connection still
  // stays on 127.0.0.1 and no name is ever resolved.
  const code = `
    const pin = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const direct = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const first = (l, name) => l.accept().then((c) => { c.close(); return name; });
    const which = Promise.race([first(pin, "pinned"), first(direct, "direct")]);
    const client = Deno.createHttpClient({
      proxy: { transport: "tcp", hostname: "127.0.0.1", port: pin.addr.port },
    });
    fetch("http://127.0.0.1:" + direct.addr.port + "/", { client }).catch(() => {});
    console.log(await which);
    Deno.exit(0);
  `;
  assert.equal(await runWithEnv({ NO_PROXY: "127.0.0.1" }, code), "direct");
  assert.equal(await runWithEnv({ NO_PROXY: "" }, code), "pinned");
});

Deno.test("pinned clients refuse to exist while NO_PROXY is set", async () => {
  const here = new URL("./pin.ts", import.meta.url).href;
  const code = `
    const { pinnedClient, PinningError, clearNoProxyEnv } = await import(${JSON.stringify(here)});
    const out = [];
    try { pinnedClient("127.0.0.1", 1).close(); out.push("made"); }
    catch (e) { out.push(e instanceof PinningError ? "refused" : String(e)); }
    out.push(JSON.stringify(clearNoProxyEnv()));
    pinnedClient("127.0.0.1", 1).close();
    out.push("made");
    console.log(out.join(" "));
  `;
  assert.equal(
    await runWithEnv({ NO_PROXY: "*", no_proxy: ".internal" }, code),
    `refused {"NO_PROXY":"*","no_proxy":".internal"} made`,
  );
});

Deno.test("this test process has no NO_PROXY, so pinning here is real", () => {
  assert.equal(noProxyProblem(), undefined);
  assert.ok(new PinningError("x") instanceof Error);
});
