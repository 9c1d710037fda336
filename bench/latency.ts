/**
 * The latency users see (`deno task bench --only latency`, part of the default
 * run): events posted one per request at a fixed rate (500/s and 2,000/s, open
 * loop, so a stalled daemon is charged for the requests it delayed) to a
 * FRESHLY STARTED daemon whose webhook is enabled and delivers every event to
 * a receiver in its own process. Unlike the ingest bench's ack latency (a
 * paused webhook: ingest alone), deliveries run here, on the same two cores.
 *
 * The daemon is a restart: a first daemon creates the webhook in the
 * database and stops, then the measured one starts on that database (a
 * deploy, a crash restart, a scale-up) and the load begins the moment it
 * prints its listening line. Figures, each p50/p99/max, split by when each
 * request was due: the first second after the listening line, and the warm
 * phase from 2 s on:
 * - ack latency: from when the POST was due to its 202;
 * - post→receiver: from when the POST was due to when the receiver got the
 *   delivery, matched by the event id of the 202 (the receiver logs the
 *   `webhook-id` header, which is that id).
 * References, in the same run at the same rate, each also freshly started
 * and loaded the same way at once: a bare `Deno.serve` (bare_server.ts),
 * and the durable floor (durable_floor.ts), the least a sender that
 * acknowledges durably and then delivers must do, delivering to the same
 * receiver, so what durability and delivery cost on these cores shows apart
 * from what hookd adds.
 *
 * Clocks: the receiver is another process, so its arrival times are wall
 * clock, `performance.timeOrigin + performance.now()` (epoch ms with sub-ms
 * resolution; each process takes its origin from the system's real-time
 * clock). Due times here are converted to the same base. Measured on this
 * machine, that clock agrees with `Date.now()` to within 0.02 ms on average
 * in every process, so the cross-process error is far below the figures.
 */
import type { BenchContext, BenchOutcome } from "./context.ts";
import { type Child, spawnChild } from "./child.ts";
import { spawnDurableFloor } from "./durable_floor_child.ts";
import { type CpuSplit, type Snapshots, snapshots, storeCounters, usage } from "./delivery.ts";
import { api, memoryOf, spawnHookd } from "./hookd.ts";
import {
  openLoop,
  type OpenLoopResponse,
  type OpenLoopResult,
  type Percentiles,
  percentiles,
  type Target,
} from "./load.ts";
import { Receiver } from "./receiver_client.ts";
import type { Row } from "./report.ts";

export interface LatencyBenchOptions extends BenchContext {
  readonly quick: boolean;
}

export interface LatencyBenchResult extends BenchOutcome {
  readonly cpu: ({ name: string } & CpuSplit)[];
}

const RATES = [500, 2_000] as const;
/** How long each run lasts from the listening line: 8 s (2 s in quick mode) of warm phase. */
const FULL_MS = 10_000;
const QUICK_MS = 4_000;
const PHASES = ["first second", "warm"] as const;
type Phase = typeof PHASES[number];
const FIRST_SECOND_MS = 1_000;
const WARM_FROM_MS = 2_000;
/** The targets hold at this rate (issue #14). */
const TARGET_RATE = 2_000;
const TARGET_WARM_P99_MS = 10;
const TARGET_WARM_ACK_P50_MS = 3;
/** First second: p99 within this, or within FIRST_SECOND_RATIO × the bare server's. */
const TARGET_FIRST_P99_MS = 50;
const FIRST_SECOND_RATIO = 1.5;
const DRAIN_TIMEOUT_MS = 30_000;

/** One open-loop run against a freshly started server. */
interface Run {
  /** `performance.now()` when the server's listening line was read. */
  readonly listenedAt: number;
  readonly load: OpenLoopResult;
  readonly responses: readonly OpenLoopResponse[];
}

/** One phase of a run. */
interface PhaseFigures {
  readonly ack: Percentiles;
  readonly postToReceiver: Percentiles;
}

/** A run of a server that delivers what it acknowledges to the receiver. */
interface DeliveringRun extends Run {
  readonly phases: Record<Phase, PhaseFigures>;
  readonly received: number;
  readonly matched: number;
}

interface HookdRun extends DeliveringRun {
  readonly peakRssMb: number;
  readonly cpu: CpuSplit;
  /** Seconds between the CPU snapshots: the daemon's start to the last delivery. */
  readonly cpuSeconds: number;
  /** hookd's CPU per event acknowledged in the warm phase, µs (NaN if it had none). */
  readonly warmCpuUs: number;
  /** Store transactions committed in the daemon's life. */
  readonly commits: number;
}

function phaseOf(run: Run, response: OpenLoopResponse): Phase | undefined {
  const offset = response.dueAt - run.listenedAt;
  if (offset < FIRST_SECOND_MS) return "first second";
  if (offset >= WARM_FROM_MS) return "warm";
  return undefined;
}

