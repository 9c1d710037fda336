/**
 * `deno task bench`: hookd's benchmarks. Every figure is set against a
 * reference measured in the same run on the same machine.
 *
 * Ingest:
 * - durable ingest (events/s acknowledged with 202) against raw batched
 *   libSQL inserts of the same rows, and against a bare `Deno.serve` driven
 *   by the same load generator (hookd's HTTP-side overhead);
 * - ingest alone: acknowledgement latency at a fixed 2,000 events/s (open
 *   loop) with the webhook paused, so no deliveries run, against the bare
 *   server at the same rate.
 *
 * Latency with deliveries (see latency.ts): ack and post→receiver latency at
 * 500 and 2,000 events/s posted one per request to a freshly started daemon
 * delivering to a local receiver, the first second after the start and the
 * warm phase, against a freshly started bare server at the same rate.
 *
 * Delivery (see delivery.ts): end-to-end durable deliveries/s, events posted
 * in batches and one per request, against a bare `fetch` loop, with the
 * daemon's peak RSS; ack→receipt latency, scheduling lateness against
 * `setTimeout`, and a restart with 1,000,000 pending retries against one
 * with none.
 *
 * Isolation (see isolation.ts): 1,000 webhooks, one of them slow, down or
 * answering 503; the other 999's deliveries/s against the same run with all
 * of them healthy.
 *
 * Signing (see signing.ts): µs per signature over a 1 KiB body, ed25519
 * (`v1a`) against HMAC-SHA256 (`v1`) in the same run.
 *
 * Store keys (see store_keys.ts): the store thread's µs per delivery with
 * a partial idempotency index and with deliveries WITHOUT ROWID, against
 * the current schema in the same run.
 *
 * Soak (see soak.ts, only with `--only soak`): RSS after 10 minutes at a
 * steady 500 single-event requests/s fanned out to 50 receivers, against RSS
 * at minute 1, and every event delivered.
 *
 * Purge (see purge.ts, only with `--only purge`): ingest acknowledgement
 * latency while the retention purger deletes 1M expired deliveries with
 * their attempts and events, against the same run without retention.
 *
 * Flags: `--quick` (a ~1 min smoke run; a 2 min soak),
 * `--only ingest|latency|delivery|isolation|signing|store_keys|soak|purge`
 * (one part; the soak and the purge run only so), `--soak-minutes N` (the soak's length),
 * `--json` (also print the results as JSON after the table), `--cpu-prof`
 * (write the daemons' V8 CPU profiles to bench/results/prof-<time>/ and print
 * where their main threads spend time). Only 127.0.0.1 is used; children and
 * temp dirs are removed even on failure.
 */
import type { BenchContext } from "./context.ts";
import { type Child, spawnChild } from "./child.ts";
import { cpuSnapshot, type CpuUse, cpuUse, systemBusySeconds } from "./cpu.ts";
import {
  closedLoop,
  type ClosedLoopResult,
  openLoop,
  type OpenLoopResult,
  type Target,
} from "./load.ts";
import { type CpuSplit, runDeliveryBench } from "./delivery.ts";
import { api, spawnHookd } from "./hookd.ts";
import { runIsolationBench } from "./isolation.ts";
import { runLatencyBench } from "./latency.ts";
import { summarizeProfiles } from "./profile_summary.ts";
import { type PurgeBenchResult, runPurgeBench } from "./purge.ts";
import { runSigningBench } from "./signing.ts";
import { runSoakBench, type SoakResult } from "./soak.ts";
import { runStoreKeysBench } from "./store_keys.ts";
import type { ReferenceRequest, ReferenceResult } from "./reference_worker.ts";
import { printTable, type Row, rowsJson } from "./report.ts";
import { storeProbe, type StoreProbeResult } from "./store_probe.ts";
import { callWorker } from "./worker_call.ts";

interface Plan {
  readonly referenceEvents: number;
  readonly storeMs: number;
  readonly warmupMs: number;
  readonly bareMs: number;
  readonly ingestMs: number;
  readonly batchMs: number;
  readonly latencyMs: number;
  readonly bareLatencyMs: number;
}

