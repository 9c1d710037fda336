import assert from "node:assert/strict";
import { startReceiver } from "../../testing/receiver.ts";
import { createProxiedClient, noProxyProblem, PinningError } from "./pin.ts";

// Safety: every socket here is on 127.0.0.1. Names such as hooks.test appear
// only in URLs sent through a proxied client, which never resolves them; the
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

Deno.test("Deno 2.9.6 transport:tcp sends an http: request in absolute form (why pinning uses a proxy that rewrites it)", async () => {
  await using r = await startReceiver();
  const client = createProxiedClient({
    proxy: { transport: "tcp", hostname: "127.0.0.1", port: r.port },
  });
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

Deno.test("NO_PROXY makes Deno bypass an explicit proxy (seen on 127.0.0.1 only)", async () => {
  // A child process, so this process's environment is untouched. The URL's
  // host is 127.0.0.1 itself: if the pin is bypassed the connection still
  // stays on 127.0.0.1 and no name is ever resolved.
  const code = `
    const pin = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const direct = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const first = (l, name) => l.accept().then((c) => { c.close(); return name; });
    const which = Promise.race([first(pin, "pinned"), first(direct, "direct")]);
    const client = Deno.createHttpClient({
      proxy: { url: "http://127.0.0.1:" + pin.addr.port },
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
    const { createProxiedClient, PinningError, clearNoProxyEnv } = await import(${
    JSON.stringify(here)
  });
    const options = { proxy: { url: "http://127.0.0.1:1" } };
    const out = [];
    try { createProxiedClient(options).close(); out.push("made"); }
    catch (e) { out.push(e instanceof PinningError ? "refused" : String(e)); }
    out.push(JSON.stringify(clearNoProxyEnv()));
    createProxiedClient(options).close();
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
