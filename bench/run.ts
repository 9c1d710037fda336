/**
 * `deno task bench`: hookd's ingest benchmark. Every figure is set against a
 * reference measured in the same run on the same machine:
 *
 * - durable ingest (events/s acknowledged with 202) against raw batched
 *   libSQL inserts of the same rows, and against a bare `Deno.serve` driven
 *   by the same load generator (hookd's HTTP-side overhead);
 * - acknowledgement latency at a fixed 2,000 events/s (open loop) against
 *   the bare server at the same rate.
 *
 * Flags: `--quick` (a ~20 s smoke run), `--json` (also print the results as
 * JSON after the table), `--cpu-prof` (write the daemon's V8 CPU profiles to
 * bench/results/prof-<time>/ and print where its main thread spends time).
 * Only 127.0.0.1 is used; children and temp dirs are removed even on failure.
 */
import { type Child, spawnChild } from "./child.ts";
import { cpuSnapshot, type CpuUse, cpuUse, systemBusySeconds } from "./cpu.ts";
import {
  closedLoop,
  type ClosedLoopResult,
  openLoop,
  type OpenLoopResult,
  type Target,
} from "./load.ts";
import { summarizeProfiles } from "./profile_summary.ts";
import type { ReferenceRequest, ReferenceResult } from "./reference_worker.ts";
import { storeProbe, type StoreProbeResult } from "./store_probe.ts";

