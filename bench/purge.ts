/**
 * The purge benchmark (`deno task bench --only purge`): the worst ingest
 * stall while the retention purger deletes 1,000,000 expired deliveries,
 * their 1,000,000 attempts and their 1,000,000 events. Two daemons start on
 * two copies of the same database: one with retention on (the purge starts
 * a second after the start) and one with every age "never" (the reference);
 * each takes single-event requests at a steady rate (open loop, so a stall
 * is charged for every request it delays) for the same time, and the figure
 * is acknowledgement latency with the purge running against the same
 * without it (p50, p99, max). Events go to a paused webhook: one held
 * delivery each, nothing sent, so the latency is ingest's alone.
 */
import type { BenchContext, BenchOutcome } from "./context.ts";
import type { BuildResult } from "./db_worker.ts";
import { spawnHookd } from "./hookd.ts";
import { openLoop, type OpenLoopResult } from "./load.ts";
import { syncFile } from "./sync_file.ts";
import { callWorker } from "./worker_call.ts";

export interface PurgeBenchOptions extends BenchContext {
  readonly quick: boolean;
}

export type PurgeBenchResult = BenchOutcome;

const DAY = 86_400_000;
const RATE = 1_000;

async function scrapeCounter(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name)) total += Number(line.split(" ").pop());
  }
  return total;
}

async function runOne(
  options: PurgeBenchOptions,
  name: string,
  dbPath: string,
  retention: Record<string, string>,
  measureMs: number,
  total: number,
): Promise<{ load: OpenLoopResult; purged: number; purgeDoneS: number | undefined }> {
  const daemon = await spawnHookd({
    name,
    dbPath,
    adminKey: options.adminKey,
    root: options.root,
    profileDir: options.profileDir,
    env: retention,
  });
  options.track(daemon);
  try {
    let purgeDoneS: number | undefined;
    const started = performance.now();
    let loading = true;
    // Watches the purge's progress from its counter, once a second.
    const watcher = (async () => {
      while (loading && purgeDoneS === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const purged = await scrapeCounter(daemon.origin, "hookd_retention_purged_total");
        if (purged >= total && total > 0) purgeDoneS = (performance.now() - started) / 1000;
      }
    })();
    let load: OpenLoopResult;
    try {
      load = await openLoop({
        url: `${daemon.origin}/api/v1/events`,
        headers: {
          authorization: `Bearer ${options.adminKey}`,
          "content-type": "application/json",
        },
        body: (n) => `{"type":"order.created","data":{"order_id":${n},"amount":4200}}`,
        eventsPerRequest: 1,
        okStatus: 202,
      }, { rate: RATE, warmupMs: 0, measureMs });
    } finally {
      loading = false;
      await watcher;
    }
    const purged = await scrapeCounter(daemon.origin, "hookd_retention_purged_total");
    return { load, purged, purgeDoneS };
  } finally {
    await options.stop(daemon);
  }
}

export async function runPurgeBench(options: PurgeBenchOptions): Promise<PurgeBenchResult> {
  const { progress } = options;
  const rows = options.quick ? 200_000 : 1_000_000;
  const measureMs = options.quick ? 15_000 : 60_000;
  const withPurge = `${options.tempDir}/purge.db`;
  const without = `${options.tempDir}/purge-reference.db`;
  progress(`purge: building ${rows.toLocaleString("en-US")} expired deliveries, attempts, events`);
  const built = await callWorker<BuildResult>(new URL("./db_worker.ts", import.meta.url), {
    op: "expired",
    url: `file:${withPurge}`,
    rows,
    ageMs: 60 * DAY,
  });
  progress(`purge: built in ${built.seconds.toFixed(1)} s, ${(built.bytes / 1e6).toFixed(0)} MB`);
  await Deno.copyFile(withPurge, without);
  await syncFile(without);

  progress(`purge: ${RATE}/s single-event ingest for ${measureMs / 1000} s while the purge runs`);
  const purging = await runOne(
    options,
    "purge",
    withPurge,
    {
      HOOKD_RETENTION_SUCCEEDED: "30d",
      HOOKD_RETENTION_DEAD: "90d",
      HOOKD_RETENTION_EVENTS: "30d",
      HOOKD_RETENTION_INTERVAL: "1s",
      HOOKD_RETENTION_BATCH: Deno.env.get("BENCH_PURGE_BATCH") ?? "500",
    },
    measureMs,
    rows * 3,
  );
  progress(`purge: the same without retention`);
  const reference = await runOne(
    options,
    "no purge",
    without,
    {
      HOOKD_RETENTION_SUCCEEDED: "never",
      HOOKD_RETENTION_DEAD: "never",
      HOOKD_RETENTION_EVENTS: "never",
    },
    measureMs,
    rows * 3,
  );

  const p = purging.load.latencyMs;
  const r = reference.load.latencyMs;
  const purgeRate = purging.purgeDoneS === undefined
    ? purging.purged / (measureMs / 1000)
    : purging.purged / purging.purgeDoneS;
  const notes = [
    `purge: ${purging.purged.toLocaleString("en-US")} of ${
      (rows * 3).toLocaleString("en-US")
    } rows deleted ${
      purging.purgeDoneS === undefined
        ? `within the ${measureMs / 1000} s run (not finished)`
        : `in ${purging.purgeDoneS.toFixed(0)} s (≈ ${
          Math.round(purgeRate).toLocaleString("en-US")
        } rows/s)`
    }, while ${purging.load.acknowledged.toLocaleString("en-US")} events were acknowledged ` +
    `(${purging.load.failures} failures; reference: ${reference.load.failures})`,
  ];
  return {
    rows: [
      {
        figure: "ack p50 during a purge",
        value: p.p50,
        unit: "ms",
        reference: { name: "no purge", value: r.p50 },
      },
      {
        figure: "ack p99 during a purge",
        value: p.p99,
        unit: "ms",
        reference: { name: "no purge", value: r.p99 },
        // A purge may at most double the ingest tail.
        target: { kind: "max", value: 2, ratio: true },
      },
      {
        figure: "ack max during a purge",
        value: p.max,
        unit: "ms",
        reference: { name: "no purge", value: r.max },
      },
      { figure: "purge rate", value: purgeRate, unit: "rows/s" },
    ],
    notes,
    details: { rows, rate: RATE, measureMs, purging, reference },
  };
}
