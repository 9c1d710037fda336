/**
 * The delivery benchmarks: hookd sending webhooks to a receiver process on
 * 127.0.0.1, each figure set against a reference measured in the same run.
 *
 * - throughput: durable deliveries/s end to end (ingest through the batch
 *   endpoint, kept a bounded backlog ahead of the receiver; done when the
 *   receiver has every event and the last one is recorded `succeeded`)
 *   against a bare `fetch` loop at the same concurrency to the same receiver,
 *   measured just before and just after it (the mean, as the machine drifts);
 * - the same with events posted one per request: a burst of 20,000 single-event
 *   POSTs (5,000 in quick mode), 64 in flight, to a fresh daemon, timed from the
 *   first POST until the receiver has every event, against the same reference;
 *   with each daemon's peak RSS (the burst's: target ≤ 160 MiB);
 * - hookd's CPU per event posted one per request against batches of 100: on
 *   the burst's daemon, once it is warm, the same number of events again each
 *   way, in turns, twice, from the first POST until the receiver has them all
 *   (target ≤ 1.5×, over both pairs); then the same pairs on a daemon with the
 *   connection limits enforced, as an API listening on a network address has
 *   them by default: every request through the front door (same target);
 * - the durable floor (durable_floor.ts), warmed by one burst, then given the
 *   same bursts one per request and in batches: what a sender that stores
 *   each event before it answers and then delivers it reaches here at the
 *   least, and its CPU per event each way, beside the same ceiling (a
 *   reference, no target);
 * - a backlog drained: on the same daemon, 40,000 events (10,000 quick) held
 *   for its paused webhook, then resumed, timed until the receiver has them
 *   all, against the same reference (no target);
 * - latency: ack→receipt at a fixed rate (open loop, single-event POSTs),
 *   matched by event id, against a bare POST round trip at that rate;
 * - scheduling lateness: every event fails once with 500 and is retried by a
 *   policy `["0s", "2s"]` with no jitter; lateness is how much later than 2 s
 *   after the 500 the retry arrives, against `setTimeout` in this process for
 *   the same due times;
 * - a restart with many pending retries (1,000,000; 100,000 in quick mode)
 *   due in 1-24 h plus a few due now: time to the first delivery and the
 *   daemon's RSS, against the same daemon on a database with only the few.
 */
import type { BenchContext, BenchOutcome } from "./context.ts";
import type { Child } from "./child.ts";
import { spawnDurableFloor } from "./durable_floor_child.ts";
import { cpuSnapshot, type CpuUse, cpuUse, systemBusySeconds } from "./cpu.ts";
import type { BuildResult, CountResult, DbRequest } from "./db_worker.ts";
import { api, memoryOf, spawnHookd } from "./hookd.ts";
import { closedLoop, openLoop, type Percentiles, percentiles } from "./load.ts";
import { Receiver } from "./receiver_client.ts";
import type { Row } from "./report.ts";
import { callWorker } from "./worker_call.ts";
import { uuidv7 } from "../src/ids.ts";

export interface DeliveryBenchOptions extends BenchContext {
  readonly quick: boolean;
}

export interface DeliveryBenchResult extends BenchOutcome {
  readonly cpu: ({ name: string } & CpuSplit)[];
}

interface Plan {
  readonly warmupMs: number;
  readonly bareMs: number;
  readonly e2eMs: number;
  /** Events in the single-event burst. */
  readonly burstEvents: number;
  /** Deliveries held for a paused webhook, then resumed at once: more than its queue holds. */
  readonly backlogEvents: number;
  readonly latencyMs: number;
  readonly latenessMs: number;
  readonly pending: number;
  readonly settleMs: number;
}

const FULL: Plan = {
  warmupMs: 1_000,
  bareMs: 5_000,
  e2eMs: 8_000,
  burstEvents: 20_000,
  backlogEvents: 40_000,
  latencyMs: 8_000,
  latenessMs: 10_000,
  pending: 1_000_000,
  settleMs: 5_000,
};

const QUICK: Plan = {
  warmupMs: 500,
  bareMs: 2_000,
  e2eMs: 3_000,
  burstEvents: 5_000,
  backlogEvents: 10_000,
  latencyMs: 3_000,
  latenessMs: 3_000,
  pending: 100_000,
  settleMs: 2_000,
};

/** hookd's `[delivery] concurrency` here, and the bare loop's. */
const CONCURRENCY = 64;
const BATCH_EVENTS = 100;
const BATCH_CONCURRENCY = 4;
/** Most events accepted but not yet at the receiver during the throughput run. */
const BACKLOG = 4_000;
const LATENCY_RATE = 500;
const LATENESS_RATE = 200;
const RETRY_DELAY_MS = 2_000;
const DUE_NOW = 10;
/** Deliveries/s end to end against the bare fetch loop: batched, and posted one per request. */
const TARGET_BATCHED_RATIO = 0.8;
const TARGET_SINGLE_RATIO = 0.5;
/** The daemon's peak RSS while it absorbs and delivers the burst (MiB: /proc's kB / 1024). */
const TARGET_BURST_PEAK_MB = 160;
/** hookd's CPU per event posted one per request against batches of BATCH_EVENTS. */
const TARGET_SINGLE_CPU_RATIO = 1.5;
const TARGET_FIRST_MS = 1_000;
const TARGET_RSS_MB = 150;
const TARGET_LATENESS_P99_MS = 50;

const DAEMON_ENV = {
  HOOKD_DELIVERY_CONCURRENCY: String(CONCURRENCY),
  // One webhook receives everything here, so its cap is the global one.
  HOOKD_DELIVERY_MAX_IN_FLIGHT_PER_WEBHOOK: String(CONCURRENCY),
  HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
};

