/**
 * Property-based tests of every body-taking route: random and mutated JSON,
 * wrong types, deep nesting, odd strings. Invariants: never a 5xx, a rejected
 * request stores nothing, and the database stays intact. Fixed seed and a
 * bounded number of runs in CI; `HOOKD_FUZZ_RUNS` raises the count.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createClient } from "@libsql/client/node";
import { withApi } from "../testing/api_harness.ts";
import { apiRoutes } from "./app.ts";

const RUNS = Number(Deno.env.get("HOOKD_FUZZ_RUNS") ?? 60);
const SEED = 20261123;

/** Plausible-but-wrong values mixed into otherwise valid bodies. */
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.constantFrom(
    "",
    "\u0000",
    "\r\nX-Injected: 1",
    "x".repeat(5000),
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    "2026-02-30T00:00:00Z",
    "http://127.0.0.1/",
    "javascript:alert(1)",
    [],
    {},
    null,
    true,
  ),
  fc.constant(JSON.parse("[".repeat(2000) + "]".repeat(2000))),
);

const validish: Record<string, Record<string, unknown>> = {
  "/api/v1/webhooks": { url: "https://example.com/hook", event_types: ["a.*"] },
  "/api/v1/events": { type: "a.b", data: { n: 1 } },
  "/api/v1/events/batch": { events: [{ type: "a.b", data: 1 }] },
  "/api/v1/keys": { name: "k", scopes: ["events:write"] },
  "/api/v1/credentials": { name: "c" },
  "/api/v1/dead-letters/replay": {},
};

Deno.test("fuzz: no body, however odd, gets a 5xx or corrupts the store", async () => {
  await withApi(async (api) => {
    const bodyRoutes = apiRoutes(api.deps).filter((r) => r.body && !r.path.includes(":"));
    assert.ok(bodyRoutes.length >= 6);
    let tried = 0;
    // One reader for the whole run (opening a connection per input exhausts descriptors).
    const reader = createClient({ url: api.deps.config.store.url });
    const counts = async () => {
      const result = await reader.execute(
        "SELECT (SELECT COUNT(*) FROM webhooks) AS w, (SELECT COUNT(*) FROM events) AS e, " +
          "(SELECT COUNT(*) FROM api_keys) AS k, (SELECT COUNT(*) FROM credentials) AS c",
      );
      return { ...result.rows[0] };
    };
    for (const route of bodyRoutes) {
      const base = validish[route.path] ?? {};
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            oddValue,
            fc.record({ field: fc.constantFrom(...Object.keys(base), "extra"), value: oddValue })
              .map(({ field, value }) => ({ ...base, [field]: value })),
          ),
          async (body) => {
            tried++;
            const before = await counts();
            const res = await api.request(route.method, route.path, {
              body: JSON.stringify(body),
              headers: { "content-type": "application/json" },
            });
            const text = await res.text();
            assert.ok(res.status < 500, `${route.method} ${route.path} → ${res.status} ${text}`);
            if (res.status >= 400) {
              assert.match(text, /"error":\{"code":/);
              assert.deepEqual(await counts(), before, "a rejected request changed the store");
            }
          },
        ),
        { seed: SEED, numRuns: RUNS },
      );
    }
    // Raw bytes and wrong content types too.
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1"),
        async (bytes, contentType) => {
          tried++;
          const res = await api.app.request("http://hookd.test/api/v1/events", {
            method: "POST",
            headers: {
              authorization: "Bearer test-admin-key-0123456789",
              "content-type": contentType,
            },
            body: bytes,
          });
          await res.body?.cancel();
          assert.ok(res.status < 500, `raw body → ${res.status}`);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    const integrity = await reader.execute("PRAGMA integrity_check");
    reader.close();
    assert.equal(integrity.rows[0]?.integrity_check, "ok");
    console.log(`fuzz: ${tried} inputs tried, 0 failures (seed ${SEED})`);
  });
});