const FULL: Plan = {
  referenceEvents: 60_000,
  storeMs: 4_000,
  warmupMs: 1_000,
  bareMs: 5_000,
  ingestMs: 8_000,
  batchMs: 5_000,
  latencyMs: 10_000,
  bareLatencyMs: 5_000,
};

const QUICK: Plan = {
  referenceEvents: 10_000,
  storeMs: 1_500,
  warmupMs: 500,
  bareMs: 1_500,
  ingestMs: 2_000,
  batchMs: 1_500,
  latencyMs: 3_000,
  bareLatencyMs: 2_000,
};

const CONCURRENCY = [64, 256] as const;
const BATCH_EVENTS = 100;
const BATCH_CONCURRENCY = 8;
const RATE = 2_000;
const REFERENCE_BATCH = 500;
const TARGET_EVENTS_PER_SECOND = 10_000;
const TARGET_P99_MS = 10;
const ADMIN_KEY = `bench-admin-${crypto.randomUUID()}`;
const ROOT = new URL("..", import.meta.url).pathname;

interface Scenario {
  readonly name: string;
  readonly result: ClosedLoopResult | OpenLoopResult;
  readonly daemonCpu?: CpuUse;
  readonly benchCpu?: CpuUse;
  /** Cores busy with processes other than the server and this one (other work on the machine). */
  readonly otherCores?: number;
}

const USAGE = "usage: deno task bench [--quick] " +
  "[--only ingest|latency|delivery|isolation|signing|store_keys|soak|purge] " +
  "[--soak-minutes N] [--json] [--cpu-prof]";
const SOAK_MINUTES = 10;
const QUICK_SOAK_MINUTES = 2;
const flags = new Set<string>();
const PARTS = [
  "ingest",
  "latency",
  "delivery",
  "isolation",
  "signing",
  "store_keys",
  "soak",
  "purge",
] as const;
let only: typeof PARTS[number] | undefined;
let soakMinutes: number | undefined;
for (let i = 0; i < Deno.args.length; i++) {
  const arg = Deno.args[i]!;
  if (arg === "--help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
  if (name === "--only") {
    const part = inline ?? Deno.args[++i];
    if (!PARTS.includes(part as typeof PARTS[number])) {
      console.error(
        `bench: --only takes ${PARTS.map((p) => `"${p}"`).join(", ")}, got ${JSON.stringify(part)}`,
      );
      Deno.exit(2);
    }
    only = part as typeof PARTS[number];
  } else if (name === "--soak-minutes") {
    const value = inline ?? Deno.args[++i];
    soakMinutes = Number(value);
    if (!(soakMinutes >= 2)) {
      console.error(
        `bench: --soak-minutes takes a number of at least 2, got ${JSON.stringify(value)}`,
      );
      Deno.exit(2);
    }
  } else if (["--quick", "--json", "--cpu-prof"].includes(arg)) {
    flags.add(arg);
  } else {
    console.error(`bench: unknown flag ${arg}; ${USAGE}`);
    Deno.exit(2);
  }
}
const plan = flags.has("--quick") ? QUICK : FULL;
const profileDir = flags.has("--cpu-prof")
  ? `${ROOT}bench/results/prof-${new Date().toISOString().replace(/[:.]/g, "-")}`
  : undefined;

const children = new Set<Child>();
let tempDir: string | undefined;

async function cleanup(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop()));
  children.clear();
  if (tempDir) await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  tempDir = undefined;
}

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

function reference(request: ReferenceRequest): Promise<ReferenceResult> {
  return callWorker(new URL("./reference_worker.ts", import.meta.url), request);
}

/** Other processes' cores seen while each in-process phase (references, store probe) ran. */
const inProcessLoad: { name: string; otherCores: number }[] = [];

