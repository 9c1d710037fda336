import assert from "node:assert/strict";
import { HostMemo } from "./host_memo.ts";

Deno.test("HostMemo computes once per hostname, null answers included, and starts over when full", () => {
  const asked: string[] = [];
  const memo = new HostMemo<string | null>(2);
  const answer = (
    host: string,
  ) => (asked.push(host), host === "name.example" ? null : `ip:${host}`);
  assert.equal(memo.get("10.0.0.1", answer), "ip:10.0.0.1");
  assert.equal(memo.get("10.0.0.1", answer), "ip:10.0.0.1");
  assert.equal(memo.get("name.example", answer), null);
  assert.equal(memo.get("name.example", answer), null);
  assert.deepEqual(asked, ["10.0.0.1", "name.example"]);
  // A third host fills it past its limit: it starts over with just that one,
  // so the first host is computed again.
  assert.equal(memo.get("10.0.0.2", answer), "ip:10.0.0.2");
  assert.equal(memo.get("10.0.0.1", answer), "ip:10.0.0.1");
  assert.equal(memo.get("10.0.0.2", answer), "ip:10.0.0.2");
  assert.deepEqual(asked, ["10.0.0.1", "name.example", "10.0.0.2", "10.0.0.1"]);
});