const LATENESS_CONFIG =
  `# The delivery benchmark's retry policy: one retry 2 s after a failure, no jitter.
[policies.bench-retry]
schedule = ["0s", "${RETRY_DELAY_MS / 1000}s"]
jitter = 0
retry = ["any"]
on_exhausted = "failed"
# Every first attempt fails on purpose; an open breaker would postpone the rest.
breaker_failures = 0
`;

const DB_WORKER = new URL("./db_worker.ts", import.meta.url);

/** Wall time in epoch ms with sub-ms resolution; the receiver uses the same clock. */
const wallNow = () => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function eventJson(n: number, id?: string): string {
  const data = `{"order_id":${n},"amount":4200,"currency":"EUR"}`;
  return id === undefined
    ? `{"type":"order.created","data":${data}}`
    : `{"id":"${id}","type":"order.created","data":${data}}`;
}

export async function runDeliveryBench(
  options: DeliveryBenchOptions,
): Promise<DeliveryBenchResult> {
  const plan = options.quick ? QUICK : FULL;
  const { progress, adminKey } = options;
  const rows: Row[] = [];
  const notes: string[] = [];
  const cpu: DeliveryBenchResult["cpu"] = [];
  const details: Record<string, unknown> = {};

  const receiver = await Receiver.start(options);
  const receiverChild = receiver.child;

  let daemonCount = 0;
  const daemon = async (
    name: string,
    dbPath: string,
    configPath?: string,
    env: Record<string, string> = {},
  ) => {
    const child = await spawnHookd({
      name: `delivery-${++daemonCount}-${name}`,
      dbPath,
      adminKey,
      root: options.root,
      configPath,
      env: { ...DAEMON_ENV, ...env },
      profileDir: options.profileDir,
    });
    options.track(child);
    return child;
  };
  const createWebhook = async (origin: string, policy = "default") =>
    (await api<{ id: string }>(origin, adminKey, "POST", "/api/v1/webhooks", {
      url: receiver.url,
      policy,
      description: "bench receiver",
    }, 201)).id;

  // 1. References: a bare fetch loop and a bare open loop, straight to the receiver.
  const deliveryHeaders = {
    "content-type": "application/json",
    "webhook-id": "01900000-0000-7000-8000-000000000000",
    "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
  };
  const receiverTarget = {
    url: receiver.url,
    headers: deliveryHeaders,
    body: (n: number) => `{"order_id":${n},"amount":4200,"currency":"EUR"}`,
    eventsPerRequest: 1,
    okStatus: 200,
  };
  const bareBefore = snapshots(receiverChild.pid);
  const bare = await closedLoop(receiverTarget, {
    concurrency: CONCURRENCY,
    warmupMs: plan.warmupMs,
    measureMs: plan.bareMs,
  });
  cpu.push({
    name: `bare fetch c${CONCURRENCY}`,
    ...usage(bareBefore, snapshots(receiverChild.pid)),
  });
  progress(`bare fetch c${CONCURRENCY} → receiver: ${bare.requestsPerSecond.toFixed(0)} req/s`);
  const bareOpen = await openLoop(receiverTarget, {
    rate: LATENCY_RATE,
    warmupMs: plan.warmupMs,
    measureMs: plan.latencyMs / 2,
  });
  progress(
    `bare POST ${LATENCY_RATE}/s → receiver: p50 ${bareOpen.latencyMs.p50.toFixed(2)} / p99 ${
      bareOpen.latencyMs.p99.toFixed(2)
    } ms`,
  );
  details.bare = { closed: bare, open: bareOpen };

  // 2. End to end: throughput, then latency at a fixed rate, on one daemon.
  const e2eDb = `${options.tempDir}/delivery-e2e.db`;
  const e2eDaemon = await daemon("e2e", e2eDb);
  await createWebhook(e2eDaemon.origin);
  await receiver.reset();
  const storeBefore = await storeCounters(e2eDaemon.origin, adminKey);
  const throughput = await endToEnd(e2eDaemon, receiver, plan, adminKey);
  const storeAfter = await storeCounters(e2eDaemon.origin, adminKey);
  const e2ePeakMb = memoryOf(e2eDaemon.pid).peakMb;
  cpu.push({ name: "hookd end to end", ...throughput.cpu });
  progress(
    `hookd end to end: ${throughput.durablePerSecond.toFixed(0)} durable deliveries/s ` +
      `(${throughput.accepted} events, steady receipts ${throughput.steadyPerSecond.toFixed(0)}/s` +
      `, peak RSS ${e2ePeakMb.toFixed(0)} MB)`,
  );
  // The same, one event per request, on a daemon of its own so its peak RSS is the burst's.
  const burstDb = `${options.tempDir}/delivery-burst.db`;
  const burstDaemon = await daemon("burst", burstDb);
  const burstWebhook = await createWebhook(burstDaemon.origin);
  await receiver.reset();
  const burst = await eventBurst(burstDaemon, receiver, adminKey, plan.burstEvents, 1);
  // The same daemon, warm now (its first burst paid the JIT's start): as many
  // events again one per request, then in batches, for the CPU each costs.
  const warm = await warmPairs(burstDaemon, receiver, adminKey, plan.burstEvents);
  // A backlog several times the webhook's queue (64 × its in-flight cap), all due at once.
  const backlog = await backlogDrain(
    burstDaemon,
    burstWebhook,
    receiver,
    adminKey,
    plan.backlogEvents,
  );
  progress(
    `hookd backlog of ${backlog.events} resumed: ${backlog.deliveriesPerSecond.toFixed(0)} ` +
      `deliveries/s (${backlog.received} received)`,
  );
  await options.stop(burstDaemon);
  await Deno.remove(burstDb).catch(() => {});
  cpu.push({ name: "hookd single-event burst", ...burst.cpu });
  progress(
    `hookd single-event burst: ${burst.deliveriesPerSecond.toFixed(0)} deliveries/s ` +
      `(${burst.received}/${burst.accepted} received, peak RSS ${burst.peakRssMb.toFixed(0)} MB)`,
  );
  cpu.push({ name: "hookd warm burst, single", ...warm.single[0]!.cpu });
  cpu.push({ name: "hookd warm burst, batched", ...warm.batched[0]!.cpu });
  progress(
    `hookd CPU per event, warm: ${cpuPerEvent(warm.single).toFixed(0)} µs one per request, ` +
      `${cpuPerEvent(warm.batched).toFixed(0)} µs in batches of ${BATCH_EVENTS} (pairs: ${
        pairsText(warm)
      })`,
  );
  details.burst = burst;
  details.warmBursts = warm;
  details.backlog = backlog;
  // The same warm pairs through the front door: a daemon whose API listens on
  // a network address enforces the connection limits by default (serve_api.ts),
  // and every request then takes the front door's relay; loopback skips it.
  const doorDb = `${options.tempDir}/delivery-door.db`;
  const doorDaemon = await daemon("front door", doorDb, undefined, {
    HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: "true",
  });
  await createWebhook(doorDaemon.origin);
  await receiver.reset();
  await eventBurst(doorDaemon, receiver, adminKey, plan.burstEvents, 1);
  const doorWarm = await warmPairs(doorDaemon, receiver, adminKey, plan.burstEvents);
  await options.stop(doorDaemon);
  await Deno.remove(doorDb).catch(() => {});
  progress(
    `hookd CPU per event through the front door, warm: ${
      cpuPerEvent(doorWarm.single).toFixed(0)
    } µs one per request, ${cpuPerEvent(doorWarm.batched).toFixed(0)} µs in batches (pairs: ${
      pairsText(doorWarm)
    })`,
  );
  details.frontDoor = doorWarm;
  // The durable floor (durable_floor.ts): the same bursts to a fresh one, the
  // least a sender that stores before it answers and then delivers must do.
  const floorDb = `${options.tempDir}/delivery-floor.db`;
  const floor = await spawnDurableFloor({
    name: "durable floor",
    root: options.root,
    dbPath: floorDb,
    receiverUrl: receiver.url,
  });
  options.track(floor);
  // Warm first, as hookd's daemon is for its CPU figures: these compare with those.
  await receiver.reset();
  await eventBurst(floor, receiver, adminKey, plan.burstEvents, 1);
  const floorWarm = await warmPairs(floor, receiver, adminKey, plan.burstEvents);
  await options.stop(floor);
  await Deno.remove(floorDb).catch(() => {});
  const floorSingle = floorWarm.single[0]!;
  const floorBatched = floorWarm.batched[0]!;
  progress(
    `durable floor: ${floorSingle.deliveriesPerSecond.toFixed(0)} deliveries/s one per request, ` +
      `${floorBatched.deliveriesPerSecond.toFixed(0)} in batches of ${BATCH_EVENTS} ` +
      `(CPU per event ${cpuPerEvent(floorWarm.single).toFixed(0)} and ${
        cpuPerEvent(floorWarm.batched).toFixed(0)
      } µs; pairs: ${pairsText(floorWarm)})`,
  );
  details.floor = floorWarm;
  // The machine's speed drifts within a run; the reference is taken on both
  // sides of the end-to-end figures and averaged, so the ratio compares like with like.
  const bareAfter = await closedLoop(receiverTarget, {
    concurrency: CONCURRENCY,
    warmupMs: plan.warmupMs,
    measureMs: plan.bareMs,
  });
  const bareRate = (bare.requestsPerSecond + bareAfter.requestsPerSecond) / 2;
  progress(
    `bare fetch c${CONCURRENCY} → receiver, again: ${
      bareAfter.requestsPerSecond.toFixed(0)
    } req/s (reference: the mean, ${bareRate.toFixed(0)})`,
  );
  details.bareAfter = bareAfter;
  await receiver.reset();
  const latencyBefore = snapshots(receiverChild.pid, e2eDaemon.pid);
  const latency = await ackToReceipt(e2eDaemon, receiver, plan, adminKey);
  cpu.push({
    name: `hookd ${LATENCY_RATE}/s open loop`,
    ...usage(latencyBefore, snapshots(receiverChild.pid, e2eDaemon.pid)),
  });
  progress(
    `hookd ack→receipt @${LATENCY_RATE}/s: p50 ${latency.ackToReceipt.p50.toFixed(1)} / p99 ${
      latency.ackToReceipt.p99.toFixed(1)
    } ms (${latency.matched}/${latency.acked} matched)`,
  );
  await options.stop(e2eDaemon);
  const e2eCounts = await callWorker<CountResult>(DB_WORKER, { op: "count", url: `file:${e2eDb}` });
  const e2eTotal = throughput.accepted + latency.ackedTotal;
  details.endToEnd = { throughput, latency, counts: e2eCounts, peakRssMb: e2ePeakMb };

  // 3. Scheduling lateness: fail once, retry after exactly 2 s.
  const configPath = `${options.tempDir}/lateness.toml`;
  await Deno.writeTextFile(configPath, LATENESS_CONFIG);
  const latenessDaemon = await daemon(
    "lateness",
    `${options.tempDir}/delivery-lateness.db`,
    configPath,
  );
  await createWebhook(latenessDaemon.origin, "bench-retry");
  await receiver.reset(RETRY_DELAY_MS);
  const latenessBefore = snapshots(receiverChild.pid, latenessDaemon.pid);
  const lateness = await schedulingLateness(latenessDaemon, receiver, plan, adminKey);
  cpu.push({
    name: "hookd lateness",
    ...usage(latenessBefore, snapshots(receiverChild.pid, latenessDaemon.pid)),
  });
  progress(
    `scheduling lateness: p50 ${lateness.hookd.p50.toFixed(1)} / p99 ${
      lateness.hookd.p99.toFixed(1)
    } / max ${lateness.hookd.max.toFixed(1)} ms (${lateness.retried}/${lateness.acked} retried)`,
  );
  await options.stop(latenessDaemon);
  details.lateness = lateness;

  // 4. A restart with many pending retries, against one with only the few due now.
  const restart = async (name: string, pending: number) => {
    const dbPath = `${options.tempDir}/delivery-${name}.db`;
    const build = await callWorker<BuildResult>(
      DB_WORKER,
      {
        op: "build",
        url: `file:${dbPath}`,
        webhookUrl: receiver.url,
        pending,
        dueNow: DUE_NOW,
        dueFromMs: 3_600_000,
        dueToMs: 24 * 3_600_000,
      } satisfies DbRequest,
    );
    progress(
      `${name}: built ${pending.toLocaleString("en-US")} pending + ${DUE_NOW} due now in ${
        build.seconds.toFixed(1)
      } s (${(build.bytes / 1e6).toFixed(0)} MB)`,
    );
    await receiver.reset();
    const spawnedAt = wallNow();
    const child = await daemon(name, dbPath);
    const listeningAt = wallNow();
    const arrived = await receiver.waitFor(1, 30_000, 5);
    const firstAt = arrived ? Math.min(...(await receiver.log()).receivedAt) : NaN;
    // Settle: let it send the few and sit idle with the rest pending.
    const settleUntil = performance.now() + plan.settleMs;
    const samples: number[] = [];
    while (performance.now() < settleUntil) {
      samples.push(memoryOf(child.pid).rssMb);
      await sleep(100);
    }
    const memory = memoryOf(child.pid);
    const delivered = await receiver.count();
    await options.stop(child);
    const result = {
      pending,
      build,
      spawnToFirstMs: firstAt - spawnedAt,
      listeningToFirstMs: firstAt - listeningAt,
      spawnToListeningMs: listeningAt - spawnedAt,
      rssMb: memory.rssMb,
      peakRssMb: memory.peakMb,
      maxSampledRssMb: Math.max(...samples),
      delivered,
    };
    progress(
      `${name}: first delivery ${result.spawnToFirstMs.toFixed(0)} ms after spawn (${
        result.listeningToFirstMs.toFixed(0)
      } after listening), ` +
        `RSS ${result.rssMb.toFixed(1)} MB (peak ${
          result.peakRssMb.toFixed(1)
        }), ${delivered}/${DUE_NOW} due delivered`,
    );
    await Deno.remove(dbPath).catch(() => {});
    return result;
  };
  const empty = await restart("restart-empty", 0);
  const loaded = await restart("restart-pending", plan.pending);
  details.restart = { empty, loaded };

  // 5. Rows.
  const burstLabel = `${burst.events.toLocaleString("en-US")} events${
    options.quick ? " (quick; full: 20,000)" : ""
  }`;
  const pendingLabel = `${loaded.pending.toLocaleString("en-US")} pending${
    options.quick ? " (quick; full: 1M)" : ""
  }`;
  rows.push(
    {
      figure: `bare fetch c${CONCURRENCY} → receiver (reference, mean of before and after)`,
      value: bareRate,
      unit: "req/s",
    },
    {
      figure: `e2e durable deliveries c${CONCURRENCY}, batches of ${BATCH_EVENTS}`,
      value: throughput.durablePerSecond,
      unit: "deliveries/s",
      reference: { name: "bare fetch", value: bareRate },
      target: { kind: "min", value: TARGET_BATCHED_RATIO, ratio: true },
    },
    {
      figure: `e2e deliveries c${CONCURRENCY}, ${burstLabel} posted one per request`,
      value: burst.deliveriesPerSecond,
      unit: "deliveries/s",
      reference: { name: "bare fetch", value: bareRate },
      target: { kind: "min", value: TARGET_SINGLE_RATIO, ratio: true },
    },
    {
      figure: `durable floor (reference), ${burstLabel} posted one per request`,
      value: floorSingle.deliveriesPerSecond,
      unit: "deliveries/s",
      reference: { name: "bare fetch", value: bareRate },
    },
    {
      figure: `durable floor (reference), ${burstLabel} in batches of ${BATCH_EVENTS}`,
      value: floorBatched.deliveriesPerSecond,
      unit: "deliveries/s",
      reference: { name: "bare fetch", value: bareRate },
    },
    {
      figure: `durable floor (reference): CPU per event posted one per request (warm)`,
      value: cpuPerEvent(floorWarm.single),
      unit: "µs",
      reference: { name: `batches of ${BATCH_EVENTS}`, value: cpuPerEvent(floorWarm.batched) },
    },
    {
      figure: `e2e backlog of ${
        backlog.events.toLocaleString("en-US")
      } held deliveries, resumed: drained (no target)`,
      value: backlog.deliveriesPerSecond,
      unit: "deliveries/s",
      reference: { name: "bare fetch", value: bareRate },
    },
    {
      figure: "e2e steady receipts (informative)",
      value: throughput.steadyPerSecond,
      unit: "deliveries/s",
      reference: { name: "bare fetch", value: bareRate },
    },
    {
      figure: "e2e recorded succeeded (of accepted)",
      value: e2eCounts.states.succeeded ?? 0,
      unit: "deliveries",
      reference: { name: "accepted", value: e2eTotal },
      target: { kind: "min", value: 1, ratio: true },
    },
    {
      figure: `${burstLabel} posted one per request: received (of accepted)`,
      value: burst.received,
      unit: "deliveries",
      reference: { name: "accepted", value: burst.accepted },
      target: { kind: "min", value: 1, ratio: true },
    },
    singleCpuRow(`hookd CPU per event posted one per request (warm, ${burstLabel})`, warm),
    singleCpuRow(
      `the same, connection limits enforced (API on the network: the front door)`,
      doorWarm,
    ),
    {
      figure: `e2e batches of ${BATCH_EVENTS}: hookd peak RSS (informative)`,
      value: e2ePeakMb,
      unit: "MB",
    },
    {
      figure: `${burstLabel} posted one per request: hookd peak RSS`,
      value: burst.peakRssMb,
      unit: "MB",
      target: { kind: "max", value: TARGET_BURST_PEAK_MB },
    },
  );
  for (const q of ["p50", "p99", "max"] as const) {
    rows.push({
      figure: `ack→receipt ${q} @ ${LATENCY_RATE}/s`,
      value: latency.ackToReceipt[q],
      unit: "ms",
      reference: { name: "bare POST rtt", value: bareOpen.latencyMs[q] },
    });
  }
  rows.push({
    figure: `POST→receipt p99 @ ${LATENCY_RATE}/s`,
    value: latency.postToReceipt.p99,
    unit: "ms",
    reference: { name: "bare POST rtt", value: bareOpen.latencyMs.p99 },
  });
  for (const q of ["p50", "p99", "max"] as const) {
    rows.push({
      figure: `scheduling lateness ${q} (${lateness.retried} retries)`,
      value: lateness.hookd[q],
      unit: "ms",
      reference: { name: "setTimeout", value: lateness.setTimeout[q] },
      target: q === "p99" ? { kind: "max", value: TARGET_LATENESS_P99_MS } : undefined,
    });
  }
  rows.push(
    {
      figure: `restart ${pendingLabel}: spawn→first delivery`,
      value: loaded.spawnToFirstMs,
      unit: "ms",
      reference: { name: "empty db", value: empty.spawnToFirstMs },
      target: { kind: "max", value: TARGET_FIRST_MS },
    },
    {
      figure: `restart ${pendingLabel}: listening→first delivery`,
      value: loaded.listeningToFirstMs,
      unit: "ms",
      reference: { name: "empty db", value: empty.listeningToFirstMs },
    },
    {
      figure: `restart ${pendingLabel}: RSS settled`,
      value: loaded.rssMb,
      unit: "MB",
      reference: { name: "empty db", value: empty.rssMb },
      target: { kind: "max", value: TARGET_RSS_MB },
    },
    {
      figure: `restart ${pendingLabel}: peak RSS`,
      value: loaded.peakRssMb,
      unit: "MB",
      reference: { name: "empty db", value: empty.peakRssMb },
      target: { kind: "max", value: TARGET_RSS_MB },
    },
  );

  notes.push(
    `e2e first attempts (from the daemon's records): ${
      e2eCounts.avgQueuedMs.toFixed(1)
    } ms on average from ingest to send, ${e2eCounts.avgSendMs.toFixed(1)} ms sending; ` +
      `${CONCURRENCY} in flight at ${throughput.steadyPerSecond.toFixed(0)}/s is ${
        (1000 * CONCURRENCY / throughput.steadyPerSecond).toFixed(1)
      } ms per attempt slot.`,
  );
  const commits = storeAfter.transactions - storeBefore.transactions;
  const writes = storeAfter.writes - storeBefore.writes;
  notes.push(
    `e2e store: ${writes} writes in ${commits} commits (${(writes / commits).toFixed(1)} per ` +
      `commit, ${(commits / throughput.seconds).toFixed(0)} commits/s).`,
  );
  for (const c of cpu) {
    if (c.other > 0.2) {
      notes.push(
        `warning: ${c.name}: other processes kept ${c.other.toFixed(2)} cores busy; ` +
          "this figure is not comparable with a run on a quiet machine.",
      );
    }
  }
  if (throughput.failures > 0) {
    notes.push(
      `e2e ingest: ${throughput.failures} failed batch requests (${throughput.firstFailure})`,
    );
  }
  for (
    const [name, b] of [
      ["single-event burst", burst] as const,
      ...warm.single.map((b) => ["warm single", b] as const),
      ...warm.batched.map((b) => ["warm batched", b] as const),
    ]
  ) {
    if (b.failures > 0) notes.push(`${name}: ${b.failures} failed requests (${b.firstFailure})`);
    if (b.received < b.accepted) {
      notes.push(`${name}: only ${b.received} of ${b.accepted} accepted events arrived`);
    }
  }
  if (!throughput.drained) {
    notes.push("e2e: the receiver did not get every accepted event before the deadline");
  }
  if (latency.matched < latency.acked) {
    notes.push(
      `ack→receipt: only ${latency.matched} of ${latency.acked} acknowledged events arrived`,
    );
  }
  if (lateness.retried < lateness.acked) {
    notes.push(
      `lateness: only ${lateness.retried} of ${lateness.acked} events were retried in time`,
    );
  }
  notes.push(
    "lateness is measured on the receiver from when it answered the 500, so it slightly " +
      "overstates hookd's own (which schedules from when it read the answer).",
  );
  if (empty.delivered < DUE_NOW || loaded.delivered < DUE_NOW) {
    notes.push(
      `restart: only ${empty.delivered} (empty) / ${loaded.delivered} (pending) of the ${DUE_NOW} ` +
        "due deliveries arrived while settling",
    );
  }
  notes.push(
    `restart fixture: ${loaded.build.rows.toLocaleString("en-US")} rows written directly in ` +
      `${loaded.build.seconds.toFixed(1)} s (${(loaded.build.bytes / 1e6).toFixed(0)} MB)`,
  );
  return { rows, notes, cpu, details };
}