async function inProcess<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const [selfBefore, systemBefore] = [cpuSnapshot(Deno.pid), systemBusySeconds()];
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  const self = cpuUse(selfBefore, cpuSnapshot(Deno.pid), seconds).total;
  const otherCores = Math.max(0, (systemBusySeconds() - systemBefore) / seconds - self);
  inProcessLoad.push({ name, otherCores });
  return result;
}

async function startDaemon(name: string, env: Record<string, string> = {}): Promise<Child> {
  const dir = await Deno.makeTempDir({ dir: tempDir, prefix: `${name}-` });
  const child = await spawnHookd({
    name,
    dbPath: `${dir}/hookd.db`,
    adminKey: ADMIN_KEY,
    root: ROOT,
    profileDir,
    env,
  });
  children.add(child);
  try {
    // Paused: each event still gets its delivery row (state "held"), but the delivery engine
    // does not try to send it, so this measures ingest alone. (Port 9 has no listener anyway.)
    await api(child.origin, ADMIN_KEY, "POST", "/api/v1/webhooks", {
      url: "http://127.0.0.1:9/x",
      state: "paused",
    }, 201);
  } catch (error) {
    throw new Error(`Cannot create the webhook: ${(error as Error).message}\n${child.output()}`);
  }
  return child;
}

async function stopChild(child: Child): Promise<void> {
  const status = await child.stop();
  children.delete(child);
  if (!status.success && status.signal !== "SIGTERM") {
    progress(`${child.name} exited with ${status.code}:\n${child.output().slice(-2000)}`);
  }
}

function eventBody(n: number): string {
  return `{"type":"order.created","data":{"order_id":${n},"amount":4200,"currency":"EUR"}}`;
}

function batchBody(n: number): string {
  const events: string[] = [];
  for (let i = 0; i < BATCH_EVENTS; i++) events.push(eventBody(n * BATCH_EVENTS + i));
  return `{"events":[${events.join(",")}]}`;
}

function target(origin: string, path: string, batch = false): Target {
  return {
    url: `${origin}${path}`,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: batch ? batchBody : eventBody,
    eventsPerRequest: batch ? BATCH_EVENTS : 1,
    okStatus: 202,
  };
}

/** Runs `work` while measuring the CPU of the child and of this process over the same span. */
async function measured<T extends ClosedLoopResult | OpenLoopResult>(
  name: string,
  child: Child,
  work: () => Promise<T>,
): Promise<Scenario & { result: T }> {
  const started = performance.now();
  const [childBefore, selfBefore] = [cpuSnapshot(child.pid), cpuSnapshot(Deno.pid)];
  const systemBefore = systemBusySeconds();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  const daemonCpu = cpuUse(childBefore, cpuSnapshot(child.pid), seconds);
  const benchCpu = cpuUse(selfBefore, cpuSnapshot(Deno.pid), seconds);
  const otherCores = Math.max(
    0,
    (systemBusySeconds() - systemBefore) / seconds - daemonCpu.total - benchCpu.total,
  );
  if ("concurrency" in result) {
    progress(
      `${name}: ${result.eventsPerSecond.toFixed(0)} events/s, p99 ${
        result.latencyMs.p99.toFixed(1)
      } ms, ${result.failures} failures${result.firstFailure ? ` (${result.firstFailure})` : ""}`,
    );
  } else {
    progress(
      `${name}: p50 ${result.latencyMs.p50.toFixed(2)} / p99 ${
        result.latencyMs.p99.toFixed(2)
      } / ` +
        `max ${result.latencyMs.max.toFixed(1)} ms, ${result.acknowledged}/${result.sent} ` +
        `acknowledged${result.firstFailure ? ` (${result.firstFailure})` : ""}`,
    );
  }
  return { name, result, daemonCpu, benchCpu, otherCores };
}

