/**
 * The V8 flags hookd runs with wherever this repository starts it: `deno
 * task start` (deno.json; v8_flags_test.ts keeps the two in step), the
 * compiled binary (compile.ts bakes them in, so the container and the
 * systemd unit run with them) and the benchmarks (bench/hookd.ts), so what
 * is measured is what runs.
 *
 * hookd's live heap is small (a heap snapshot of the main thread in the
 * middle of a 20,000-event burst holds 20 MB; a full collection there
 * leaves 18–25 MB) but it allocates fast: a request, a clone to the store
 * worker and back, an attempt, per event. What a request or a delivery
 * holds while it waits (its commit, the receiver's answer) outlives a
 * scavenge or two and is promoted, so the old generation fills with
 * garbage only a full collection frees. Left to itself V8 lets an old
 * generation grow to four times what the last full collection kept before
 * it collects again: 70–80 MB of the burst's ~200 MB peak RSS.
 *
 * `--heap-growing-percent=40`: the next full collection comes once the old
 * generation has grown 40% past what the last one kept, whatever the
 * allocation rate. `--max-semi-space-size=8`: young generations of at most
 * 2 × 8 MB per isolate (the main thread and the store worker; V8's default
 * is 16). Young generations that small keep the heap small; twice the
 * 4 MB this used to be means half as many scavenges, and a request that
 * waits a few milliseconds is less often promoted, which pays for the more
 * frequent full collections.
 *
 * Measured on 2026-12-06 against `--max-semi-space-size=4` alone, three
 * alternating rounds of `bench:compare --only delivery` and `--only
 * latency` (README.md, V8 flags): peak RSS in the 20,000 single-event
 * burst 192–204 → 157–163 MB, end to end in batches of 100 232–235 →
 * 188–191 MB, at 2,000 events/s 195–211 → 156–162 MB; deliveries/s,
 * hookd's CPU per event and latency within the noise or better. At a
 * steady 2,000 events/s, 8 s with `--trace-gc`, two runs each: 0.28 and
 * 0.60 s of GC pauses over both isolates, against 0.47 and 0.70 s.
 *
 * Tried and not taken: `--heap-growing-percent=50` with 4 MB semi-spaces
 * kept the burst lower (148–149 MB) but cost CPU where the machine is
 * saturated (at 2,000/s +11% per event and warm ack p50 8.2 → 13.2 ms,
 * every round worse): 12–14 full collections in 8 s instead of 1–3.
 * `--heap-growing-percent=25` with them cost a third of the batched
 * throughput; `--heap-growing-percent=30` with 8 MB semi-spaces was no
 * lower than 40 (156–163 MB); `--optimize-for-size` reached 131 MB at two
 * thirds of the speed; `--max-old-space-size=1024` (heap growth factor 1.6
 * instead of 4) brought the burst to 145–160 MB but cost ~15% of the
 * batched throughput and puts a hard 1 GiB limit on a heap that holds
 * claimed payloads; `MALLOC_ARENA_MAX=2` saved 8–20 MB of the burst and
 * nothing in batches, and an environment variable cannot be baked into the
 * binary; `--always-sparkplug`, `--no-maglev` and `--min-semi-space-size=4`
 * did not help the first second beyond the noise; `--no-lazy` made it
 * worse (first-second ack p99 at 2,000/s 87.9 → 118.6 ms, RSS +8%);
 * `--no-parallel-scavenge`, `--single-threaded-gc` and `--minor-ms` made
 * scavenges no cheaper, and `--minor-ms` cost a fifth of the batched
 * throughput (README.md, Benchmarks).
 */
export const V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=8",
  "--heap-growing-percent=40",
];

/** The flags as one `deno run` / `deno compile` argument. */
export const V8_FLAGS_ARG = `--v8-flags=${V8_FLAGS.join(",")}`;