/** Cores each process used over a span; `other` is every other process on the machine. */
export interface CpuSplit {
  readonly daemon: CpuUse;
  readonly receiver: CpuUse;
  readonly bench: CpuUse;
  readonly other: number;
}

export interface Snapshots {
  readonly at: number;
  readonly system: number;
  readonly daemon: Map<string, number>;
  readonly receiver: Map<string, number>;
  readonly bench: Map<string, number>;
}

/** CPU counters of the receiver, the daemon (if given) and this process, and the machine's. */
export function snapshots(receiverPid: number, daemonPid?: number): Snapshots {
  return {
    at: performance.now(),
    system: systemBusySeconds(),
    daemon: daemonPid === undefined ? new Map() : cpuSnapshot(daemonPid),
    receiver: cpuSnapshot(receiverPid),
    bench: cpuSnapshot(Deno.pid),
  };
}

/** What each process used between two snapshots, in cores. */
export function usage(before: Snapshots, after: Snapshots): CpuSplit {
  const seconds = (after.at - before.at) / 1000;
  const daemon = cpuUse(before.daemon, after.daemon, seconds);
  const receiver = cpuUse(before.receiver, after.receiver, seconds);
  const bench = cpuUse(before.bench, after.bench, seconds);
  const other = (after.system - before.system) / seconds - daemon.total - receiver.total -
    bench.total;
  return { daemon, receiver, bench, other: Math.max(0, other) };
}

