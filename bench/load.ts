/**
 * The load generator: `fetch` over one shared `Deno.HttpClient`, closed loop
 * (N requests always in flight, for throughput) or open loop (sends on a
 * fixed timeline, for latency without coordinated omission).
 */

export interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
  /** The request body for the n-th request. */
  readonly body: (n: number) => string;
  /** How many events one acknowledged request carries. */
  readonly eventsPerRequest: number;
  /** The status that counts as acknowledged. */
  readonly okStatus: number;
}

export interface ClosedLoopResult {
  readonly concurrency: number;
  readonly seconds: number;
  readonly requests: number;
  readonly events: number;
  readonly requestsPerSecond: number;
  readonly eventsPerSecond: number;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly latencyMs: Percentiles;
}

export interface OpenLoopResult {
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly failures: number;
  readonly firstFailure?: string;
  /** From the scheduled send time to the response (includes any sending lag). */
  readonly latencyMs: Percentiles;
  /** How late the generator itself sent, so a lagging generator is visible. */
  readonly sendLagMs: Percentiles;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function percentiles(samples: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) =>
    sorted.length === 0
      ? NaN
      : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

/** One request of an open loop, for callers that split or match the results themselves. */
export interface OpenLoopResponse {
  /** The request's number, as passed to `Target.body`. */
  readonly n: number;
  /** When it was due and when its response arrived (`performance.now()`). */
  readonly dueAt: number;
  readonly doneAt: number;
  readonly ok: boolean;
  /** The response's body (empty if none arrived). */
  readonly body: string;
}

async function send(
  client: Deno.HttpClient,
  target: Target,
  n: number,
): Promise<{ ok: boolean; detail?: string; body: string }> {
  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers: target.headers,
      body: target.body(n),
      client,
    });
    const text = await response.text();
    if (response.status === target.okStatus) return { ok: true, body: text };
    return { ok: false, detail: `${response.status} ${text.slice(0, 300)}`, body: text };
  } catch (error) {
    return { ok: false, detail: (error as Error).message, body: "" };
  }
}

/**
 * Keeps `concurrency` requests in flight for `warmupMs + measureMs`; counts
 * only responses that arrive inside the measured window. With `maxRequests`,
 * sends no more than that many (then `measureMs` is a time limit, and the
 * rates are over the time the requests took).
 */
export async function closedLoop(
  target: Target,
  options: { concurrency: number; warmupMs: number; measureMs: number; maxRequests?: number },
): Promise<ClosedLoopResult> {
  const client = Deno.createHttpClient({});
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.measureMs;
  let requests = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  let n = 0;
  const maxRequests = options.maxRequests ?? Infinity;
  const loop = async () => {
    while (performance.now() < end && n < maxRequests) {
      const sentAt = performance.now();
      const outcome = await send(client, target, n++);
      const now = performance.now();
      if (now < measureFrom || now > end) continue;
      if (outcome.ok) {
        requests++;
        latencies.push(now - sentAt);
      } else {
        failures++;
        firstFailure ??= outcome.detail;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, loop));
  } finally {
    client.close();
  }
  const seconds = (Math.min(performance.now(), end) - measureFrom) / 1000;
  return {
    concurrency: options.concurrency,
    seconds,
    requests,
    events: requests * target.eventsPerRequest,
    requestsPerSecond: requests / seconds,
    eventsPerSecond: (requests * target.eventsPerRequest) / seconds,
    failures,
    firstFailure,
    latencyMs: percentiles(latencies),
  };
}

/**
 * Sends `rate` requests per second on a fixed timeline for `measureMs`
 * (after an unrecorded warm-up at the same rate). Each latency is measured
 * from when the request was due, not when it left, so a stalled server is
 * charged for the requests it delayed. `onResponse` sees every request,
 * warm-up included.
 */
export async function openLoop(
  target: Target,
  options: {
    rate: number;
    warmupMs: number;
    measureMs: number;
    onResponse?: (response: OpenLoopResponse) => void;
  },
): Promise<OpenLoopResult> {
  const client = Deno.createHttpClient({});
  const interval = 1000 / options.rate;
  const total = Math.round(((options.warmupMs + options.measureMs) / 1000) * options.rate);
  const warmupCount = Math.round((options.warmupMs / 1000) * options.rate);
  const latencies: number[] = [];
  const lags: number[] = [];
  let acknowledged = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now() + 5;
  try {
    for (let i = 0; i < total;) {
      const now = performance.now();
      while (i < total && start + i * interval <= now) {
        const due = start + i * interval;
        const recorded = i >= warmupCount;
        if (recorded) lags.push(now - due);
        const n = i;
        const request = send(client, target, n).then((outcome) => {
          const doneAt = performance.now();
          options.onResponse?.({ n, dueAt: due, doneAt, ok: outcome.ok, body: outcome.body });
          if (!recorded) return;
          if (outcome.ok) {
            acknowledged++;
            latencies.push(doneAt - due);
          } else {
            failures++;
            firstFailure ??= outcome.detail;
          }
        });
        inFlight.add(request);
        request.finally(() => inFlight.delete(request));
        i++;
      }
      if (i < total) {
        const wait = start + i * interval - performance.now();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(wait))));
      }
    }
    await Promise.all(inFlight);
  } finally {
    client.close();
  }
  return {
    rate: options.rate,
    seconds: options.measureMs / 1000,
    sent: total - warmupCount,
    acknowledged,
    failures,
    firstFailure,
    latencyMs: percentiles(latencies),
    sendLagMs: percentiles(lags),
  };
}