function ackLatency(run: Run, phase: Phase): Percentiles {
  return percentiles(
    run.responses.filter((r) => r.ok && phaseOf(run, r) === phase).map((r) => r.doneAt - r.dueAt),
  );
}

function eventTarget(origin: string, adminKey: string): Target {
  return {
    url: `${origin}/api/v1/events`,
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: (n) => `{"type":"order.created","data":{"order_id":${n},"amount":4200,"currency":"EUR"}}`,
    eventsPerRequest: 1,
    okStatus: 202,
  };
}

/** Loads a server that just printed its listening line, at once, at `rate` for `durationMs`. */
async function loadAtOnce(
  target: Target,
  rate: number,
  durationMs: number,
  listenedAt: number,
): Promise<Run> {
  const responses: OpenLoopResponse[] = [];
  const load = await openLoop(target, {
    rate,
    warmupMs: 0,
    measureMs: durationMs,
    onResponse: (response) => responses.push(response),
  });
  return { listenedAt, load, responses };
}

export async function runLatencyBench(options: LatencyBenchOptions): Promise<LatencyBenchResult> {
  const { progress, adminKey } = options;
  const durationMs = options.quick ? QUICK_MS : FULL_MS;
  const rows: Row[] = [];
  const notes: string[] = [];
  const cpu: LatencyBenchResult["cpu"] = [];
  const details: Record<string, unknown> = {};

  const receiver = await Receiver.start(options, "latency receiver");
  // The load generator's own fetch path warm before the first measured run,
  // so neither server is charged for a cold generator (the servers stay cold).
  await openLoop({ ...eventTarget(receiver.child.origin, adminKey), okStatus: 200 }, {
    rate: TARGET_RATE,
    warmupMs: 0,
    measureMs: 1_000,
  });

  for (const rate of RATES) {
    const bare = await bareRun(options, rate, durationMs);
    const floor = await floorRun(options, receiver, rate, durationMs);
    const hookd = await hookdRun(options, receiver, rate, durationMs);
    cpu.push({ name: `hookd ${rate}/s, fresh start`, ...hookd.cpu });
    const quantiles = (p: Percentiles) =>
      `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} / ${p.max.toFixed(1)} ms`;
    for (const phase of PHASES) {
      progress(
        `latency ${rate}/s, ${phase}: hookd ack ${quantiles(hookd.phases[phase].ack)}, ` +
          `post→receiver ${quantiles(hookd.phases[phase].postToReceiver)}; durable floor ack ${
            quantiles(floor.phases[phase].ack)
          }, post→receiver ${quantiles(floor.phases[phase].postToReceiver)}; bare ack ${
            quantiles(ackLatency(bare, phase))
          }`,
      );
    }
    rows.push(...latencyRows(rate, bare, hookd), ...floorRows(rate, bare, floor));
    details[`rate${rate}`] = {
      bare: bare.load,
      floor: { load: floor.load, phases: floor.phases, matched: floor.matched },
      hookd: {
        load: hookd.load,
        phases: hookd.phases,
        received: hookd.received,
        matched: hookd.matched,
        peakRssMb: hookd.peakRssMb,
      },
    };
    for (
      const [name, run] of [["bare", bare], ["durable floor", floor], ["hookd", hookd]] as const
    ) {
      if (run.load.failures > 0) {
        notes.push(
          `latency ${rate}/s, ${name}: ${run.load.failures} failed requests, first: ${run.load.firstFailure}`,
        );
      }
      if (run.load.sendLagMs.p99 > 2) {
        notes.push(
          `note: latency ${rate}/s, ${name}: the load generator sent late (send lag p99 ${
            run.load.sendLagMs.p99.toFixed(1)
          } ms); latency counts from the due time, so this lag is charged to the server.`,
        );
      }
    }
    if (hookd.cpu.other > 0.2) {
      notes.push(
        `warning: latency ${rate}/s: other processes kept ${hookd.cpu.other.toFixed(2)} cores ` +
          "busy; these figures are not comparable with a run on a quiet machine.",
      );
    }
  }
  await options.stop(receiver.child);
  return { rows, notes, cpu, details };
}

async function bareRun(
  options: LatencyBenchOptions,
  rate: number,
  durationMs: number,
): Promise<Run> {
  const bare = await spawnChild({
    name: `bare server (${rate}/s)`,
    args: ["run", "-A", `${options.root}bench/bare_server.ts`],
    cwd: options.root,
    listening: /bare listening on (http:\/\/[^\s]+)/,
  });
  const listenedAt = performance.now();
  options.track(bare);
  try {
    return await loadAtOnce(
      eventTarget(bare.origin, options.adminKey),
      rate,
      durationMs,
      listenedAt,
    );
  } finally {
    await options.stop(bare);
  }
}

