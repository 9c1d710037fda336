/**
 * `hookd healthcheck`: asks a running daemon's `GET /readyz` whether it is
 * ready, so a container's HEALTHCHECK (or a script) needs no curl in the
 * image: the hookd binary probes itself.
 *
 * It speaks HTTP/1.1 over `Deno.connect` rather than through `fetch`,
 * because `fetch` honours HTTP_PROXY/HTTPS_PROXY, which Docker injects into
 * containers from the client's proxy settings: a probe of the daemon on
 * 127.0.0.1 must never be sent to a proxy.
 *
 * @module
 */
import { closeQuietly, writeAll } from "../net/conn_io.ts";
import { contentLength, splitHead } from "../net/http1_head.ts";
import { Http1Reader } from "../net/http1_reader.ts";

/**
 * Where the daemon's API listens, as `[server]` resolves it (the fields of
 * `ServerConfig` that matter here; ops sits below config, so it does not
 * import the type).
 */
export interface ListenConfig {
  readonly hostname: string;
  readonly port: number;
  /** Non-empty when the API serves HTTPS: the PEM certificate chain's path. */
  readonly tlsCert: string;
}

/** What a probe found: ready only for a 200 from `/readyz`. */
export interface Readiness {
  readonly ready: boolean;
  /** One line for the operator: the status and the daemon's reason, or why nothing answered. */
  readonly message: string;
}

/** Options of {@linkcode probeReadiness}. */
export interface ProbeOptions {
  /** Gives up after this long, ms; default 5000 (below Docker's HEALTHCHECK --timeout in deploy/Dockerfile). */
  readonly timeoutMs?: number;
  /** PEM certificates to trust for an https URL, besides the built-in roots. */
  readonly caCerts?: string[];
}

const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_HEAD_BYTES = 64 * 1024;
/** A `/readyz` answer is a few hundred bytes; anything past this is not read. */
const MAX_BODY_BYTES = 4 * 1024;

/**
 * The `/readyz` URL of the daemon that `server` configures, as seen from the
 * same host: a wildcard listen address (0.0.0.0, ::) is probed on loopback,
 * https when the API serves TLS.
 */
export function readinessUrl(server: ListenConfig): URL {
  if (server.port === 0) {
    throw new RangeError(
      `Cannot derive the readiness URL: [server] listen has port 0 (a free port picked at start); pass --url`,
    );
  }
  let host = server.hostname;
  if (host === "" || host === "0.0.0.0") host = "127.0.0.1";
  else if (host === "::") host = "::1";
  if (host.includes(":")) host = `[${host}]`;
  const scheme = server.tlsCert === "" ? "http" : "https";
  return new URL(`${scheme}://${host}:${server.port}/readyz`);
}

/**
 * Probes the daemon that `server` configures: `/readyz` under `url` (the
 * API's URL, as the operator commands take it) when given, else at
 * {@linkcode readinessUrl}. Over https it also trusts the daemon's own
 * certificate (`tls_cert`), so a self-signed one verifies.
 */
export function checkDaemon(
  server: ListenConfig,
  url?: string,
): Promise<Readiness> {
  let target: URL;
  if (url === undefined) {
    target = readinessUrl(server);
  } else {
    const base = URL.parse(url);
    if (base === null || (base.protocol !== "http:" && base.protocol !== "https:")) {
      throw new TypeError(`Cannot probe readiness: --url must be an http(s) URL, got "${url}"`);
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    target = new URL("readyz", base);
  }
  const caCerts = target.protocol === "https:" && server.tlsCert !== ""
    ? [Deno.readTextFileSync(server.tlsCert)]
    : undefined;
  return probeReadiness(target, { caCerts });
}

/** GETs `url` and reports whether it answered 200; never throws for what the network does. */
export async function probeReadiness(url: URL, options: ProbeOptions = {}): Promise<Readiness> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Cannot probe readiness: the URL must be http or https, got "${url}"`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let conn: Deno.Conn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      // Closing the connection ends a read that waits for an answer.
      closeQuietly(conn);
      reject(new Error("timed out"));
    }, timeoutMs);
  });
  try {
    const exchange = (async () => {
      const connecting = connect(url, options.caCerts);
      // A connection that completes after the deadline is closed, not leaked.
      connecting.then((c) => timedOut && closeQuietly(c), () => {});
      conn = await connecting;
      return await get(conn, url);
    })();
    exchange.catch(() => {});
    const { status, body } = await Promise.race([exchange, deadline]);
    const detail = reasonOf(body);
    if (status === 200) return { ready: true, message: `${url} is ready` };
    return { ready: false, message: `${url} is not ready: ${status}${detail ? ` ${detail}` : ""}` };
  } catch (error) {
    const why = timedOut
      ? `no answer within ${timeoutMs} ms`
      : error instanceof Error
      ? error.message
      : String(error);
    return { ready: false, message: `${url} did not answer: ${why}` };
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

function connect(url: URL, caCerts: string[] | undefined): Promise<Deno.Conn> {
  // URL keeps IPv6 literals in brackets; the socket API wants them bare.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return url.protocol === "https:"
    ? Deno.connectTls({ hostname, port, caCerts })
    : Deno.connect({ hostname, port });
}

/** One GET on a fresh connection: the status and, when it is sized, the body's start. */
async function get(conn: Deno.Conn, url: URL): Promise<{ status: number; body: string }> {
  const request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `User-Agent: hookd-healthcheck\r\nAccept: application/json\r\nConnection: close\r\n\r\n`;
  await writeAll(conn, new TextEncoder().encode(request));
  const reader = new Http1Reader(conn);
  const head = await reader.head(MAX_HEAD_BYTES);
  if (head === null) throw new Error("the connection closed before a complete response head");
  if (head === "too-large") throw new Error(`the response head is over ${MAX_HEAD_BYTES} bytes`);
  const { startLine, fields } = splitHead(head);
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(startLine);
  if (status === null || fields === undefined) {
    throw new Error(`not a valid HTTP/1.1 response: ${JSON.stringify(startLine.slice(0, 40))}`);
  }
  // A sized body holds the reason; an unsized one is not needed.
  const length = contentLength(
    fields.filter(([name]) => name === "content-length").map(([, v]) => v),
  );
  const wanted = typeof length === "number" ? Math.min(length, MAX_BODY_BYTES) : 0;
  while (reader.buffered < wanted && await reader.fill()) { /* reading */ }
  const body = reader.buffer.subarray(
    reader.start,
    reader.start + Math.min(wanted, reader.buffered),
  );
  return { status: Number(status[1]), body: new TextDecoder().decode(body) };
}

/** The `reason` of hookd's `{status, reason}` answer, else the body's start. */
function reasonOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown };
    if (typeof parsed.reason === "string") return `(${parsed.reason})`;
  } catch { /* not JSON */ }
  return body.trim().slice(0, 200);
}