function printCpu(scenarios: Scenario[]): void {
  console.log("\nCPU (cores busy during each scenario; 2 cores in all):");
  for (const s of scenarios) {
    const threads = (use?: CpuUse) =>
      use
        ? use.threads.slice(0, 4).map((t) => `${t.name} ${t.cores.toFixed(2)}`).join(", ")
        : "n/a";
    console.log(
      `  ${s.name.padEnd(24)} server ${s.daemonCpu?.total.toFixed(2) ?? "n/a"} [${
        threads(s.daemonCpu)
      }]  load generator ${s.benchCpu?.total.toFixed(2) ?? "n/a"}  other processes ${
        s.otherCores?.toFixed(2) ?? "n/a"
      }`,
    );
  }
}

interface IngestBenchResult {
  readonly rows: Row[];
  readonly notes: string[];
  readonly scenarios: Scenario[];
  readonly json: Record<string, unknown>;
}

async function ingestBench(): Promise<IngestBenchResult> {
  // 1. References: the database alone.
  const refBatch = await inProcess("libSQL batch", () =>
    reference({
      url: `file:${tempDir}/reference-batch.db`,
      events: plan.referenceEvents,
      batchSize: REFERENCE_BATCH,
      mode: "batch",
    }));
  const refBatchRate = refBatch.events / refBatch.seconds;
  progress(
    `libSQL batch reference: ${refBatchRate.toFixed(0)} events/s (${
      (refBatch.rows / refBatch.seconds).toFixed(0)
    } rows/s)`,
  );
  const refMulti = await inProcess("libSQL multirow", () =>
    reference({
      url: `file:${tempDir}/reference-multirow.db`,
      events: plan.referenceEvents,
      batchSize: REFERENCE_BATCH,
      mode: "multirow",
    }));
  const refMultiRate = refMulti.events / refMulti.seconds;
  progress(`libSQL multi-row reference: ${refMultiRate.toFixed(0)} events/s`);

  // The daemon's Store class in this process: group commit and worker, no HTTP.
  const storeResults = new Map<number, StoreProbeResult>();
  for (const concurrency of CONCURRENCY) {
    const result = await inProcess(
      `Store.write c${concurrency}`,
      () =>
        storeProbe(`file:${tempDir}/store-c${concurrency}.db`, {
          concurrency,
          warmupMs: plan.warmupMs / 2,
          measureMs: plan.storeMs,
        }),
    );
    storeResults.set(concurrency, result);
    progress(
      `Store.write c${concurrency} (no HTTP): ${result.eventsPerSecond.toFixed(0)} events/s, ` +
        `${result.writesPerTransaction.toFixed(1)} writes/transaction`,
    );
  }

  // 2. References: HTTP alone, same load generator.
  const scenarios: Scenario[] = [];
  const bare = await spawnChild({
    name: "bare server",
    args: ["run", "-A", `${ROOT}bench/bare_server.ts`],
    cwd: ROOT,
    listening: /bare listening on (http:\/\/[^\s]+)/,
  });
  children.add(bare);
  const bareClosed = new Map<number, ClosedLoopResult>();
  for (const concurrency of CONCURRENCY) {
    const s = await measured(
      `bare c${concurrency}`,
      bare,
      () =>
        closedLoop(target(bare.origin, "/api/v1/events"), {
          concurrency,
          warmupMs: plan.warmupMs,
          measureMs: plan.bareMs,
        }),
    );
    bareClosed.set(concurrency, s.result);
    scenarios.push(s);
  }
  const bareOpen = await measured(
    `bare ${RATE}/s open loop`,
    bare,
    () =>
      openLoop(target(bare.origin, "/api/v1/events"), {
        rate: RATE,
        warmupMs: plan.warmupMs,
        measureMs: plan.bareLatencyMs,
      }),
  );
  scenarios.push(bareOpen);
  await stopChild(bare);

  // 3. hookd, a fresh daemon and database per scenario so none inherits another's backlog.
  const ingest = new Map<number, ClosedLoopResult>();
  for (const concurrency of CONCURRENCY) {
    const daemon = await startDaemon(`c${concurrency}`);
    const s = await measured(
      `hookd c${concurrency}`,
      daemon,
      () =>
        closedLoop(target(daemon.origin, "/api/v1/events"), {
          concurrency,
          warmupMs: plan.warmupMs,
          measureMs: plan.ingestMs,
        }),
    );
    ingest.set(concurrency, s.result);
    scenarios.push(s);
    await stopChild(daemon);
  }

  // What the front door costs: the largest closed loop again with the
  // connection limits enforced (the default, "auto", serves a loopback address
  // directly; a daemon listening on the network pays this).
  const largest = CONCURRENCY[CONCURRENCY.length - 1]!;
  const limitedDaemon = await startDaemon("limits", {
    HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: "true",
  });
  const limited = await measured(
    `hookd c${largest} with connection limits`,
    limitedDaemon,
    () =>
      closedLoop(target(limitedDaemon.origin, "/api/v1/events"), {
        concurrency: largest,
        warmupMs: plan.warmupMs,
        measureMs: plan.ingestMs,
      }),
  );
  scenarios.push(limited);
  await stopChild(limitedDaemon);

  const batchDaemon = await startDaemon("batch");
  const batch = await measured(
    `hookd batch x${BATCH_EVENTS} c${BATCH_CONCURRENCY}`,
    batchDaemon,
    () =>
      closedLoop(target(batchDaemon.origin, "/api/v1/events/batch", true), {
        concurrency: BATCH_CONCURRENCY,
        warmupMs: plan.warmupMs,
        measureMs: plan.batchMs,
      }),
  );
  scenarios.push(batch);
  await stopChild(batchDaemon);

  const latencyDaemon = await startDaemon("latency");
  const latency = await measured(
    `hookd ${RATE}/s open loop, ingest alone`,
    latencyDaemon,
    () =>
      openLoop(target(latencyDaemon.origin, "/api/v1/events"), {
        rate: RATE,
        warmupMs: plan.warmupMs,
        measureMs: plan.latencyMs,
      }),
  );
  scenarios.push(latency);
  await stopChild(latencyDaemon);

  // 4. Report.
  const refName = "libSQL batch";
  const rows: Row[] = [
    { figure: "libSQL batched inserts (reference)", value: refBatchRate, unit: "events/s" },
    {
      figure: "libSQL multi-row INSERT (informative)",
      value: refMultiRate,
      unit: "events/s",
      reference: { name: refName, value: refBatchRate },
    },
  ];
  for (const concurrency of CONCURRENCY) {
    const result = storeResults.get(concurrency)!;
    rows.push({
      figure: `Store.write c${concurrency}, no HTTP (${result.writesPerTransaction.toFixed(0)}/tx)`,
      value: result.eventsPerSecond,
      unit: "events/s",
      reference: { name: refName, value: refBatchRate },
    });
  }
  for (const concurrency of CONCURRENCY) {
    rows.push({
      figure: `bare HTTP c${concurrency} (reference)`,
      value: bareClosed.get(concurrency)!.requestsPerSecond,
      unit: "req/s",
    });
  }
  for (const concurrency of CONCURRENCY) {
    const result = ingest.get(concurrency)!;
    rows.push({
      figure: `ingest c${concurrency} vs libSQL`,
      value: result.eventsPerSecond,
      unit: "events/s",
      reference: { name: refName, value: refBatchRate },
      target: { kind: "min", value: TARGET_EVENTS_PER_SECOND },
    });
    rows.push({
      figure: `ingest c${concurrency} vs bare HTTP`,
      value: result.eventsPerSecond,
      unit: "events/s",
      reference: {
        name: `bare c${concurrency}`,
        value: bareClosed.get(concurrency)!.requestsPerSecond,
      },
    });
  }
  rows.push({
    figure: `ingest c${largest}, connection limits enforced (informative)`,
    value: limited.result.eventsPerSecond,
    unit: "events/s",
    reference: { name: refName, value: refBatchRate },
  });
  rows.push({
    figure: `ingest batch x${BATCH_EVENTS} c${BATCH_CONCURRENCY}`,
    value: batch.result.eventsPerSecond,
    unit: "events/s",
    reference: { name: refName, value: refBatchRate },
    target: { kind: "min", value: TARGET_EVENTS_PER_SECOND },
  });
  // The webhook is paused here (see startDaemon): latency with deliveries running is latency.ts's.
  const alone = "ingest alone (paused webhook, no deliveries)";
  rows.push({
    figure: `${alone}: open loop ${RATE}/s acknowledged`,
    value: latency.result.acknowledged / latency.result.seconds,
    unit: "events/s",
    reference: { name: "scheduled", value: RATE },
  });
  for (const q of ["p50", "p90", "p99", "max"] as const) {
    rows.push({
      figure: `${alone}: ack latency ${q} @ ${RATE}/s`,
      value: latency.result.latencyMs[q],
      unit: "ms",
      reference: { name: "bare", value: bareOpen.result.latencyMs[q] },
      target: q === "p99" ? { kind: "max", value: TARGET_P99_MS } : undefined,
    });
  }

  const notes: string[] = [];
  for (const s of scenarios.filter((s) => s.result.failures > 0)) {
    notes.push(`${s.name}: ${s.result.failures} failed requests, first: ${s.result.firstFailure}`);
  }
  for (const phase of inProcessLoad) {
    if (phase.otherCores > 0.2) {
      notes.push(
        `warning: ${phase.name}: other processes kept ${phase.otherCores.toFixed(2)} cores ` +
          "busy; this figure is not comparable with a run on a quiet machine.",
      );
    }
  }
  for (const s of scenarios) {
    if ("concurrency" in s.result && (s.benchCpu?.total ?? 0) >= 0.9) {
      notes.push(
        `note: ${s.name}: the load generator used ${s.benchCpu!.total.toFixed(2)} cores ` +
          "(one JS thread is ~1.0), so this figure is bounded by the generator, not the server.",
      );
    }
    if ((s.otherCores ?? 0) > 0.2) {
      notes.push(
        `warning: ${s.name}: other processes kept ${s.otherCores!.toFixed(2)} cores busy; ` +
          "this figure is not comparable with a run on a quiet machine.",
      );
    }
  }
  if (latency.result.sendLagMs.p99 > 2) {
    notes.push(
      `note: the load generator sent late (send lag p99 ${
        latency.result.sendLagMs.p99.toFixed(1)
      } ms); latency is measured from the scheduled time, so this lag is charged to the server.`,
    );
  }
  return {
    rows,
    notes,
    scenarios,
    json: {
      references: { libsqlBatch: refBatch, libsqlMultiRow: refMulti },
      store: [...storeResults.values()],
      inProcessLoad,
      scenarios,
    },
  };
}

