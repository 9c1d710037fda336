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
import type { ServerConfig } from "../config/types.ts";

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
/** A `/readyz` answer is a few hundred bytes; anything past this is not read. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * The `/readyz` URL of the daemon that `server` configures, as seen from the
 * same host: a wildcard listen address (0.0.0.0, ::) is probed on loopback,
 * https when the API serves TLS.
 */
export function readinessUrl(server: Pick<ServerConfig, "hostname" | "port" | "tlsCert">): URL {
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
  server: Pick<ServerConfig, "hostname" | "port" | "tlsCert">,
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
      try {
        conn?.close();
      } catch { /* closed already */ }
      reject(new Error("timed out"));
    }, timeoutMs);
  });
  try {
    const exchange = (async () => {
      const connecting = connect(url, options.caCerts);
      // A connection that completes after the deadline is closed, not leaked.
      connecting.then((c) => timedOut && c.close(), () => {});
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
    try {
      conn?.close();
    } catch { /* closed already */ }
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

/** One GET on a fresh connection: the status and, when it is sized, the body. */
async function get(conn: Deno.Conn, url: URL): Promise<{ status: number; body: string }> {
  const request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `User-Agent: hookd-healthcheck\r\nAccept: application/json\r\nConnection: close\r\n\r\n`;
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(MAX_RESPONSE_BYTES);
  let length = 0;
  let head: { status: number; bodyStart: number; bodyEnd: number } | undefined;
  // Until the head is in, then until a sized body is (it holds the reason);
  // an unsized body is not needed.
  while (head === undefined || length < head.bodyEnd) {
    const read = length < buffer.length ? await conn.read(buffer.subarray(length)) : null;
    if (read === null) break;
    length += read;
    head ??= parseHead(buffer.subarray(0, length));
  }
  if (head === undefined) {
    throw new Error(
      length === buffer.length
        ? `the response head is larger than ${MAX_RESPONSE_BYTES} bytes`
        : "the connection closed before a complete response head",
    );
  }
  const body = buffer.subarray(head.bodyStart, Math.min(length, head.bodyEnd));
  return { status: head.status, body: new TextDecoder().decode(body) };
}

/** The status and body bounds of a complete response head in `bytes`, else undefined. */
function parseHead(
  bytes: Uint8Array,
): { status: number; bodyStart: number; bodyEnd: number } | undefined {
  const text = new TextDecoder("latin1").decode(bytes);
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const head = text.slice(0, headEnd);
  const status = /^HTTP\/1\.[01] (\d{3})(?: |\r|$)/.exec(head);
  if (!status) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(head.slice(0, 40))}`);
  const size = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const bodyStart = headEnd + 4;
  return { status: Number(status[1]), bodyStart, bodyEnd: bodyStart + Number(size?.[1] ?? 0) };
}

/** The `reason` of hookd's `{status, reason}` answer, else the body's start. */
function reasonOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown };
    if (typeof parsed.reason === "string") return `(${parsed.reason})`;
  } catch { /* not JSON */ }
  return body.trim().slice(0, 200);
}
