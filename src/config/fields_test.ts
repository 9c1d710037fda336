import assert from "node:assert/strict";
import type { z } from "zod";
import {
  booleanField,
  durationField,
  integerField,
  listenField,
  numberField,
  oneOfField,
  sizeField,
  storeUrlField,
  stringField,
} from "./fields.ts";

function rejects(field: z.ZodType, raw: unknown, message: string) {
  const issues = field.safeParse(raw).error?.issues.map((issue) => issue.message);
  assert.deepEqual(issues, [message], JSON.stringify(raw));
}

Deno.test("scalar fields accept their type and name expected vs got", () => {
  assert.equal(stringField().parse("x"), "x");
  rejects(stringField(), 5, "expected a string, got 5");
  assert.equal(booleanField().parse(false), false);
  rejects(booleanField(), "true", 'expected true or false, got "true"');
  assert.equal(integerField(1, 10).parse(10), 10);
  rejects(integerField(1, 10), 0, "expected an integer from 1 to 10, got 0");
  rejects(integerField(1, 10), 1.5, "expected an integer from 1 to 10, got 1.5");
  rejects(integerField(1, 10), "5", 'expected an integer from 1 to 10, got "5"');
  assert.equal(numberField(0, 1).parse(0.25), 0.25);
  assert.equal(numberField(0, 1).parse(1), 1);
  rejects(numberField(0, 1), 1.5, "expected a number from 0 to 1, got 1.5");
  assert.equal(oneOfField(["a", "b"]).parse("b"), "b");
  rejects(oneOfField(["a", "b"]), "c", 'expected one of "a", "b", got "c"');
});

Deno.test("durationField() parses and range-checks", () => {
  const field = durationField(1_000, 3_600_000);
  assert.equal(field.parse("1m30s"), 90_000);
  rejects(field, "2h", 'expected a duration from "1s" to "1h", got "2h"');
  rejects(field, "500ms", 'expected a duration from "1s" to "1h", got "500ms"');
  rejects(field, 5, 'expected a duration such as "5s" or "1h30m", got 5');
  rejects(
    field,
    "5 min",
    'expected a number followed by ms, s, m, h or d (e.g. "5s", "1h30m"), got "5 min"',
  );
});

Deno.test("sizeField() parses and range-checks", () => {
  const field = sizeField(1, 1_048_576);
  assert.equal(field.parse("4KiB"), 4_096);
  assert.equal(field.parse(100), 100);
  rejects(field, "2MiB", 'expected a size from "1B" to "1MiB", got "2MiB"');
  rejects(field, true, 'expected a size such as "4KiB" or "1MiB", got true');
  rejects(
    field,
    "1 MiB",
    'expected bytes or a number followed by B, KB, KiB, MB, MiB, GB or GiB (e.g. "512B", ' +
      '"4KiB", "1MiB"), got "1 MiB"',
  );
});

Deno.test("listenField() splits host and port", () => {
  const field = listenField();
  const ok: [string, string, number][] = [
    ["127.0.0.1:8787", "127.0.0.1", 8787],
    ["0.0.0.0:0", "0.0.0.0", 0],
    ["localhost:65535", "localhost", 65535],
    ["hookd.example.com:443", "hookd.example.com", 443],
    ["[::1]:8787", "::1", 8787],
    ["[::]:80", "::", 80],
  ];
  for (const [listen, hostname, port] of ok) {
    assert.deepEqual(field.parse(listen), { listen, hostname, port });
  }
  for (
    const bad of ["nope", "8787", ":8787", "host:", "host:65536", "::1:8787", "[::1]", "a b:1"]
  ) {
    rejects(
      field,
      bad,
      `expected "host:port" with port 0-65535 (e.g. "127.0.0.1:8787", "[::1]:8787"), ` +
        `got ${JSON.stringify(bad)}`,
    );
  }
  rejects(
    field,
    "256.0.0.1:80",
    'expected "host:port" with port 0-65535 (e.g. "127.0.0.1:8787", "[::1]:8787"), ' +
      'got "256.0.0.1:80"',
  );
});

Deno.test("storeUrlField() accepts libSQL URL schemes only", () => {
  const field = storeUrlField();
  for (
    const url of [
      "file:data/hookd.db",
      "file:/var/lib/hookd.db",
      "libsql://db-org.turso.io",
      "http://127.0.0.1:8080",
      "https://sqld.internal",
      "ws://127.0.0.1:8080",
      "wss://db.example.com",
    ]
  ) {
    assert.equal(field.parse(url), url);
  }
  for (const bad of ["postgres://x", "data/hookd.db", "sqlite:x.db", ""]) {
    rejects(
      field,
      bad,
      "expected a URL starting with file:, libsql://, http://, https://, ws:// or wss://, " +
        `got ${JSON.stringify(bad)}`,
    );
  }
  rejects(field, "file:", 'expected a path after "file:" (e.g. "file:data/hookd.db")');
});
