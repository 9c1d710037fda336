import assert from "node:assert/strict";
import { ScriptedResolver } from "./_scripted_resolver.ts";
import { TargetGuard } from "./target_guard.ts";
import { parseIp } from "./ip.ts";
import { systemResolver } from "./resolver.ts";

Deno.test("systemResolver resolves localhost from /etc/hosts to loopback only", async () => {
  // The one real lookup in these tests: localhost never leaves the machine.
  const addresses = await systemResolver.resolve("localhost");
  assert.ok(addresses.length > 0);
  for (const a of addresses) {
    const ip = parseIp(a);
    assert.ok(ip, a);
    assert.ok(a === "::1" || a.startsWith("127."), a);
  }
  const g = new TargetGuard({ resolver: systemResolver });
  const verdict = await g.check(new URL("http://localhost:1/"));
  assert.equal(verdict.ok, false);
  assert.equal(!verdict.ok && verdict.kind, "blocked");
});

Deno.test("ScriptedResolver answers from its script and records every name", async () => {
  const resolver = new ScriptedResolver({
    "a.test": ["192.0.2.1"],
    "seq.test": { sequence: [["192.0.2.1"], ["192.0.2.2"]] },
    "fail.test": new Error("SERVFAIL"),
  });
  assert.deepEqual(await resolver.resolve("a.test"), ["192.0.2.1"]);
  assert.deepEqual(await resolver.resolve("seq.test"), ["192.0.2.1"]);
  assert.deepEqual(await resolver.resolve("seq.test"), ["192.0.2.2"]);
  assert.deepEqual(await resolver.resolve("seq.test"), ["192.0.2.2"], "the last answer repeats");
  await assert.rejects(resolver.resolve("fail.test"), /SERVFAIL/);
  await assert.rejects(resolver.resolve("unknown.test"), /ENOTFOUND/);
  assert.deepEqual(resolver.asked, [
    "a.test",
    "seq.test",
    "seq.test",
    "seq.test",
    "fail.test",
    "unknown.test",
  ]);
});
