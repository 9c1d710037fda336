import assert from "node:assert/strict";
import { uuidv7 } from "../ids.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

Deno.test("a cursor reads back as the id it was written from, and is URL-safe", () => {
  for (let i = 0; i < 200; i++) {
    const id = uuidv7(Date.UTC(2026, 0, 1) + i * 7919);
    const cursor = encodeCursor(id);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.equal(decodeCursor(cursor), id);
  }
});

Deno.test("anything this API could not have written is no cursor", () => {
  const b64 = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_");
  const cursor = encodeCursor("0190d8a8-4f31-7b4e-9e2c-3c1f2a7b9d10");
  assert.equal(decodeCursor(cursor), "0190d8a8-4f31-7b4e-9e2c-3c1f2a7b9d10");
  for (
    const other of [
      "",
      "garbage",
      "%%%",
      b64("hello"),
      b64("0190d8a8-4f31-4b4e-9e2c-3c1f2a7b9d10"), // a version-4 UUID
      `${cursor}=`, // padded
      `${cursor}A`,
      `${cursor.slice(0, 2)} ${cursor.slice(2)}`,
    ]
  ) assert.equal(decodeCursor(other), undefined, other);
});