interface EndToEndResult {
  readonly accepted: number;
  readonly seconds: number;
  readonly durablePerSecond: number;
  readonly steadyPerSecond: number;
  readonly drained: boolean;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly cpu: CpuSplit;
}

/**
 * Batches of events into the daemon while the receiver is less than BACKLOG
 * behind, for `e2eMs`; then waits for the receiver to have them all and for
 * the last one to be recorded as succeeded.
 */
async function endToEnd(
  daemon: Child,
  receiver: Receiver,
  plan: Plan,
  adminKey: string,
): Promise<EndToEndResult> {
  const client = Deno.createHttpClient({});
  const started = performance.now();
  const steadyFrom = started + plan.warmupMs;
  const end = steadyFrom + plan.e2eMs;
  let accepted = 0;
  let received = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  let lastDelivery: string | undefined;
  let steady: { from?: { at: number; count: number }; to?: { at: number; count: number } } = {};
  let cpuBefore: Snapshots | undefined;
  let cpuAfter: Snapshots | undefined;
  let ingesting = true;
  const poller = (async () => {
    while (ingesting) {
      received = await receiver.count();
      const at = performance.now();
      if (at >= steadyFrom && !steady.from) {
        steady = { from: { at, count: received } };
        cpuBefore = snapshots(receiver.child.pid, daemon.pid);
      }
      if (at >= end && steady.from && !steady.to) {
        steady = { ...steady, to: { at, count: received } };
        cpuAfter = snapshots(receiver.child.pid, daemon.pid);
      }
      await sleep(20);
    }
  })();
  let n = 0;
  const loop = async () => {
    while (performance.now() < end) {
      if (accepted - received >= BACKLOG) {
        await sleep(5);
        continue;
      }
      const events: string[] = [];
      for (let i = 0; i < BATCH_EVENTS; i++) events.push(eventJson(n++));
      try {
        const response = await fetch(`${daemon.origin}/api/v1/events/batch`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
          body: `{"events":[${events.join(",")}]}`,
          client,
        });
        const text = await response.text();
        if (response.status !== 202) throw new Error(`${response.status} ${text.slice(0, 300)}`);
        const data = (JSON.parse(text) as { data: { deliveries: { id: string }[] }[] }).data;
        accepted += data.length;
        lastDelivery = data.at(-1)?.deliveries[0]?.id ?? lastDelivery;
      } catch (error) {
        failures++;
        firstFailure ??= (error as Error).message;
        await sleep(50);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: BATCH_CONCURRENCY }, loop));
    // Wait for the poller to close the steady window, then for the backlog to drain.
    while (!steady.to && performance.now() < end + 1_000) await sleep(10);
  } finally {
    ingesting = false;
    await poller;
    client.close();
  }
  let drained = await receiver.waitFor(accepted, 60_000);
  if (drained && lastDelivery) {
    drained = false;
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const delivery = await api<{ state: string }>(
        daemon.origin,
        adminKey,
        "GET",
        `/api/v1/deliveries/${lastDelivery}`,
        undefined,
        200,
      );
      if (delivery.state === "succeeded") {
        drained = true;
        break;
      }
      await sleep(10);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const window = steady.from && steady.to
    ? (steady.to.count - steady.from.count) / ((steady.to.at - steady.from.at) / 1000)
    : NaN;
  const empty = { total: NaN, threads: [] };
  const noCpu = { daemon: empty, receiver: empty, bench: empty, other: NaN };
  return {
    accepted,
    seconds,
    durablePerSecond: drained ? accepted / seconds : NaN,
    steadyPerSecond: window,
    drained,
    failures,
    firstFailure,
    cpu: cpuBefore && cpuAfter ? usage(cpuBefore, cpuAfter) : noCpu,
  };
}

