/**
 * The isolation benchmark (`deno task bench --only isolation`): does one bad
 * endpoint among 1,000 webhooks slow the other 999 down?
 *
 * Each event type `iso.<i>` is subscribed by webhook i alone, and event n has
 * type `iso.<n mod 1000>`, so every webhook gets the same share of the same
 * event stream in every scenario: the delivery work is the same whether
 * webhook 0 is healthy or not. Webhook i receives on `/hook/<i>` at one of a
 * few loopback ports of a receiver process. Events go in through the batch
 * endpoint while fewer than BACKLOG deliveries to the 999 are accepted but
 * not yet received (a closed loop: hookd always has work, so the figure is
 * its capacity, not the offered rate); the figure is the 999's receipts per
 * second.
 *
 * Four daemons, each with its own database and receiver, differ only in
 * webhook 0:
 * - all healthy (the reference);
 * - slow: the receiver answers its path after 2 s (under the policy's 10 s
 *   timeout, so every attempt succeeds and holds its slot for 2 s);
 * - down: its URL is a closed port on 127.0.0.1 (connection refused);
 * - failing: the receiver answers its path 503 at once.
 *
 * This 2-core machine's speed drifts by ±30% from one minute to the next and
 * other work on it comes and goes within seconds, so the four are not
 * measured one after the other: they are set up first, then loaded in turn
 * for short windows, each window starting once the previous one's backlog has
 * reached its receiver. Every window of a bad scenario sits between two
 * windows of the healthy one (H S H D H F H D H …, the bad ones' order
 * rotating each round) and is set against their mean; a scenario's ratio is
 * the mean of its windows against the mean of those brackets, target ≥ 0.9.
 * Also reported: how many attempts webhook 0 took over the whole run, with
 * its breaker state and effective concurrency as the API shows them.
 */
import type { BenchContext, BenchOutcome } from "./context.ts";
import type { Child } from "./child.ts";
import { Receiver } from "./receiver_client.ts";
import { type CpuSnapshot, cpuSnapshot, type CpuUse, cpuUse } from "./cpu.ts";
import { type CpuSplit, snapshots, usage } from "./delivery.ts";
import { api, spawnHookd } from "./hookd.ts";
import type { Row } from "./report.ts";

export interface IsolationBenchOptions extends BenchContext {
  readonly quick: boolean;
}

export interface IsolationBenchResult extends BenchOutcome {
  readonly cpu: ({ name: string } & CpuSplit)[];
}

interface Plan {
  readonly rounds: number;
  /** Per window: loaded but not counted (the daemon was idle until then), then counted. */
  readonly warmupMs: number;
  readonly measureMs: number;
}

/** A round is one window of each bad scenario, each followed by a healthy one. */
const FULL: Plan = { rounds: 5, warmupMs: 500, measureMs: 1_500 };
const QUICK: Plan = { rounds: 2, warmupMs: 500, measureMs: 1_000 };

const WEBHOOKS = 1_000;
/** The webhook that goes bad; left out of every scenario's figure, the reference's too. */
const BAD = 0;
const SLOW_MS = 2_000;
/** Receiver ports the webhooks are spread over (webhook i on port i mod this). */
const RECEIVER_PORTS = 10;
const BATCH_EVENTS = 100;
const BATCH_CONCURRENCY = 4;
/**
 * Most deliveries to the 999 accepted but not yet received: several times the
 * 256 slots, so hookd never runs dry, and small enough to drain in well under
 * a second between windows.
 */
const BACKLOG = 2_000;
/** Parallel API calls while creating the webhooks. */
const CREATE_CONCURRENCY = 8;
/** How long a window's backlog may take to reach the receiver before the next window. */
const DRAIN_TIMEOUT_MS = 15_000;
const TARGET_RATIO = 0.9;

/**
 * The delivery defaults, pinned so runs of different revisions compare: 256
 * attempts in flight in all, at most 16 to one webhook, so a slow webhook
 * holds at most 16 slots.
 */
const DAEMON_ENV = {
  HOOKD_DELIVERY_CONCURRENCY: "256",
  HOOKD_DELIVERY_MAX_IN_FLIGHT_PER_WEBHOOK: "16",
};

const MODES = ["healthy", "slow", "down", "failing"] as const;
type Mode = typeof MODES[number];

