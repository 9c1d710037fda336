/**
 * Property-based test of request rendering for every seed profile and the
 * standard one: whatever ids, types, tenants and data an event carries (the
 * API allows any string as an id), rendering never throws, every header value
 * is sendable (visible ASCII or space, no CR/LF), and envelope bodies are
 * valid JSON carrying the data unchanged. Fixed seed, bounded runs.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { seedProfiles } from "../config/_seed_profiles.ts";
import { STANDARD_PROFILE } from "../config/profile.ts";
import { renderRequest } from "./render_request.ts";

const RUNS = Number(Deno.env.get("HOOKD_FUZZ_RUNS") ?? 200);
const SEED = 20261123;
const SENDABLE = /^[\x20-\x7e]*$/;

Deno.test("fuzz: rendering never throws and every header is sendable", () => {
  const profiles = { standard: STANDARD_PROFILE, ...seedProfiles() };
  let tried = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...Object.keys(profiles)),
      // Any string, even beyond what the API accepts for ids; types and tenants as validated there.
      fc.string({ unit: "binary", minLength: 1, maxLength: 60 }),
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
      fc.option(
        // Tenant ids without control characters (the API refuses those).
        // deno-lint-ignore no-control-regex
        fc.string({ unit: "binary", maxLength: 60 }).filter((t) => !/[\x00-\x1f\x7f]/.test(t)),
      ),
      fc.jsonValue({ maxDepth: 3 }),
      fc.array(fc.constantFrom("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain-secret-1234567"), {
        maxLength: 2,
      }),
      fc.integer({ min: 0, max: 4_102_444_800_000 }),
      (name, id, type, tenant, data, secrets, now) => {
        tried++;
        const payload = JSON.stringify(data);
        const request = renderRequest({
          profile: profiles[name as keyof typeof profiles]!,
          webhook: { id: "w1", url: "https://example.com/h", headers: { "X-Custom": "v" } },
          secrets,
          event: { id, type, tenantId: tenant, payload, occurredAt: now },
          deliveryId: "d1",
          attemptId: "a1",
          attemptNumber: 1,
          now,
        });
        for (const [header, value] of Object.entries(request.headers)) {
          assert.match(value, SENDABLE, `${name}: ${header} = ${JSON.stringify(value)}`);
        }
        // Fetch itself accepts the headers (this throws on anything invalid).
        new Headers(request.headers);
        const body = JSON.parse(request.body);
        if (request.body === payload) return;
        assert.deepEqual(body.data, data, `${name}: envelope lost the data`);
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
  console.log(`render fuzz: ${tried} inputs tried, 0 failures (seed ${SEED})`);
});
