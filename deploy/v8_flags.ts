/**
 * The V8 flags hookd runs with wherever this repository starts it: `deno
 * task start` (deno.json; v8_flags_test.ts keeps the two in step), the
 * compiled binary (compile.ts bakes them in, so the container and the
 * systemd unit run with them) and the benchmarks (bench/hookd.ts), so what
 * is measured is what runs.
 *
 * `--max-semi-space-size=4`: young generations of at most 2 × 4 MB per
 * isolate (the main thread and the store worker) instead of V8's 2 × 16 MB.
 * hookd's live heap is small — a heap snapshot of the main thread in the
 * middle of a 20,000-event burst holds 20 MB (32 MB with 1,000-event
 * batches) — but it allocates fast (a request, a clone to the store worker
 * and back, an attempt, per event), so V8 grew both young generations to
 * their maximum under load, and with them the old generations that catch
 * what a scavenge promotes. Smaller young generations also mean shorter
 * scavenges: the pauses that made the first second after a start slow.
 *
 * Measured on 2026-12-06, same machine, with and without (README.md has
 * the table): peak RSS 195 vs 231 MB in the 20,000 single-event burst, 229
 * vs 303 MB end to end with batches; deliveries/s against the bare fetch
 * ceiling 0.19 vs 0.20 single and 0.50 vs 0.54 batched (within run-to-run
 * noise); ack p99 in the first second at 2,000 events/s 52–95 vs 109–202 ms
 * over four alternating rounds, warm p99 alike.
 *
 * Tried and not taken: `--heap-growing-percent=25` on top brought the burst
 * to 141–157 MB but cost a third of the batched throughput (full
 * collections too often once 10,000 queued deliveries are live);
 * `--optimize-for-size` reached 131 MB at two thirds of the speed;
 * `--max-old-space-size=1024` (heap growth factor 1.6 instead of 4) brought
 * the burst to 145–160 MB but cost ~15% of the batched throughput and puts a
 * hard 1 GiB limit on a heap that holds claimed payloads; `--always-sparkplug`,
 * `--no-maglev` and `--min-semi-space-size=4` did not help the first second
 * beyond the noise; `--no-lazy` made it worse (first-second ack p99 at
 * 2,000/s 87.9 → 118.6 ms, RSS +8%); `--no-parallel-scavenge`,
 * `--single-threaded-gc` and `--minor-ms` made scavenges no cheaper, and
 * `--minor-ms` cost a fifth of the batched throughput (README.md, Benchmarks).
 */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=4"];

/** The flags as one `deno run` / `deno compile` argument. */
export const V8_FLAGS_ARG = `--v8-flags=${V8_FLAGS.join(",")}`;