interface Plan {
  readonly referenceEvents: number;
  readonly referenceInteractiveEvents: number;
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
  referenceInteractiveEvents: 30_000,
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
  referenceInteractiveEvents: 5_000,
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

interface Row {
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  /** "min": value must be ≥ target; "max": ≤ target. */
  readonly target?: { readonly kind: "min" | "max"; readonly value: number };
}

interface Scenario {
  readonly name: string;
  readonly result: ClosedLoopResult | OpenLoopResult;
  readonly daemonCpu?: CpuUse;
  readonly benchCpu?: CpuUse;
  /** Cores busy with processes other than the server and this one (other work on the machine). */
  readonly otherCores?: number;
}

const flags = new Set(Deno.args);
if (flags.has("--help")) {
  console.log("usage: deno task bench [--quick] [--json] [--cpu-prof]");
  Deno.exit(0);
}
for (const flag of flags) {
  if (!["--quick", "--json", "--cpu-prof"].includes(flag)) {
    console.error(`bench: unknown flag ${flag}; known: --quick, --json, --cpu-prof`);
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

async function reference(request: ReferenceRequest): Promise<ReferenceResult> {
  const worker = new Worker(new URL("./reference_worker.ts", import.meta.url), { type: "module" });
  try {
    const reply = await new Promise<{ ok: boolean; result?: ReferenceResult; error?: string }>(
      (resolve, reject) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          reject(new Error(`reference worker crashed: ${event.message}`));
        };
        worker.postMessage(request);
      },
    );
    if (!reply.ok || !reply.result) throw new Error(`reference failed: ${reply.error}`);
    return reply.result;
  } finally {
    worker.terminate();
  }
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

async function startDaemon(name: string): Promise<Child> {
  const dir = await Deno.makeTempDir({ dir: tempDir, prefix: `${name}-` });
  const prof = profileDir
    ? [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
  const child = await spawnChild({
    name: `hookd (${name})`,
    args: ["run", "-A", ...prof, `${ROOT}main.ts`, "serve"],
    cwd: ROOT,
    env: {
      HOOKD_SERVER_LISTEN: "127.0.0.1:0",
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_ADMIN_KEY: ADMIN_KEY,
      HOOKD_LOG_LEVEL: "warn",
    },
    listening: /hookd listening on (http:\/\/[^\s]+)/,
  });
  children.add(child);
  const response = await fetch(`${child.origin}/api/v1/webhooks`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    // Paused: each event still gets its delivery row (state "held"), but the delivery engine
    // does not try to send it, so this measures ingest alone. (Port 9 has no listener anyway.)
    body: JSON.stringify({ url: "http://127.0.0.1:9/x", state: "paused" }),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`Cannot create the webhook: ${response.status} ${text}\n${child.output()}`);
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

function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "ms") return `${value.toFixed(2)} ms`;
  if (unit === "x") return value.toFixed(2);
  return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
}

function verdict(row: Row): string {
  if (!row.target) return "";
  const ok = row.target.kind === "min"
    ? row.value >= row.target.value
    : row.value <= row.target.value;
  return ok ? "PASS" : "MISS";
}

function printTable(rows: Row[]): void {
  const header = ["figure", "value", "reference", "ratio", "target", "result"];
  const lines = rows.map((row) => [
    row.figure,
    formatNumber(row.value, row.unit),
    row.reference ? `${formatNumber(row.reference.value, row.unit)} (${row.reference.name})` : "",
    row.reference ? `${(row.value / row.reference.value).toFixed(2)}x` : "",
    row.target
      ? `${row.target.kind === "min" ? "≥" : "≤"} ${formatNumber(row.target.value, row.unit)}`
      : "",
    verdict(row),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines) console.log(format(line));
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

async function main(): Promise<void> {
  tempDir = await Deno.makeTempDir({ prefix: "hookd-bench-" });
  const started = performance.now();
  progress(`${flags.has("--quick") ? "quick" : "full"} run, temp dir ${tempDir}`);
  if (profileDir) await Deno.mkdir(profileDir, { recursive: true });

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
  const refTx = await inProcess("libSQL interactive", () =>
    reference({
      url: `file:${tempDir}/reference-interactive.db`,
      events: plan.referenceInteractiveEvents,
      batchSize: REFERENCE_BATCH,
      mode: "interactive",
    }));
  const refTxRate = refTx.events / refTx.seconds;
  progress(`libSQL interactive reference: ${refTxRate.toFixed(0)} events/s`);
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
    `hookd ${RATE}/s open loop`,
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
    { figure: "libSQL batch insert (reference)", value: refBatchRate, unit: "events/s" },
    {
      figure: "libSQL interactive tx, 1 execute/row",
      value: refTxRate,
      unit: "events/s",
      reference: { name: refName, value: refBatchRate },
    },
    {
      figure: "libSQL multi-row INSERT (not hookd)",
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
    figure: `ingest batch x${BATCH_EVENTS} c${BATCH_CONCURRENCY}`,
    value: batch.result.eventsPerSecond,
    unit: "events/s",
    reference: { name: refName, value: refBatchRate },
    target: { kind: "min", value: TARGET_EVENTS_PER_SECOND },
  });
  rows.push({
    figure: `open loop ${RATE}/s: acknowledged`,
    value: latency.result.acknowledged / latency.result.seconds,
    unit: "events/s",
    reference: { name: "scheduled", value: RATE },
  });
  for (const q of ["p50", "p90", "p99", "max"] as const) {
    rows.push({
      figure: `ack latency ${q} @ ${RATE}/s`,
      value: latency.result.latencyMs[q],
      unit: "ms",
      reference: { name: "bare", value: bareOpen.result.latencyMs[q] },
      target: q === "p99" ? { kind: "max", value: TARGET_P99_MS } : undefined,
    });
  }

  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\nhookd ingest benchmark (${flags.has("--quick") ? "quick" : "full"}, ${
      seconds.toFixed(0)
    } s, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno})\n`,
  );
  printTable(rows);
  printCpu(scenarios);
  const failures = scenarios.filter((s) => s.result.failures > 0);
  for (const s of failures) {
    console.log(
      `\n${s.name}: ${s.result.failures} failed requests, first: ${s.result.firstFailure}`,
    );
  }
  for (const phase of inProcessLoad) {
    if (phase.otherCores > 0.2) {
      console.log(
        `\nwarning: ${phase.name}: other processes kept ${
          phase.otherCores.toFixed(2)
        } cores busy; ` +
          "this figure is not comparable with a run on a quiet machine.",
      );
    }
  }
  for (const s of scenarios) {
    if ("concurrency" in s.result && (s.benchCpu?.total ?? 0) >= 0.9) {
      console.log(
        `\nnote: ${s.name}: the load generator used ${s.benchCpu!.total.toFixed(2)} cores ` +
          "(one JS thread is ~1.0), so this figure is bounded by the generator, not the server.",
      );
    }
    if ((s.otherCores ?? 0) > 0.2) {
      console.log(
        `\nwarning: ${s.name}: other processes kept ${s.otherCores!.toFixed(2)} cores busy; ` +
          "this figure is not comparable with a run on a quiet machine.",
      );
    }
  }
  if (latency.result.sendLagMs.p99 > 2) {
    console.log(
      `\nnote: the load generator sent late (send lag p99 ${
        latency.result.sendLagMs.p99.toFixed(1)
      } ms); ` +
        "latency is measured from the scheduled time, so this lag is charged to the server.",
    );
  }
  if (profileDir) {
    console.log(`\nCPU profiles in ${profileDir}:`);
    console.log(await summarizeProfiles(profileDir));
  }
  if (flags.has("--json")) {
    console.log(JSON.stringify(
      {
        date: new Date().toISOString(),
        mode: flags.has("--quick") ? "quick" : "full",
        deno: Deno.version.deno,
        cores: navigator.hardwareConcurrency,
        seconds,
        references: { libsqlBatch: refBatch, libsqlInteractive: refTx, libsqlMultiRow: refMulti },
        store: [...storeResults.values()],
        inProcessLoad,
        rows: rows.map((row) => ({
          ...row,
          ratio: row.reference ? row.value / row.reference.value : undefined,
          result: verdict(row) || undefined,
        })),
        scenarios,
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
