/**
 * The webhook receiver of the delivery benchmarks, run as a process of its
 * own so its CPU is not the daemon's or the load generator's. It answers
 * every POST as fast as it can and logs, per request, the `webhook-id` header
 * (hookd's event id) and when the request arrived, so latency can be matched
 * to the event that caused it.
 *
 * Control endpoints on the same loopback port (paths under `/_`):
 * - `GET /_stats`: `{count, onPath, failed}`, requests received since the last
 *   reset, how many of them went to the path singled out by `/_reset?path=`,
 *   and how many were answered with anything but a 2xx;
 * - `GET /_log`: `{ids, receivedAt, lateMs}`: per request the webhook-id and
 *   the wall time at arrival (`performance.timeOrigin + performance.now()`:
 *   epoch ms like `Date.now()`, but with sub-ms resolution); per retried id, how late the second attempt came
 *   (see `fail_first`);
 * - `POST /_reset?fail_first=MS`: clears the log; with `fail_first`, the first
 *   request of each webhook-id gets a 500 and the second one is expected MS
 *   after that answer was written. Its lateness is measured on this process's
 *   monotonic clock from the 500's departure, so it is an upper bound: the
 *   daemon sees the 500 a little later and schedules from then;
 * - `POST /_reset?path=/hook/0&delay_ms=MS&status=CODE`: also singles out one
 *   path, one webhook among many (see isolation.ts): its requests are answered
 *   after `delay_ms` (default 0) with `status` (default 200), and counted apart
 *   as `onPath` in `/_stats` (they are in `count` too); with `fail_every=N`,
 *   only the first request of every Nth webhook-id gets `status`, and all
 *   others (retries too) 200: a receiver that fails now and then, so some
 *   deliveries are retried, but never many in a row (a breaker stays shut);
 * - `GET /_ports`: `{ports}`, every port this process listens on.
 *
 * `--ports N` listens on N loopback ports instead of one (many receivers at
 * the cost of one process); they share the log, and the first one printed is
 * the one to control.
 */
const ids: string[] = [];
const receivedAt: number[] = [];
let failFirstMs: number | undefined;
/** For fail_first: when the 500 for an id was answered (performance.now()). */
let failedAt = new Map<string, number>();
let lateMs: number[] = [];
/** The path singled out by `/_reset?path=`, how its requests are answered, and how many came. */
let odd: { path: string; delayMs: number; status: number; failEvery: number } | undefined;
let onPath = 0;
let failed = 0;
/** For `fail_every`: the webhook-ids the odd path has answered once. */
let seenOnPath = new Set<string>();

function control(request: Request, url: URL): Response {
  switch (url.pathname) {
    case "/_stats":
      return Response.json({ count: ids.length, onPath, failed });
    case "/_log":
      return Response.json({ ids, receivedAt, lateMs });
    case "/_ports":
      return Response.json({ ports });
    case "/_reset": {
      ids.length = 0;
      receivedAt.length = 0;
      failedAt = new Map();
      lateMs = [];
      const failFirst = url.searchParams.get("fail_first");
      failFirstMs = failFirst === null ? undefined : Number(failFirst);
      const path = url.searchParams.get("path");
      odd = path === null ? undefined : {
        path,
        delayMs: Number(url.searchParams.get("delay_ms") ?? 0),
        status: Number(url.searchParams.get("status") ?? 200),
        failEvery: Number(url.searchParams.get("fail_every") ?? 0),
      };
      onPath = 0;
      failed = 0;
      seenOnPath = new Set();
      return Response.json({ ok: true });
    }
    default:
      return new Response(`no such control path ${request.method} ${url.pathname}`, {
        status: 404,
      });
  }
}

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/_")) return control(request, url);
  await request.arrayBuffer();
  const now = performance.timeOrigin + performance.now();
  const id = request.headers.get("webhook-id") ?? "";
  ids.push(id);
  receivedAt.push(now);
  if (odd !== undefined && url.pathname === odd.path) {
    onPath++;
    const { delayMs, failEvery } = odd;
    let status = odd.status;
    if (failEvery > 0) {
      const isNew = !seenOnPath.has(id);
      seenOnPath.add(id);
      if (!isNew || seenOnPath.size % failEvery !== 0) status = 200;
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (status >= 300) failed++;
    return new Response(null, { status });
  }
  if (failFirstMs !== undefined) {
    const first = failedAt.get(id);
    if (first === undefined) {
      failedAt.set(id, performance.now());
      failed++;
      return new Response(null, { status: 500 });
    }
    lateMs.push(performance.now() - first - failFirstMs);
  }
  return new Response(null, { status: 200 });
}

const portsFlag = Deno.args.indexOf("--ports");
const count = portsFlag >= 0 ? Number(Deno.args[portsFlag + 1]) : 1;
if (!Number.isInteger(count) || count < 1) {
  throw new RangeError(
    `receiver: --ports must be a positive integer, got ${Deno.args[portsFlag + 1]}`,
  );
}
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  ports.push(Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handle).addr.port);
}
console.log(`receiver listening on http://127.0.0.1:${ports[0]}`);