interface BurstResult {
  readonly events: number;
  readonly accepted: number;
  readonly received: number;
  /** From the first POST until the receiver had every accepted event. */
  readonly seconds: number;
  readonly deliveriesPerSecond: number;
  /** How long posting alone took (the closed loop's last answer). */
  readonly ingestSeconds: number;
  readonly peakRssMb: number;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly cpu: CpuSplit;
  /** The daemon's CPU time from the first POST until the receiver had them all. */
  readonly daemonCpuSeconds: number;
}

/**
 * `events` events, one per POST with CONCURRENCY in flight or `perRequest`
 * to a batch POST with BATCH_CONCURRENCY in flight (closed loop), as fast as
 * the daemon acknowledges them; done when the receiver has every accepted
 * event. The end is the receiver's own arrival time of the last one, on the
 * wall clock this process reads too (see `wallNow`).
 */
async function eventBurst(
  daemon: Child,
  receiver: Receiver,
  adminKey: string,
  events: number,
  perRequest: number,
): Promise<BurstResult> {
  const before = snapshots(receiver.child.pid, daemon.pid);
  const startedAt = wallNow();
  const batched = perRequest > 1;
  const load = await closedLoop({
    url: `${daemon.origin}/api/v1/events${batched ? "/batch" : ""}`,
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: batched
      ? (n) =>
        `{"events":[${
          Array.from({ length: perRequest }, (_, i) => eventJson(n * perRequest + i)).join(",")
        }]}`
      : (n) => eventJson(n),
    eventsPerRequest: perRequest,
    okStatus: 202,
  }, {
    concurrency: batched ? BATCH_CONCURRENCY : CONCURRENCY,
    warmupMs: 0,
    measureMs: 120_000,
    maxRequests: Math.ceil(events / perRequest),
  });
  const accepted = load.requests * perRequest;
  const drained = await receiver.waitFor(accepted, 60_000);
  const after = snapshots(receiver.child.pid, daemon.pid);
  const cpu = usage(before, after);
  const { receivedAt } = await receiver.log();
  const lastAt = receivedAt.reduce((a, b) => Math.max(a, b), -Infinity);
  const seconds = (lastAt - startedAt) / 1000;
  return {
    events,
    accepted,
    received: receivedAt.length,
    seconds,
    deliveriesPerSecond: drained ? accepted / seconds : NaN,
    ingestSeconds: load.seconds,
    peakRssMb: memoryOf(daemon.pid).peakMb,
    failures: load.failures,
    firstFailure: load.firstFailure,
    cpu,
    daemonCpuSeconds: cpu.daemon.total * (after.at - before.at) / 1000,
  };
}

