/**
 * The signing benchmark (`deno task bench --only signing`, also part of the
 * default run): what signing costs per attempt, µs per `webhook-signature`
 * value over a typical 1 KiB body, through the function every attempt calls
 * (`signStandardWebhooks`). ed25519 (`v1a`) is set against HMAC-SHA256 (`v1`)
 * measured in the same run, alone and during a rotation (two signatures).
 *
 * In process, no daemon: signing is pure CPU on the main thread, and each
 * attempt signs once. The ways run in turn, several rounds, and each figure
 * is the median round, so other work on the shared machine moves both sides
 * of a ratio alike.
 */
import type { BenchOutcome } from "./context.ts";
import { generatePrivateKey } from "../src/delivery/ed25519_keys.ts";
import { generateSecret, signStandardWebhooks } from "../src/delivery/signing.ts";
import { median } from "./median.ts";

export interface SigningBenchOptions {
  readonly quick: boolean;
  readonly progress: (message: string) => void;
}

/** A 1 KiB event body, JSON as producers send it. */
function body(): string {
  const filler = "x".repeat(1024 - '{"order_id":1001,"note":""}'.length);
  return `{"order_id":1001,"note":"${filler}"}`;
}

/** µs per call of `sign`, over `calls` calls. */
function perCall(sign: (i: number) => string, calls: number): number {
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < calls; i++) sink += sign(i).length;
  const us = ((performance.now() - started) * 1000) / calls;
  if (sink === 0) throw new Error("nothing was signed");
  return us;
}

export function runSigningBench(options: SigningBenchOptions): BenchOutcome {
  const rounds = options.quick ? 5 : 7;
  const calls = options.quick ? 1_000 : 4_000;
  const payload = body();
  const hmac = [generateSecret(), generateSecret()];
  const ed25519 = [generatePrivateKey(), generatePrivateKey()];
  // The timestamp moves with i so no layer could cache a result; the id is an event id.
  const sign = (secrets: string[]) => (i: number) =>
    signStandardWebhooks({
      id: "01a207a2-3280-76be-8558-7c7cb2e4dbce",
      timestamp: 1_800_000_000 + i,
      body: payload,
      secrets,
    });
  const ways = {
    hmac: sign(hmac.slice(0, 1)),
    ed25519: sign(ed25519.slice(0, 1)),
    hmacRotating: sign(hmac),
    ed25519Rotating: sign(ed25519),
  };
  // Warm up: key objects built, code optimised.
  const names = Object.keys(ways) as (keyof typeof ways)[];
  for (const name of names) perCall(ways[name], 500);
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
    keyof typeof ways,
    number[]
  >;
  // Round-robin, one round of each way at a time.
  for (let round = 0; round < rounds; round++) {
    for (const name of names) samples[name].push(perCall(ways[name], calls));
  }
  const us = Object.fromEntries(names.map((name) => [name, median(samples[name])])) as Record<
    keyof typeof ways,
    number
  >;
  options.progress(
    `signing: HMAC ${us.hmac.toFixed(1)} µs, ed25519 ${us.ed25519.toFixed(1)} µs per signature`,
  );
  return {
    rows: [
      {
        figure: "signing, 1 KiB body: ed25519 v1a",
        value: us.ed25519,
        unit: "µs",
        reference: { name: "HMAC-SHA256 v1", value: us.hmac },
      },
      {
        figure: "signing, 1 KiB body, rotating (2 signatures): ed25519",
        value: us.ed25519Rotating,
        unit: "µs",
        reference: { name: "HMAC-SHA256", value: us.hmacRotating },
      },
    ],
    notes: [
      `Signing: µs per webhook-signature value (median of ${rounds} rounds of ${calls}), ` +
      "in process; each attempt signs once.",
    ],
    details: { us, rounds, calls, bodyBytes: payload.length },
  };
}
