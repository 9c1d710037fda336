import assert from "node:assert/strict";
import { isUuidv7, randomToken, uuidv7 } from "./ids.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("uuidv7 is a version-7 UUID carrying its timestamp", () => {
  const id = uuidv7(Date.UTC(2126, 0, 22, 6, 40));
  assert.match(id, UUID);
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  assert.equal(ms, Date.UTC(2126, 0, 22, 6, 40));
});

Deno.test("uuidv7 sorts by creation time and does not repeat", () => {
  const ids = [uuidv7(6_000_000_000_000), uuidv7(6_000_000_000_001), uuidv7(7_000_000_000_000)];
  assert.deepEqual([...ids].sort(), ids);
  // Within one millisecond (and past the 4096-id counter) they still increase.
  const many = Array.from({ length: 10_000 }, () => uuidv7(5_000_000_000_000));
  assert.equal(new Set(many).size, 10_000);
  assert.deepEqual([...many].sort(), many);
  for (const id of many) assert.match(id, UUID);
});

Deno.test("randomToken is url-safe and of the requested entropy", () => {
  const token = randomToken(32);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(randomToken(32), token);
});

Deno.test("uuidv7's random bits stay random past many pool refills", () => {
  // 2,000 ids draw 20,000 random bytes: several refills of the 4 KiB pool.
  const tails = new Set<string>();
  const counters = new Set<string>();
  for (let i = 0; i < 2_000; i++) {
    const id = uuidv7(8_000_000_000_000 + i);
    tails.add(id.slice(24));
    counters.add(id.slice(15, 18));
  }
  assert.equal(tails.size, 2_000, "48 random bits per id never repeat in 2,000 ids");
  assert.ok(!tails.has("000000000000"), "no id is built from an exhausted (zeroed) pool");
  assert.ok(counters.size > 500, "each millisecond's counter starts at a random value");
});

Deno.test("isUuidv7 accepts exactly what uuidv7 writes", () => {
  for (let i = 0; i < 100; i++) assert.ok(isUuidv7(uuidv7(Date.UTC(2026, 0, 1) + i)));
  for (
    const other of [
      "",
      "0190d8a8-4f31-4b4e-9e2c-3c1f2a7b9d10", // version 4
      "0190D8A8-4F31-7B4E-9E2C-3C1F2A7B9D10", // uppercase
      "0190d8a8-4f31-7b4e-7e2c-3c1f2a7b9d10", // not the RFC variant
      "0190d8a84f317b4e9e2c3c1f2a7b9d10", // no dashes
      "0190d8a8-4f31-7b4e-9e2c-3c1f2a7b9d10\n",
    ]
  ) assert.equal(isUuidv7(other), false, other);
});
