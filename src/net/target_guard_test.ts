import assert from "node:assert/strict";
import { ScriptedResolver } from "./_scripted_resolver.ts";
import { type GuardResult, TargetGuard } from "./target_guard.ts";
import { parseIp } from "./ip.ts";

// Every name here is answered by the scripted resolver: no test sends a DNS
// query or opens a connection.
const SCRIPT = {
  "localhost": ["127.0.0.1", "::1"],
  "localhost.": ["127.0.0.1"],
  "127.0.0.1.nip.io": ["127.0.0.1"],
  "169.254.169.254.nip.io": ["169.254.169.254"],
  "metadata.google.internal": ["169.254.169.254"],
  "internal.corp": ["10.0.0.5"],
  "v6-internal.corp": ["fd00::5"],
  "zoned.corp": ["fe80::1%eth0"],
  "mapped.corp": ["::ffff:192.168.0.1"],
  "example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
  "mixed.example": ["93.184.216.34", "10.0.0.1"],
  "mixed-late.example": ["93.184.216.34", "8.8.8.8", "::1"],
  "rebind.example": { sequence: [["93.184.216.34"], ["127.0.0.1"]] },
  "empty.example": [],
  "garbage.example": ["not-an-ip"],
};

function guard(options: { allowPrivate?: boolean; allowCidrs?: string[] } = {}) {
  const resolver = new ScriptedResolver(SCRIPT);
  return { guard: new TargetGuard({ ...options, resolver }), resolver };
}

function assertRefused(result: GuardResult, kind: "blocked" | "dns", input: string): string {
  assert.equal(result.ok, false, `${input} must be refused, got ${JSON.stringify(result)}`);
  if (result.ok) throw new Error("unreachable");
  assert.equal(result.kind, kind, `${input}: ${result.reason}`);
  return result.reason;
}

/** URL text → whether the check resolves a name (false for literals). */
const BYPASSES: [string, boolean][] = [
  ["http://127.0.0.1/", false],
  ["http://2130706433/", false],
  ["http://0x7f000001/", false],
  ["http://0X7F000001/", false],
  ["http://0x7f.0.0.1/", false],
  ["http://0177.0.0.1/", false],
  ["http://017700000001/", false],
  ["http://127.1/", false],
  ["http://127.0.1/", false],
  ["http://0x7f.1/", false],
  ["http://127.0.0.1./", false],
  ["http://%31%32%37.0.0.1/", false],
  ["http://127.127.127.127:8080/", false],
  ["http://0.0.0.0/", false],
  ["http://0/", false],
  ["http://[::1]/", false],
  ["http://[::]/", false],
  ["http://[0:0:0:0:0:0:0:1]/", false],
  ["http://[::ffff:127.0.0.1]/", false],
  ["http://[::ffff:7f00:1]/", false],
  ["http://[::ffff:0:127.0.0.1]/", false],
  ["http://[::127.0.0.1]/", false],
  ["http://[64:ff9b::127.0.0.1]/", false],
  ["http://[64:ff9b::10.0.0.1]/", false],
  ["http://[64:ff9b::169.254.169.254]/", false],
  ["http://[2002:7f00:1::]/", false],
  ["http://[2002:a00:1::1]/", false],
  ["http://[2002:a9fe:a9fe::]/", false],
  ["http://[fe80::1]/", false],
  ["http://[FC00::1]/", false],
  ["http://[fd00:ec2::254]/", false],
  ["http://[ff02::1]/", false],
  ["http://10.0.0.1/", false],
  ["http://172.16.0.1/", false],
  ["http://192.168.1.1/", false],
  ["http://169.254.169.254/latest/meta-data/", false],
  ["http://0xa9fea9fe/", false],
  ["http://100.64.0.1/", false],
  ["http://198.18.0.1/", false],
  ["http://192.0.2.1/", false],
  ["http://224.0.0.1/", false],
  ["http://240.0.0.1/", false],
  ["http://255.255.255.255/", false],
  ["https://127.0.0.1:8443/", false],
  ["http://localhost/", true],
  ["http://LOCALHOST:8080/", true],
  ["http://localhost./", true],
  ["http://127.0.0.1.nip.io/", true],
  ["http://169.254.169.254.nip.io/", true],
  ["http://metadata.google.internal/computeMetadata/v1/", true],
  ["http://internal.corp/", true],
  ["http://v6-internal.corp/", true],
  ["http://zoned.corp/", true],
  ["http://mapped.corp/", true],
  ["https://mixed.example/", true],
  ["https://mixed-late.example/", true],
];

