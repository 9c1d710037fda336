/**
 * A small forward proxy for tests: listens on 127.0.0.1, records every
 * request head it gets (the CONNECT line and its headers), answers as the
 * test says, and for an accepted CONNECT pipes bytes both ways to the
 * target. It tunnels to loopback addresses only (anything else gets 403 and
 * no connection), so a test can never reach off the machine through it.
 *
 * @module
 */

import { closeQuietly, writeAll } from "../net/conn_io.ts";

/** One request head the proxy received. */
export interface ProxyRequest {
  /** The request line, e.g. `CONNECT 127.0.0.2:8443 HTTP/1.1`. */
  readonly line: string;
  readonly method: string;
  /** The request target: `host:port` for CONNECT. */
  readonly target: string;
  /** Header fields, names lowercased. */
  readonly headers: Readonly<Record<string, string>>;
}

/** How the proxy answers a request: a status (2xx opens the tunnel), or no answer at all. */
export type ProxyAnswer = number | "hang";

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every request head so far, in arrival order. */
  readonly requests: readonly ProxyRequest[];
  /** TCP connections accepted so far. */
  readonly connectionCount: number;
  /** Replaces how requests are answered; default: 200 for CONNECT, 405 for anything else. */
  answer(decide: (request: ProxyRequest) => ProxyAnswer): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]):(\d{1,5})$/;
const REASONS: Record<number, string> = {
  200: "Connection Established",
  403: "Forbidden",
  405: "Method Not Allowed",
  407: "Proxy Authentication Required",
  502: "Bad Gateway",
};

/** Reads through the blank line; the head's text and any bytes after it. */
async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array } | null> {
  let bytes = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  for (;;) {
    const text = new TextDecoder("latin1").decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return { head: text.slice(0, end), rest: bytes.subarray(end + 4) };
    const n = await conn.read(chunk);
    if (n === null) return null;
    const grown = new Uint8Array(bytes.length + n);
    grown.set(bytes);
    grown.set(chunk.subarray(0, n), bytes.length);
    bytes = grown;
  }
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) break;
      await writeAll(to, buffer.subarray(0, n));
    }
  } catch { /* either side closed */ }
  try {
    await (to as Deno.TcpConn).closeWrite();
  } catch { /* already closed */ }
}

/** Starts a proxy on 127.0.0.1 with an ephemeral port. */
export function startConnectProxy(): ConnectProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const requests: ProxyRequest[] = [];
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let connectionCount = 0;
  let decide = (request: ProxyRequest): ProxyAnswer => request.method === "CONNECT" ? 200 : 405;

  /** Serves one connection; true when it is to stay open, unanswered, until close(). */
  async function serve(client: Deno.Conn): Promise<boolean> {
    const read = await readHead(client).catch(() => null);
    if (read === null) return false;
    const [line = "", ...fieldLines] = read.head.split("\r\n");
    const [method = "", target = ""] = line.split(" ");
    const headers: Record<string, string> = {};
    for (const field of fieldLines) {
      const colon = field.indexOf(":");
      headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim();
    }
    const request = { line, method, target, headers };
    requests.push(request);
    const answer = decide(request);
    if (answer === "hang") return true;
    const match = LOOPBACK.exec(target);
    const status = answer >= 200 && answer <= 299 && (method !== "CONNECT" || match === null)
      ? 403
      : answer;
    const reason = REASONS[status] ?? "Status";
    if (status < 200 || status > 299) {
      await writeAll(
        client,
        new TextEncoder().encode(
          `HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
        ),
      ).catch(() => {});
      return false;
    }
    const hostname = match![1]!.replace(/^\[|\]$/g, "");
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname, port: Number(match![2]) });
    } catch {
      await writeAll(client, new TextEncoder().encode("HTTP/1.1 502 Bad Gateway\r\n\r\n"))
        .catch(() => {});
      return false;
    }
    conns.add(upstream);
    try {
      await writeAll(client, new TextEncoder().encode(`HTTP/1.1 ${status} ${reason}\r\n\r\n`));
      if (read.rest.length > 0) await writeAll(upstream, read.rest);
      await Promise.all([pump(client, upstream), pump(upstream, client)]);
    } catch {
      /* a side closed */
    } finally {
      conns.delete(upstream);
      closeQuietly(upstream);
    }
    return false;
  }

  const accepting = (async () => {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await listener.accept();
      } catch {
        return; // closed
      }
      connectionCount++;
      conns.add(client);
      const task = serve(client).catch(() => false).then((keep) => {
        if (keep) return;
        conns.delete(client);
        closeQuietly(client);
      });
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();

  let closed: Promise<void> | undefined;
  const proxy: ConnectProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get connectionCount() {
      return connectionCount;
    },
    answer(next) {
      decide = next;
    },
    close() {
      closed ??= (async () => {
        listener.close();
        await accepting;
        for (const conn of conns) closeQuietly(conn);
        conns.clear();
        await Promise.all([...tasks]);
      })();
      return closed;
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  return proxy;
}