const LABELS: Record<Mode, string> = {
  healthy: "healthy",
  slow: `slow (${SLOW_MS / 1000} s)`,
  down: "down (connection refused)",
  failing: "failing (503)",
};

/** How the receiver answers webhook 0's path in each mode (down: it is never asked). */
const ODD_PATH: Record<Mode, { delayMs: number; status: number }> = {
  healthy: { delayMs: 0, status: 200 },
  slow: { delayMs: SLOW_MS, status: 200 },
  down: { delayMs: 0, status: 200 },
  failing: { delayMs: 0, status: 503 },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One daemon with its receiver; `acceptedOthers` counts its events for the 999 so far. */
interface Setup {
  readonly mode: Mode;
  readonly daemon: Child;
  readonly receiver: Child;
  readonly badId: string;
  nextEvent: number;
  acceptedOthers: number;
}

interface Window {
  readonly mode: Mode;
  readonly seconds: number;
  /** `delivered` per second. */
  readonly perSecond: number;
  /** Receipts of the 999 in the counted part of the window. */
  readonly delivered: number;
  readonly drained: boolean;
  readonly failures: number;
  readonly firstFailure?: string;
  /** Cores the idle daemons and receivers used meanwhile (left out of `cpu.other`). */
  readonly idleCores: number;
  readonly cpu: CpuSplit;
}

/** Webhook 0 after the run, as the daemon tells it. */
interface BadWebhook {
  readonly deliveries: number;
  /** Attempts recorded so far (one still in flight is not yet). */
  readonly attempts: number;
  readonly states: Record<string, number>;
  /** Requests the receiver got on its path (slow, failing). */
  readonly received: number;
  readonly circuit: string;
  readonly effectiveConcurrency: number | null;
}

interface Stats {
  readonly count: number;
  readonly onPath: number;
}

export async function runIsolationBench(
  options: IsolationBenchOptions,
): Promise<IsolationBenchResult> {
  const plan = options.quick ? QUICK : FULL;
  const { progress } = options;
  const started = performance.now();
  const setups: Setup[] = [];
  try {
    // In parallel: creating 4,000 webhooks one by one took 17 s.
    await Promise.all(MODES.map(async (mode) => setups.push(await setUp(mode, options))));
    setups.sort((a, b) => MODES.indexOf(a.mode) - MODES.indexOf(b.mode));
    progress(
      `isolation: ${MODES.length} daemons with ${WEBHOOKS} webhooks each, set up in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    // Healthy, then each bad one with a healthy window after it, round after round; the
    // bad ones' order rotates, so none always follows the same one.
    const healthy = setups[0]!;
    const bads = setups.slice(1);
    const windows: Window[] = [await loadWindow(healthy, setups, plan, options.adminKey)];
    for (let round = 0; round < plan.rounds; round++) {
      const shift = round % bads.length;
      const rates: string[] = [];
      for (const setup of [...bads.slice(shift), ...bads.slice(0, shift)]) {
        for (const next of [setup, healthy]) {
          const window = await loadWindow(next, setups, plan, options.adminKey);
          windows.push(window);
          rates.push(`${next.mode} ${window.perSecond.toFixed(0)}`);
        }
      }
      progress(
        `isolation round ${round + 1}/${plan.rounds}: deliveries/s to the 999: ${rates.join(", ")}`,
      );
    }
    const runSeconds = (performance.now() - started) / 1000;
    const bad = new Map<Mode, BadWebhook>();
    for (const setup of setups) bad.set(setup.mode, await badWebhook(setup, options.adminKey));
    return report(plan, windows, bad, runSeconds, progress);
  } finally {
    for (const setup of setups) {
      await options.stop(setup.daemon);
      await options.stop(setup.receiver);
    }
  }
}

async function setUp(mode: Mode, options: IsolationBenchOptions): Promise<Setup> {
  const receivers = await Receiver.start(options, `isolation receiver (${mode})`, RECEIVER_PORTS);
  const receiver = receivers.child;
  const ports = await receivers.ports();
  const { delayMs, status } = ODD_PATH[mode];
  await (await fetch(
    `${receiver.origin}/_reset?path=/hook/${BAD}&delay_ms=${delayMs}&status=${status}`,
    { method: "POST" },
  )).body?.cancel();
  const daemon = await spawnHookd({
    name: `isolation-${mode}`,
    dbPath: `${options.tempDir}/isolation-${mode}.db`,
    adminKey: options.adminKey,
    root: options.root,
    env: DAEMON_ENV,
    profileDir: options.profileDir,
  });
  options.track(daemon);
  const badId = await createWebhooks(
    daemon.origin,
    options.adminKey,
    (i) =>
      i === BAD && mode === "down"
        ? `http://127.0.0.1:${closedPort()}/hook/${i}`
        : `http://127.0.0.1:${ports[i % ports.length]}/hook/${i}`,
  );
  return { mode, daemon, receiver, badId, nextEvent: 0, acceptedOthers: 0 };
}

/**
 * Each bad window against the mean of the healthy windows on either side of
 * it; a scenario's figure is the mean of its windows against the mean of
 * their brackets.
 */
function report(
  plan: Plan,
  windows: readonly Window[],
  bad: Map<Mode, BadWebhook>,
  runSeconds: number,
  progress: (message: string) => void,
): IsolationBenchResult {
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const of = (mode: Mode) => windows.filter((w) => w.mode === mode);
  const others = `${WEBHOOKS - 1} of ${WEBHOOKS.toLocaleString("en-US")} webhooks`;
  const rows: Row[] = [{
    figure: `isolation: ${others}, all healthy (reference, ${of("healthy").length} windows of ${
      plan.measureMs / 1000
    } s)`,
    value: mean(of("healthy").map((w) => w.perSecond)),
    unit: "deliveries/s",
  }];
  const notes: string[] = [];
  const bads = MODES.filter((mode) => mode !== "healthy");
  for (const mode of bads) {
    const rates: number[] = [];
    const brackets: number[] = [];
    windows.forEach((w, i) => {
      if (w.mode !== mode) return;
      rates.push(w.perSecond);
      brackets.push((windows[i - 1]!.perSecond + windows[i + 1]!.perSecond) / 2);
    });
    const ratios = rates.map((rate, i) => rate / brackets[i]!);
    rows.push({
      figure: `isolation: ${others}, webhook ${BAD} ${LABELS[mode]}`,
      value: mean(rates),
      unit: "deliveries/s",
      reference: { name: "healthy around it", value: mean(brackets) },
      target: { kind: "min", value: TARGET_RATIO, ratio: true },
    });
    const sorted = [...ratios].sort((a, b) => a - b);
    const listed = `per window ${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${
      sorted[(sorted.length - 1) >> 1]!.toFixed(2)
    }`;
    progress(
      `isolation, webhook ${BAD} ${LABELS[mode]}: ${(mean(rates) / mean(brackets)).toFixed(2)}x ` +
        `(${listed})`,
    );
    notes.push(
      `isolation, webhook ${BAD} ${mode}: against the healthy windows around each, ${listed}; ` +
        `webhook ${BAD}: ${describe(bad.get(mode)!)}.`,
    );
  }
  for (const mode of bads) {
    const b = bad.get(mode)!;
    rows.push({
      figure: `isolation: webhook ${BAD} ${mode}: its attempts in ${
        runSeconds.toFixed(0)
      } s (${b.deliveries} deliveries)`,
      value: b.attempts,
      unit: "attempts",
    });
  }
  const cpu: IsolationBenchResult["cpu"] = [];
  for (const mode of MODES) {
    const list = of(mode);
    const failures = list.reduce((sum, w) => sum + w.failures, 0);
    if (failures > 0) {
      notes.push(
        `isolation, ${mode}: ${failures} failed batch requests (${
          list.find((w) => w.firstFailure)?.firstFailure
        })`,
      );
    }
    const undrained = list.filter((w) => !w.drained).length;
    if (undrained > 0) {
      notes.push(
        `isolation, ${mode}: ${undrained} windows' backlog did not reach the receiver within ` +
          `${DRAIN_TIMEOUT_MS / 1000} s; the next window shared the machine with it.`,
      );
    }
    cpu.push({ name: `isolation ${mode}`, ...meanSplit(list) });
  }
  // On a shared machine a ratio mixes hookd's own cost with others' load; CPU per delivery
  // does not: a bad webhook that cost hookd work would show here, whatever else ran.
  const perDelivery = MODES.map((mode) => {
    const list = of(mode);
    const cpuSeconds = list.reduce((sum, w) => sum + w.cpu.daemon.total * w.seconds, 0);
    const delivered = list.reduce((sum, w) => sum + w.delivered, 0);
    return `${mode} ${(1e6 * cpuSeconds / delivered).toFixed(0)} µs`;
  });
  notes.push(`isolation: hookd CPU per delivery to the 999: ${perDelivery.join(", ")}.`);
  const idleCores = MODES.map((mode) => {
    const list = of(mode);
    const cores = list.reduce((sum, w) => sum + w.idleCores * w.seconds, 0) /
      list.reduce((sum, w) => sum + w.seconds, 0);
    return `${mode} ${cores.toFixed(2)}`;
  });
  notes.push(
    `isolation: cores the idle daemons and receivers used during each one's windows: ${
      idleCores.join(", ")
    }.`,
  );
  for (const c of cpu) {
    if (c.other > 0.2) {
      notes.push(
        `warning: ${c.name}: other processes kept ${c.other.toFixed(2)} cores busy on average; ` +
          "the interleaving spreads that over every scenario, but the figures are lower for it.",
      );
    }
  }
  return {
    rows,
    notes,
    cpu,
    details: {
      webhooks: WEBHOOKS,
      plan,
      windows,
      bad: Object.fromEntries(bad),
    },
  };
}

function describe(b: BadWebhook): string {
  const states = Object.entries(b.states).map(([state, n]) => `${state} ${n}`).join(", ");
  return `${b.attempts} attempts recorded, ${b.received} requests at the receiver, ` +
    `deliveries ${states}, circuit ${b.circuit}, effective concurrency ${b.effectiveConcurrency}`;
}

/** The windows' CPU use, each weighted by its length. */
function meanSplit(list: readonly Window[]): CpuSplit {
  const total = list.reduce((sum, w) => sum + w.seconds, 0);
  const mean = (pick: (split: CpuSplit) => CpuUse): CpuUse => {
    const threads = new Map<string, number>();
    let cores = 0;
    for (const w of list) {
      const use = pick(w.cpu);
      cores += use.total * w.seconds;
      for (const t of use.threads) {
        threads.set(t.name, (threads.get(t.name) ?? 0) + t.cores * w.seconds);
      }
    }
    return {
      total: cores / total,
      threads: [...threads].map(([name, c]) => ({ name, cores: c / total }))
        .sort((a, b) => b.cores - a.cores),
    };
  };
  return {
    daemon: mean((s) => s.daemon),
    receiver: mean((s) => s.receiver),
    bench: mean((s) => s.bench),
    other: list.reduce((sum, w) => sum + w.cpu.other * w.seconds, 0) / total,
  };
}

/** Creates the webhooks, webhook i subscribed to `iso.<i>` alone; returns webhook BAD's id. */
async function createWebhooks(
  origin: string,
  adminKey: string,
  urlOf: (i: number) => string,
): Promise<string> {
  let next = 0;
  let badId: string | undefined;
  const worker = async () => {
    for (let i = next++; i < WEBHOOKS; i = next++) {
      const { id } = await api<{ id: string }>(origin, adminKey, "POST", "/api/v1/webhooks", {
        url: urlOf(i),
        event_types: [`iso.${i}`],
        description: `isolation receiver ${i}`,
      }, 201);
      if (i === BAD) badId = id;
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  return badId!;
}

/** A loopback port nothing listens on: one the kernel just gave out and that was closed again. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** How many of the events [first, first + count) go to webhook BAD. */
function badAmong(first: number, count: number): number {
  let n = 0;
  for (let i = first; i < first + count; i++) if (i % WEBHOOKS === BAD) n++;
  return n;
}

async function receivedOthers(receiver: Child): Promise<number> {
  const stats = await (await fetch(`${receiver.origin}/_stats`)).json() as Stats;
  return stats.count - stats.onPath;
}

/**
 * One window on one daemon: batches of events while its 999 are less than
 * BACKLOG behind, for the warm-up and the counted part; then waits until the
 * receiver has every one of them, so the next window has the machine alone.
 */
async function loadWindow(
  setup: Setup,
  all: readonly Setup[],
  plan: Plan,
  adminKey: string,
): Promise<Window> {
  const { daemon, receiver } = setup;
  const client = Deno.createHttpClient({});
  const countFrom = performance.now() + plan.warmupMs;
  const end = countFrom + plan.measureMs;
  let received = await receivedOthers(receiver);
  let failures = 0;
  let firstFailure: string | undefined;
  // The other daemons and receivers, idle while this one works: their CPU is not the machine's
  // other work.
  const idle = all.filter((other) => other !== setup).flatMap((other) => [
    other.daemon.pid,
    other.receiver.pid,
  ]);
  const idleCpu = () => idle.map((pid) => cpuSnapshot(pid));
  let from: {
    at: number;
    count: number;
    cpu: ReturnType<typeof snapshots>;
    idle: CpuSnapshot[];
  } | undefined;
  let to: typeof from;
  let loading = true;
  const poller = (async () => {
    while (loading) {
      received = await receivedOthers(receiver);
      const at = performance.now();
      if (at >= countFrom && !from) {
        from = { at, count: received, cpu: snapshots(receiver.pid, daemon.pid), idle: idleCpu() };
      }
      if (at >= end && from && !to) {
        to = { at, count: received, cpu: snapshots(receiver.pid, daemon.pid), idle: idleCpu() };
      }
      await sleep(20);
    }
  })();
  const loop = async () => {
    while (performance.now() < end) {
      if (setup.acceptedOthers - received >= BACKLOG) {
        await sleep(5);
        continue;
      }
      const first = setup.nextEvent;
      setup.nextEvent += BATCH_EVENTS;
      const events: string[] = [];
      for (let i = first; i < first + BATCH_EVENTS; i++) {
        events.push(
          `{"type":"iso.${i % WEBHOOKS}","data":{"order_id":${i},"amount":4200,"currency":"EUR"}}`,
        );
      }
      try {
        const response = await fetch(`${daemon.origin}/api/v1/events/batch`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
          body: `{"events":[${events.join(",")}]}`,
          client,
        });
        const text = await response.text();
        if (response.status !== 202) throw new Error(`${response.status} ${text.slice(0, 300)}`);
        setup.acceptedOthers += BATCH_EVENTS - badAmong(first, BATCH_EVENTS);
      } catch (error) {
        failures++;
        firstFailure ??= (error as Error).message;
        await sleep(50);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: BATCH_CONCURRENCY }, loop));
    // The poller closes the window at its first look after `end`.
    while (!to && performance.now() < end + 1_000) await sleep(10);
  } finally {
    loading = false;
    await poller;
    client.close();
  }
  if (!from || !to) throw new Error("isolation: the receiver's counts could not be read in time");
  let drained = false;
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (await receivedOthers(receiver) >= setup.acceptedOthers) {
      drained = true;
      break;
    }
    await sleep(20);
  }
  const seconds = (to.at - from.at) / 1000;
  const cpu = usage(from.cpu, to.cpu);
  const idleCores = idle.reduce(
    (sum, _, i) => sum + cpuUse(from!.idle[i]!, to!.idle[i]!, seconds).total,
    0,
  );
  return {
    mode: setup.mode,
    seconds,
    perSecond: (to.count - from.count) / seconds,
    delivered: to.count - from.count,
    drained,
    failures,
    firstFailure,
    idleCores,
    cpu: { ...cpu, other: Math.max(0, cpu.other - idleCores) },
  };
}

/** Webhook BAD's deliveries, attempts and flow state, from the API and the receiver. */
async function badWebhook(setup: Setup, adminKey: string): Promise<BadWebhook> {
  const { origin } = setup.daemon;
  const id = setup.badId;
  const webhook = await api<{
    circuit: { state: string } | null;
    effective_concurrency: number | null;
  }>(origin, adminKey, "GET", `/api/v1/webhooks/${id}`, undefined, 200);
  const states: Record<string, number> = {};
  let deliveries = 0;
  let attempts = 0;
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const page: {
      data: { state: string; attempt_count: number }[];
      next_cursor: string | null;
    } = await api(
      origin,
      adminKey,
      "GET",
      `/api/v1/webhooks/${id}/deliveries?limit=1000${query}`,
      undefined,
      200,
    );
    for (const delivery of page.data) {
      deliveries++;
      attempts += delivery.attempt_count;
      states[delivery.state] = (states[delivery.state] ?? 0) + 1;
    }
    cursor = page.next_cursor;
  } while (cursor !== null);
  const stats = await (await fetch(`${setup.receiver.origin}/_stats`)).json() as Stats;
  return {
    deliveries,
    attempts,
    states,
    received: stats.onPath,
    circuit: webhook.circuit?.state ?? "n/a",
    effectiveConcurrency: webhook.effective_concurrency,
  };
}