Deno.test(`check refuses ${BYPASSES.length} SSRF bypass forms`, async () => {
  assert.ok(BYPASSES.length >= 30);
  for (const [input, resolves] of BYPASSES) {
    const { guard: g, resolver } = guard();
    const url = new URL(input);
    assertRefused(await g.check(url), "blocked", input);
    assert.equal(resolver.asked.length, resolves ? 1 : 0, `${input} resolves: ${resolver.asked}`);
    if (resolves) assert.deepEqual(resolver.asked, [url.hostname]);
    // Creation-time check: literals are caught before any delivery.
    const problem = g.literalProblem(url.hostname);
    if (resolves) assert.equal(problem, undefined, input);
    else assert.ok(problem, `${input} has a literal problem`);
  }
});

Deno.test("check allows public targets and pins the first address", async () => {
  const { guard: g, resolver } = guard();
  assert.deepEqual(await g.check(new URL("https://example.com/hook")), {
    ok: true,
    address: "93.184.216.34",
    port: 443,
    hostname: "example.com",
  });
  assert.deepEqual(resolver.asked, ["example.com"]);
  assert.deepEqual(await g.check(new URL("http://93.184.216.34:8080/")), {
    ok: true,
    address: "93.184.216.34",
    port: 8080,
    hostname: "93.184.216.34",
  });
  assert.deepEqual(await g.check(new URL("http://[2606:4700:4700::1111]/")), {
    ok: true,
    address: "2606:4700:4700::1111",
    port: 80,
    hostname: "[2606:4700:4700::1111]",
  });
  assert.equal(resolver.asked.length, 1, "literals are never resolved");
});

Deno.test("DNS rebinding: the first check pins the public address, the next is refused", async () => {
  const { guard: g, resolver } = guard();
  const url = new URL("https://rebind.example/hook");
  const first = await g.check(url);
  assert.deepEqual(first, {
    ok: true,
    address: "93.184.216.34",
    port: 443,
    hostname: url.hostname,
  });
  const second = await g.check(url);
  const reason = assertRefused(second, "blocked", url.href);
  assert.match(reason, /^rebind\.example resolves to 127\.0\.0\.1, which is a loopback address/);
  assert.deepEqual(resolver.asked, ["rebind.example", "rebind.example"]);
});

Deno.test("a mixed answer is refused even when the public address comes first", async () => {
  const { guard: g } = guard();
  const reason = assertRefused(await g.check(new URL("https://mixed.example/")), "blocked", "");
  assert.equal(
    reason,
    "mixed.example resolves to 10.0.0.1, which is a private address; " +
      "set [security] allow_private_targets to deliver to private networks",
  );
});

Deno.test("resolution failures are dns refusals", async () => {
  const { guard: g } = guard();
  for (const host of ["nonexistent.example", "empty.example", "garbage.example"]) {
    assertRefused(await g.check(new URL(`https://${host}/`)), "dns", host);
  }
  const slow = new TargetGuard({
    resolver: { resolve: () => new Promise(() => {}) },
    resolveTimeoutMs: 20,
  });
  const reason = assertRefused(await slow.check(new URL("https://slow.example/")), "dns", "");
  assert.match(reason, /timed out after 20 ms/);
});

Deno.test("non-http schemes are refused", async () => {
  const { guard: g } = guard();
  assertRefused(await g.check(new URL("ftp://example.com/")), "blocked", "ftp");
  assertRefused(await g.check(new URL("file:///etc/passwd")), "blocked", "file");
});

Deno.test("allowCidrs lets listed ranges through, and their IPv4-mapped forms", async () => {
  const { guard: g } = guard({ allowCidrs: ["10.1.0.0/16", "fd00::/8"] });
  assert.deepEqual(await g.check(new URL("http://10.1.2.3:9000/")), {
    ok: true,
    address: "10.1.2.3",
    port: 9000,
    hostname: "10.1.2.3",
  });
  assert.equal((await g.check(new URL("http://[::ffff:10.1.2.3]/"))).ok, true);
  assert.equal((await g.check(new URL("http://v6-internal.corp/"))).ok, true);
  assertRefused(await g.check(new URL("http://10.2.0.1/")), "blocked", "10.2.0.1");
  assertRefused(await g.check(new URL("http://127.0.0.1/")), "blocked", "127.0.0.1");
  assert.equal(g.literalProblem("10.1.2.3"), undefined);
});

