/**
 * The one seeded random number generator of the tests: jitter, fuzzed
 * schedules and chaos timings draw from it so that every run, and every
 * failure, repeats exactly.
 *
 * @module
 */

/**
 * Uniform numbers in [0, 1) like `Math.random`, from mulberry32 (a 32-bit
 * state, good enough for tests and tiny): the same `seed` gives the same
 * sequence on every run and platform. `seeded_rng_test.ts` pins it to a table.
 */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
