import assert from "node:assert/strict";
import { canonicalJson, eventFingerprint } from "./fingerprint.ts";

Deno.test("canonical JSON sorts keys at every depth and keeps array order", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
  );
  assert.equal(canonicalJson("x"), '"x"');
});

Deno.test("fingerprints ignore key order but not content, type or tenant", () => {
  const base = eventFingerprint("a.b", null, { x: 1, y: 2 });
  assert.equal(eventFingerprint("a.b", null, { y: 2, x: 1 }), base);
  assert.notEqual(eventFingerprint("a.b", null, { x: 1, y: 3 }), base);
  assert.notEqual(eventFingerprint("a.c", null, { x: 1, y: 2 }), base);
  assert.notEqual(eventFingerprint("a.b", "t1", { x: 1, y: 2 }), base);
  assert.notEqual(
    eventFingerprint("a.b", null, [1, 2]),
    eventFingerprint("a.b", null, [2, 1]),
  );
});
