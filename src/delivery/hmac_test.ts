import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { HmacSha256 } from "./hmac.ts";

const encoder = new TextEncoder();

Deno.test("HmacSha256 matches RFC 4231's test cases, in hex and base64", () => {
  // Test case 1: key 0x0b × 20.
  const case1 = new HmacSha256(new Uint8Array(20).fill(0x0b));
  assert.equal(
    case1.sign("Hi There", "hex"),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  );
  assert.equal(case1.sign("Hi There", "base64"), "sDRMYdjbOFNcqK/OrwvxK4gdwgDJgz2nJuk3bC4yz/c=");
  // Test case 2.
  assert.equal(
    new HmacSha256(encoder.encode("Jefe")).sign("what do ya want for nothing?", "hex"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  // Test case 6: a key longer than SHA-256's block is hashed first.
  assert.equal(
    new HmacSha256(new Uint8Array(131).fill(0xaa)).sign(
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "hex",
    ),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  );
});

Deno.test("HmacSha256 agrees with createHmac for any key and UTF-8 message, call after call", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.array(fc.string({ unit: "grapheme", maxLength: 300 }), { minLength: 1, maxLength: 4 }),
      (key, messages) => {
        const hmac = new HmacSha256(key);
        // The same instance signs message after message: its key state is never consumed.
        for (const message of [...messages, ...messages]) {
          for (const encoding of ["hex", "base64"] as const) {
            assert.equal(
              hmac.sign(message, encoding),
              createHmac("sha256", key).update(encoder.encode(message)).digest(encoding),
            );
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("HmacSha256 refuses an empty key and accepts one viewing a SharedArrayBuffer", () => {
  assert.throws(() => new HmacSha256(new Uint8Array(0)), RangeError);
  const shared = new Uint8Array(new SharedArrayBuffer(4));
  shared.set(encoder.encode("Jefe"));
  assert.equal(
    new HmacSha256(shared).sign("what do ya want for nothing?", "hex"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});