/**
 * Warm bursts taken in turns, one per request then in batches, WARM_PAIRS
 * times: the machine's speed drifts by the minute, and a ratio of one burst
 * of each swung by a tenth between runs of the same code.
 */
const WARM_PAIRS = 2;

interface WarmPairs {
  readonly single: BurstResult[];
  readonly batched: BurstResult[];
}

async function warmPairs(
  child: Child,
  receiver: Receiver,
  adminKey: string,
  events: number,
): Promise<WarmPairs> {
  const pairs: WarmPairs = { single: [], batched: [] };
  for (let pair = 0; pair < WARM_PAIRS; pair++) {
    await receiver.reset();
    pairs.single.push(await eventBurst(child, receiver, adminKey, events, 1));
    await receiver.reset();
    pairs.batched.push(await eventBurst(child, receiver, adminKey, events, BATCH_EVENTS));
  }
  return pairs;
}

/** CPU per event over all the bursts given: their CPU time over their events. */
function cpuPerEvent(bursts: readonly BurstResult[]): number {
  const seconds = bursts.reduce((sum, b) => sum + b.daemonCpuSeconds, 0);
  const received = bursts.reduce((sum, b) => sum + b.received, 0);
  return (seconds * 1e6) / received;
}

/** CPU per event posted one per request against batches, both over all the pairs (target ≤ 1.5×). */
function singleCpuRow(figure: string, pairs: WarmPairs): Row {
  return {
    figure,
    value: cpuPerEvent(pairs.single),
    unit: "µs",
    reference: {
      name: `batches of ${BATCH_EVENTS}, same daemon`,
      value: cpuPerEvent(pairs.batched),
    },
    target: { kind: "max", value: TARGET_SINGLE_CPU_RATIO, ratio: true },
  };
}