function printDeliveryCpu(title: string, cpu: readonly ({ name: string } & CpuSplit)[]): void {
  console.log(`\nCPU during ${title} (cores; 2 in all):`);
  for (const c of cpu) {
    const threads = (use: CpuUse) =>
      use.threads.slice(0, 4).map((t) => `${t.name} ${t.cores.toFixed(2)}`).join(", ");
    console.log(
      `  ${c.name.padEnd(24)} hookd ${c.daemon.total.toFixed(2)} [${threads(c.daemon)}]  ` +
        `receiver ${c.receiver.total.toFixed(2)}  bench ${c.bench.total.toFixed(2)}  ` +
        `other processes ${c.other.toFixed(2)}`,
    );
  }
}

async function main(): Promise<void> {
  tempDir = await Deno.makeTempDir({ prefix: "hookd-bench-" });
  const started = performance.now();
  const mode = flags.has("--quick") ? "quick" : "full";
  progress(`${mode} run${only ? ` (${only} only)` : ""}, temp dir ${tempDir}`);
  if (profileDir) await Deno.mkdir(profileDir, { recursive: true });

  const context: BenchContext = {
    tempDir: tempDir!,
    root: ROOT,
    adminKey: ADMIN_KEY,
    profileDir,
    track: (child) => children.add(child),
    stop: stopChild,
    progress,
  };
  const ingest = only === undefined || only === "ingest" ? await ingestBench() : undefined;
  const latency = only !== undefined && only !== "latency" ? undefined : await runLatencyBench({
    quick: flags.has("--quick"),
    ...context,
  });
  const delivery = only !== undefined && only !== "delivery" ? undefined : await runDeliveryBench({
    quick: flags.has("--quick"),
    ...context,
  });
  const isolation = only !== undefined && only !== "isolation"
    ? undefined
    : await runIsolationBench({
      quick: flags.has("--quick"),
      ...context,
    });
  // A few seconds in process.
  const signing = only !== undefined && only !== "signing"
    ? undefined
    : runSigningBench({ quick: flags.has("--quick"), progress });
  // Some seconds in process.
  const storeKeys = only !== undefined && only !== "store_keys"
    ? undefined
    : runStoreKeysBench({ quick: flags.has("--quick"), tempDir: context.tempDir, progress });
  // Ten minutes or more: only when asked for by name.
  const soak: SoakResult | undefined = only !== "soak" ? undefined : await runSoakBench({
    minutes: soakMinutes ?? (flags.has("--quick") ? QUICK_SOAK_MINUTES : SOAK_MINUTES),
    ...context,
  });
  // Builds a database of 3M rows first: only when asked for by name.
  const purge: PurgeBenchResult | undefined = only !== "purge" ? undefined : await runPurgeBench({
    quick: flags.has("--quick"),
    ...context,
  });

  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\nhookd benchmark (${mode}${only ? `, ${only} only` : ""}, ${
      seconds.toFixed(0)
    } s, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno})\n`,
  );
  const rows = [
    ...(ingest?.rows ?? []),
    ...(latency?.rows ?? []),
    ...(delivery?.rows ?? []),
    ...(isolation?.rows ?? []),
    ...(signing?.rows ?? []),
    ...(storeKeys?.rows ?? []),
    ...(soak?.rows ?? []),
    ...(purge?.rows ?? []),
  ];
  printTable(rows);
  if (ingest) printCpu(ingest.scenarios);
  if (latency) printDeliveryCpu("latency scenarios (with deliveries)", latency.cpu);
  if (delivery) printDeliveryCpu("delivery scenarios", delivery.cpu);
  if (isolation) printDeliveryCpu("isolation scenarios", isolation.cpu);
  const notes = [
    ...(ingest?.notes ?? []),
    ...(latency?.notes ?? []),
    ...(delivery?.notes ?? []),
    ...(isolation?.notes ?? []),
    ...(signing?.notes ?? []),
    ...(storeKeys?.notes ?? []),
    ...(soak?.notes ?? []),
    ...(purge?.notes ?? []),
  ];
  if (notes.length > 0) console.log(`\n${notes.join("\n")}`);
  if (profileDir) {
    console.log(`\nCPU profiles in ${profileDir}:`);
    console.log(await summarizeProfiles(profileDir));
  }
  if (flags.has("--json")) {
    console.log(JSON.stringify(
      {
        date: new Date().toISOString(),
        mode,
        only,
        deno: Deno.version.deno,
        cores: navigator.hardwareConcurrency,
        seconds,
        rows: rowsJson(rows),
        ingest: ingest?.json,
        latency: latency ? { details: latency.details, cpu: latency.cpu } : undefined,
        delivery: delivery ? { details: delivery.details, cpu: delivery.cpu } : undefined,
        isolation: isolation ? { details: isolation.details, cpu: isolation.cpu } : undefined,
        signing: signing?.details,
        storeKeys: storeKeys?.details,
        soak: soak?.details,
        purge: purge?.details,
      },
      null,
      2,
    ));
  }
}

const interrupted = () => {
  progress("interrupted; cleaning up");
  cleanup().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", interrupted);
Deno.addSignalListener("SIGTERM", interrupted);

let code = 0;
try {
  await main();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  code = 1;
} finally {
  await cleanup();
}
Deno.exit(code);