/** A freshly started durable floor, delivering to `receiver`. */
async function floorRun(
  options: LatencyBenchOptions,
  receiver: Receiver,
  rate: number,
  durationMs: number,
): Promise<DeliveringRun> {
  const dbPath = `${options.tempDir}/latency-floor-${rate}.db`;
  await receiver.reset();
  const floor = await spawnDurableFloor({
    name: `durable floor (${rate}/s)`,
    root: options.root,
    dbPath,
    receiverUrl: receiver.url,
  });
  const listenedAt = performance.now();
  options.track(floor);
  let run: Run;
  try {
    run = await loadAtOnce(
      eventTarget(floor.origin, options.adminKey),
      rate,
      durationMs,
      listenedAt,
    );
    await receiver.waitFor(run.load.acknowledged, DRAIN_TIMEOUT_MS);
  } finally {
    await options.stop(floor);
  }
  await Deno.remove(dbPath).catch(() => {});
  return { ...run, ...await deliveredPhases(run, receiver) };
}

/**
 * Per phase, ack latency and post → receiver: each acknowledged event's due
 * time on the wall clock, matched by the id its 202 carried to the
 * receiver's arrival time of the delivery with that `webhook-id`.
 */
async function deliveredPhases(
  run: Run,
  receiver: Receiver,
): Promise<Pick<DeliveringRun, "phases" | "received" | "matched">> {
  const dueWallById = new Map<string, number>();
  const phaseById = new Map<string, Phase | undefined>();
  for (const response of run.responses) {
    if (!response.ok) continue;
    const id = (JSON.parse(response.body) as { id: string }).id;
    dueWallById.set(id, performance.timeOrigin + response.dueAt);
    phaseById.set(id, phaseOf(run, response));
  }
  const log = await receiver.log();
  const postToReceiver: Record<Phase, number[]> = { "first second": [], warm: [] };
  let matched = 0;
  log.ids.forEach((id, i) => {
    const due = dueWallById.get(id);
    if (due === undefined) return;
    matched++;
    const phase = phaseById.get(id);
    if (phase) postToReceiver[phase].push(log.receivedAt[i]! - due);
  });
  const phases = Object.fromEntries(PHASES.map((phase) => [phase, {
    ack: ackLatency(run, phase),
    postToReceiver: percentiles(postToReceiver[phase]),
  }])) as Record<Phase, PhaseFigures>;
  return { phases, received: log.ids.length, matched };
}

async function hookdRun(
  options: LatencyBenchOptions,
  receiver: Receiver,
  rate: number,
  durationMs: number,
): Promise<HookdRun> {
  const dbPath = `${options.tempDir}/latency-${rate}.db`;
  const start = async (name: string): Promise<Child> => {
    const child = await spawnHookd({
      name: `latency-${rate}-${name}`,
      dbPath,
      adminKey: options.adminKey,
      root: options.root,
      profileDir: options.profileDir,
    });
    options.track(child);
    return child;
  };
  // Defaults, as a user runs it; only the webhook is ours, created before the start measured.
  const setup = await start("setup");
  await api(setup.origin, options.adminKey, "POST", "/api/v1/webhooks", {
    url: receiver.url,
    description: "latency bench receiver",
  }, 201);
  await options.stop(setup);
  await receiver.reset();

  const daemon = await start("fresh");
  const listenedAt = performance.now();
  const before = snapshots(receiver.child.pid, daemon.pid);
  let run: Run;
  let cpu: CpuSplit;
  let cpuSeconds: number;
  let warmCpuUs: number;
  let peakRssMb: number;
  let commits: number;
  // The warm phase's own CPU, from WARM_FROM_MS after the listening line to
  // the last answer: what a running daemon costs, start and JIT warm-up aside.
  let warmFrom: Snapshots | undefined;
  const warmTimer = setTimeout(() => {
    warmFrom = snapshots(receiver.child.pid, daemon.pid);
  }, Math.max(0, listenedAt + WARM_FROM_MS - performance.now()));
  try {
    run = await loadAtOnce(
      eventTarget(daemon.origin, options.adminKey),
      rate,
      durationMs,
      listenedAt,
    );
    clearTimeout(warmTimer);
    const warmTo = snapshots(receiver.child.pid, daemon.pid);
    const warmEvents = run.responses.filter((r) => r.ok && phaseOf(run, r) === "warm").length;
    warmCpuUs = warmFrom && warmEvents > 0
      ? (usage(warmFrom, warmTo).daemon.total * (warmTo.at - warmFrom.at) * 1000) / warmEvents
      : NaN;
    await receiver.waitFor(run.load.acknowledged, DRAIN_TIMEOUT_MS);
    const after = snapshots(receiver.child.pid, daemon.pid);
    cpu = usage(before, after);
    cpuSeconds = (after.at - before.at) / 1000;
    peakRssMb = memoryOf(daemon.pid).peakMb;
    // The daemon's whole life: every commit since its start, the scrape's own reads aside.
    commits = (await storeCounters(daemon.origin, options.adminKey)).transactions;
  } finally {
    await options.stop(daemon);
  }
  await Deno.remove(dbPath).catch(() => {});

  return {
    ...run,
    ...await deliveredPhases(run, receiver),
    peakRssMb,
    cpu,
    cpuSeconds,
    warmCpuUs,
    commits,
  };
}