/** Each pair's CPU per event, one per request / in batches, µs. */
function pairsText(pairs: WarmPairs): string {
  return pairs.single.map((single, i) =>
    `${cpuPerEvent([single]).toFixed(0)}/${cpuPerEvent([pairs.batched[i]!]).toFixed(0)}`
  ).join(", ");
}

interface BacklogResult {
  readonly events: number;
  readonly received: number;
  /** From the resume until the receiver had every event. */
  readonly seconds: number;
  readonly deliveriesPerSecond: number;
}

/**
 * `events` events to a paused webhook (held in the store, batches of 1,000),
 * then the webhook resumed: every delivery due at once, far more than its
 * queue in memory holds. Timed from the resume until the receiver has them
 * all: how fast a backlog drains (after an outage, a pause, a restart).
 */
async function backlogDrain(
  daemon: Child,
  webhookId: string,
  receiver: Receiver,
  adminKey: string,
  events: number,
): Promise<BacklogResult> {
  const perRequest = 1_000;
  const state = (value: string) =>
    api(daemon.origin, adminKey, "PATCH", `/api/v1/webhooks/${webhookId}`, { state: value }, 200);
  await state("paused");
  await closedLoop({
    url: `${daemon.origin}/api/v1/events/batch`,
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: (n) =>
      `{"events":[${
        Array.from({ length: perRequest }, (_, i) => eventJson(n * perRequest + i)).join(",")
      }]}`,
    eventsPerRequest: perRequest,
    okStatus: 202,
  }, {
    concurrency: BATCH_CONCURRENCY,
    warmupMs: 0,
    measureMs: 120_000,
    maxRequests: Math.ceil(events / perRequest),
  });
  await receiver.reset();
  const startedAt = wallNow();
  await state("enabled");
  const drained = await receiver.waitFor(events, 120_000);
  const { receivedAt } = await receiver.log();
  const lastAt = receivedAt.reduce((a, b) => Math.max(a, b), -Infinity);
  const seconds = (lastAt - startedAt) / 1000;
  return {
    events,
    received: receivedAt.length,
    seconds,
    deliveriesPerSecond: drained ? events / seconds : NaN,
  };
}

