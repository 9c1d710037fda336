import assert from "node:assert/strict";
import { fromBase64, toBase64, toBase64Url } from "./base64.ts";

const encoder = new TextEncoder();

Deno.test("toBase64 / fromBase64", () => {
  const bytes = new Uint8Array([0, 15, 16, 127, 128, 255]);
  assert.equal(toBase64(bytes), "AA8Qf4D/");
  assert.equal(toBase64(encoder.encode("hi")), "aGk=");
  assert.deepEqual(fromBase64("AA8Qf4D/"), bytes);
  assert.throws(() => fromBase64("%%%"), TypeError);
  // Large inputs round-trip (chunked encoding).
  const big = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff);
  assert.deepEqual(fromBase64(toBase64(big)), big);
});

Deno.test("toBase64Url is RFC 4648 §5 without padding", () => {
  assert.equal(toBase64Url(new Uint8Array([0xfb, 0xff])), "-_8");
  assert.equal(toBase64Url(encoder.encode("hi")), "aGk");
  assert.equal(toBase64Url(new Uint8Array()), "");
});