function latencyRows(rate: number, bare: Run, hookd: HookdRun): Row[] {
  const label = `with deliveries, ${rate.toLocaleString("en-US")}/s one per request, fresh start`;
  const targeted = rate === TARGET_RATE;
  const rows: Row[] = [];
  for (const phase of PHASES) {
    const bareAck = ackLatency(bare, phase);
    const figures = hookd.phases[phase];
    for (const q of ["p50", "p99", "max"] as const) {
      let target: Row["target"];
      if (targeted && phase === "warm" && q === "p50") {
        target = { kind: "max", value: TARGET_WARM_ACK_P50_MS };
      } else if (targeted && phase === "warm" && q === "p99") {
        target = { kind: "max", value: TARGET_WARM_P99_MS };
      } else if (targeted && q === "p99") {
        // The first second may be as slow as 50 ms, or 1.5x the bare server's, whichever is more.
        target = {
          kind: "max",
          value: Math.max(TARGET_FIRST_P99_MS, FIRST_SECOND_RATIO * bareAck.p99),
        };
      }
      rows.push({
        figure: `${label}, ${phase}: ack ${q}${
          targeted && phase === "first second" && q === "p99" ? " (≤ 50 ms or 1.5x bare)" : ""
        }`,
        value: figures.ack[q],
        unit: "ms",
        reference: { name: `bare ${phase}`, value: bareAck[q] },
        target,
      });
    }
    for (const q of ["p50", "p99", "max"] as const) {
      rows.push({
        figure: `${label}, ${phase}: post→receiver ${q}`,
        value: figures.postToReceiver[q],
        unit: "ms",
        reference: { name: `bare ack ${phase}`, value: bareAck[q] },
        target: targeted && phase === "warm" && q === "p99"
          ? { kind: "max", value: TARGET_WARM_P99_MS }
          : undefined,
      });
    }
  }
  rows.push(
    {
      figure: `${label}: delivered (of acknowledged)`,
      value: hookd.matched,
      unit: "deliveries",
      reference: { name: "acknowledged", value: hookd.load.acknowledged },
      target: { kind: "min", value: 1, ratio: true },
    },
    {
      figure: `${label}: hookd peak RSS (informative)`,
      value: hookd.peakRssMb,
      unit: "MB",
    },
    {
      figure: `${label}, warm: hookd CPU per event (informative)`,
      value: hookd.warmCpuUs,
      unit: "µs",
    },
    {
      // Everything the daemon's threads used from its start until the
      // receiver had every event, over the events acknowledged.
      figure: `${label}: hookd CPU per event over its life (informative)`,
      value: (hookd.cpu.daemon.total * hookd.cpuSeconds * 1e6) / hookd.load.acknowledged,
      unit: "µs",
    },
    {
      figure: `${label}: store commits per 1,000 events (informative)`,
      value: (hookd.commits * 1000) / hookd.load.acknowledged,
      unit: "commits",
    },
  );
  return rows;
}

/** The durable floor beside hookd: informative, no target (it is a reference). */
function floorRows(rate: number, bare: Run, floor: DeliveringRun): Row[] {
  const label = `with deliveries, ${rate.toLocaleString("en-US")}/s one per request, fresh start`;
  const rows: Row[] = [];
  for (const phase of PHASES) {
    const bareAck = ackLatency(bare, phase);
    for (const q of ["p50", "p99"] as const) {
      rows.push({
        figure: `${label}, ${phase}: durable floor ack ${q} (reference)`,
        value: floor.phases[phase].ack[q],
        unit: "ms",
        reference: { name: `bare ${phase}`, value: bareAck[q] },
      });
    }
    rows.push({
      figure: `${label}, ${phase}: durable floor post→receiver p99 (reference)`,
      value: floor.phases[phase].postToReceiver.p99,
      unit: "ms",
      reference: { name: `bare ack ${phase}`, value: bareAck.p99 },
    });
  }
  rows.push({
    figure: `${label}: durable floor delivered (of acknowledged)`,
    value: floor.matched,
    unit: "deliveries",
    reference: { name: "acknowledged", value: floor.load.acknowledged },
  });
  return rows;
}