interface OpenLoopEvents {
  readonly sent: Map<string, number>;
  readonly acked: Map<string, number>;
  readonly failures: number;
  readonly firstFailure?: string;
}

/**
 * Single-event POSTs with producer ids on a fixed timeline (open loop);
 * records when each was sent and when its 202 arrived (`wallNow()`), and
 * calls `onAck` with the `performance.now()` of each 202.
 */
async function postOpenLoop(
  daemon: Child,
  adminKey: string,
  rate: number,
  durationMs: number,
  onAck?: (at: number) => void,
): Promise<OpenLoopEvents> {
  const client = Deno.createHttpClient({});
  const sent = new Map<string, number>();
  const acked = new Map<string, number>();
  let failures = 0;
  let firstFailure: string | undefined;
  const total = Math.round((durationMs / 1000) * rate);
  const interval = 1000 / rate;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now() + 5;
  const post = async (i: number) => {
    const id = uuidv7(Date.now());
    sent.set(id, wallNow());
    try {
      const response = await fetch(`${daemon.origin}/api/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: eventJson(i, id),
        client,
      });
      const text = await response.text();
      if (response.status !== 202) throw new Error(`${response.status} ${text.slice(0, 300)}`);
      acked.set(id, wallNow());
      onAck?.(performance.now());
    } catch (error) {
      failures++;
      firstFailure ??= (error as Error).message;
    }
  };
  try {
    for (let i = 0; i < total;) {
      while (i < total && start + i * interval <= performance.now()) {
        const request = post(i++);
        inFlight.add(request);
        request.finally(() => inFlight.delete(request));
      }
      if (i < total) {
        await sleep(Math.max(0, Math.floor(start + i * interval - performance.now())));
      }
    }
    await Promise.all(inFlight);
  } finally {
    client.close();
  }
  return { sent, acked, failures, firstFailure };
}

interface LatencyResult {
  /** Acknowledged in the measured part; `ackedTotal` counts the warm-up too. */
  readonly acked: number;
  readonly ackedTotal: number;
  readonly matched: number;
  readonly ackToReceipt: Percentiles;
  readonly postToReceipt: Percentiles;
  readonly failures: number;
}

async function ackToReceipt(
  daemon: Child,
  receiver: Receiver,
  plan: Plan,
  adminKey: string,
): Promise<LatencyResult> {
  const warmup = await postOpenLoop(daemon, adminKey, LATENCY_RATE, plan.warmupMs);
  const run = await postOpenLoop(daemon, adminKey, LATENCY_RATE, plan.latencyMs);
  await receiver.waitFor(warmup.acked.size + run.acked.size, 10_000);
  const log = await receiver.log();
  const ackLatency: number[] = [];
  const postLatency: number[] = [];
  log.ids.forEach((id, i) => {
    const ack = run.acked.get(id);
    const receivedAt = log.receivedAt[i]!;
    if (ack === undefined) return;
    ackLatency.push(receivedAt - ack);
    postLatency.push(receivedAt - run.sent.get(id)!);
  });
  return {
    acked: run.acked.size,
    ackedTotal: warmup.acked.size + run.acked.size,
    matched: ackLatency.length,
    ackToReceipt: percentiles(ackLatency),
    postToReceipt: percentiles(postLatency),
    failures: warmup.failures + run.failures,
  };
}

interface LatenessResult {
  readonly acked: number;
  readonly retried: number;
  readonly hookd: Percentiles;
  readonly setTimeout: Percentiles;
}

async function schedulingLateness(
  daemon: Child,
  receiver: Receiver,
  plan: Plan,
  adminKey: string,
): Promise<LatenessResult> {
  // The reference: a setTimeout per acknowledged event, due RETRY_DELAY_MS after its 202.
  const timerLateness: number[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const posted = await postOpenLoop(daemon, adminKey, LATENESS_RATE, plan.latenessMs, (at) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      timerLateness.push(performance.now() - at - RETRY_DELAY_MS);
    }, RETRY_DELAY_MS);
    timers.add(timer);
  });
  const acked = posted.acked.size;
  // Each event arrives twice: the failed first attempt and the retry.
  await receiver.waitFor(2 * acked, RETRY_DELAY_MS + 15_000);
  for (const timer of timers) clearTimeout(timer);
  const { lateMs } = await receiver.log();
  return {
    acked,
    retried: lateMs.length,
    hookd: percentiles(lateMs),
    setTimeout: percentiles(timerLateness),
  };
}

/** The store's commit and write counters from `/metrics`. */
export async function storeCounters(
  origin: string,
  adminKey: string,
): Promise<{ transactions: number; writes: number }> {
  const response = await fetch(`${origin}/metrics`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  const text = await response.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  return {
    transactions: value("hookd_store_transactions_total"),
    writes: value("hookd_store_writes_total"),
  };
}