Deno.test("allowCidrs never opens unspecified, multicast or broadcast", async () => {
  const { guard: g } = guard({ allowCidrs: ["0.0.0.0/0", "::/0"] });
  assert.equal((await g.check(new URL("http://10.0.0.1/"))).ok, true);
  for (
    const input of ["http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/", "http://[ff02::1]/"]
  ) {
    assertRefused(await g.check(new URL(input)), "blocked", input);
  }
  assertRefused(await g.check(new URL("http://255.255.255.255/")), "blocked", "broadcast");
});

Deno.test("allowPrivate lets loopback and private through, never 0.0.0.0, :: or multicast", async () => {
  const { guard: g } = guard({ allowPrivate: true });
  for (
    const input of [
      "http://127.0.0.1:8080/",
      "http://[::1]/",
      "http://10.0.0.1/",
      "http://169.254.169.254/",
      "http://[fe80::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://localhost/",
      "http://internal.corp/",
    ]
  ) {
    assert.equal((await g.check(new URL(input))).ok, true, input);
  }
  assert.deepEqual(await g.check(new URL("http://localhost:8080/")), {
    ok: true,
    address: "127.0.0.1",
    port: 8080,
    hostname: "localhost",
  });
  for (
    const input of [
      "http://0.0.0.0/",
      "http://0/",
      "http://0.1.2.3/",
      "http://[::]/",
      "http://[::ffff:0.0.0.0]/",
      "http://224.0.0.1/",
      "http://[ff02::1]/",
      "http://255.255.255.255/",
    ]
  ) {
    const reason = assertRefused(await g.check(new URL(input)), "blocked", input);
    assert.match(reason, /never a valid target$/, input);
  }
});

Deno.test("literalProblem explains the refusal and how to lift it", () => {
  const { guard: g } = guard();
  assert.equal(
    g.literalProblem("127.0.0.1"),
    "127.0.0.1 is a loopback address; set [security] allow_private_targets to deliver to private networks",
  );
  assert.equal(
    g.literalProblem("[::ffff:7f00:1]"),
    "::ffff:7f00:1 is a loopback address (IPv4-mapped 127.0.0.1); " +
      "set [security] allow_private_targets to deliver to private networks",
  );
  assert.equal(
    g.literalProblem("169.254.169.254"),
    "169.254.169.254 is a link-local address (cloud metadata service); " +
      "set [security] allow_private_targets to deliver to private networks",
  );
  assert.equal(
    g.literalProblem("0.0.0.0"),
    "0.0.0.0 is an unspecified address and is never a valid target",
  );
  assert.equal(g.literalProblem("93.184.216.34"), undefined);
  assert.equal(g.literalProblem("example.com"), undefined);
  assert.equal(g.literalProblem("localhost"), undefined, "names are judged when resolved");
});

Deno.test("classify applies the configuration to one address", () => {
  const { guard: g } = guard({ allowCidrs: ["192.168.0.0/16"] });
  assert.deepEqual(g.classify(parseIp("192.168.4.4")!), { blocked: false });
  assert.equal(g.classify(parseIp("192.169.0.1")!).blocked, false);
  assert.equal(g.classify(parseIp("10.0.0.1")!).blocked, true);
});

Deno.test("bad options are rejected up front", () => {
  const resolver = new ScriptedResolver({});
  assert.throws(() => new TargetGuard({ resolver, allowCidrs: ["10.0.0.1/8"] }), TypeError);
  assert.throws(() => new TargetGuard({ resolver, resolveTimeoutMs: 0 }), RangeError);
});

Deno.test("repeated checks of a literal give the same verdict with each URL's own port; names are resolved every time", async () => {
  const { guard: g, resolver } = guard();
  for (const port of [80, 8080, 80]) {
    const reason = assertRefused(
      await g.check(new URL(`http://10.0.0.1:${port}/`)),
      "blocked",
      `10.0.0.1:${port}`,
    );
    assert.match(reason, /^10\.0\.0\.1 is a private address/);
  }
  for (const port of [443, 8443]) {
    assert.deepEqual(await g.check(new URL(`https://93.184.216.34:${port}/`)), {
      ok: true,
      address: "93.184.216.34",
      port,
      hostname: "93.184.216.34",
    });
  }
  // A name met after literals still goes to the resolver on every attempt.
  await g.check(new URL("https://rebind.example/"));
  assertRefused(await g.check(new URL("https://rebind.example/")), "blocked", "rebind.example");
  assert.deepEqual(resolver.asked, ["rebind.example", "rebind.example"]);
});
