import { z } from "zod";
import { describe } from "./_util.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { formatSize, parseSize } from "./size.ts";
import { formatCidr, parseCidr } from "../net/ip.ts";
import { parseProxyUrl, type ProxyEndpoint } from "../net/proxy_endpoint.ts";
import type { KeyPath } from "./locate.ts";

/** How a `HOOKD_*` string becomes a TOML-like value before a field parses it. */
export type EnvKind = "string" | "boolean" | "integer";

/** Fields whose variables are not plain strings; every other field reads the string. */
const ENV_KINDS = z.registry<{ readonly env: Exclude<EnvKind, "string"> }>();

/** How a `HOOKD_*` variable for `field` is converted (booleans from true/false/1/0, …). */
export function envKind(field: z.ZodType): EnvKind {
  return ENV_KINDS.get(field)?.env ?? "string";
}

/** The message of a parser's error without the "Cannot parse duration: " prefix of std style. */
export function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cannot parse \w+: /, "");
}

/** An "expected …, got …" message for any value a field rejects. */
function expected(what: string) {
  return {
    error: (issue: { readonly input?: unknown }) =>
      `expected ${what}, got ${describe(issue.input)}`,
  };
}

/**
 * `schema`, then `convert`: a `TypeError` or `RangeError` that `convert`
 * throws becomes the problem's message (the parsers of durations, sizes and
 * the like throw std-style errors that say what is allowed).
 */
export function converted<I, O>(schema: z.ZodType<I>, convert: (value: I) => O) {
  return schema.transform((value, ctx): O => {
    try {
      return convert(value);
    } catch (error) {
      // Anything else is a bug, not a problem with the value.
      if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
      ctx.issues.push({ code: "custom", message: reason(error), input: value });
      return z.NEVER;
    }
  });
}

/** Reports a problem at `path` below the value being walked. */
export type Report = (path: KeyPath, message: string) => void;

/**
 * A free-form value (header tables, body envelopes) checked by `walk`, which
 * may report problems at any path below it, and returns undefined only after
 * reporting one; the value counts only when nothing was reported.
 */
export function walked<T>(walk: (raw: unknown, report: Report) => T | undefined) {
  return z.unknown().transform((raw, ctx): T => {
    let ok = true;
    const value = walk(raw, (path, message) => {
      ok = false;
      ctx.issues.push({ code: "custom", path: [...path], message, input: raw });
    });
    if (!ok) return z.NEVER;
    if (value === undefined) throw new Error("walk returned no value and reported nothing");
    return value;
  });
}

/** Any string. */
export function stringField() {
  return z.string(expected("a string"));
}

/** `true` or `false`; from a `HOOKD_*` variable also `1`/`0`. */
export function booleanField() {
  return z.boolean(expected("true or false")).register(ENV_KINDS, { env: "boolean" });
}

/** A whole number from `min` to `max` inclusive. */
export function integerField(min: number, max: number) {
  const range = expected(`an integer from ${min} to ${max}`);
  return z.number(range)
    .refine((n) => Number.isInteger(n) && n >= min && n <= max, range)
    .register(ENV_KINDS, { env: "integer" });
}

/** A number (integer or float) from `min` to `max` inclusive. */
export function numberField(min: number, max: number) {
  const range = expected(`a number from ${min} to ${max}`);
  return z.number(range).refine((n) => n >= min && n <= max, range);
}

/** A duration string, resolved to ms, from `minMs` to `maxMs` inclusive. */
export function durationField(minMs: number, maxMs: number) {
  const range = `from "${formatDuration(minMs)}" to "${formatDuration(maxMs)}"`;
  return converted(z.string(expected('a duration such as "5s" or "1h30m"')), (text) => {
    const ms = parseDuration(text);
    if (ms < minMs || ms > maxMs) {
      throw new RangeError(`expected a duration ${range}, got ${describe(text)}`);
    }
    return ms;
  });
}

/**
 * A duration resolved to ms, from `minMs` to `maxMs` inclusive, or `"never"`
 * (null) to switch off what it times; `example` shows a typical value.
 */
export function durationOrNeverField(minMs: number, maxMs: number, example = "5d") {
  const what = `a duration such as "${example}"`;
  return converted(
    z.string({ error: (issue) => `expected ${what}, or "never", got ${describe(issue.input)}` }),
    (text) => {
      if (text === "never") return null;
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch {
        throw new TypeError(`expected ${what}, or "never", got "${text}"`);
      }
      if (ms < minMs || ms > maxMs) {
        throw new RangeError(
          `expected a duration from "${formatDuration(minMs)}" to "${
            formatDuration(maxMs)
          }", or "never", got "${text}"`,
        );
      }
      return ms;
    },
  );
}

/** A size string or integer, resolved to bytes, from `min` to `max` inclusive. */
export function sizeField(min: number, max: number) {
  const range = `from "${formatSize(min)}" to "${formatSize(max)}"`;
  const sizeLike = z.custom<string | number>(
    (raw) => typeof raw === "string" || typeof raw === "number",
    expected('a size such as "4KiB" or "1MiB"'),
  );
  return converted(sizeLike, (raw) => {
    const bytes = parseSize(raw);
    if (bytes < min || bytes > max) {
      throw new RangeError(`expected a size ${range}, got ${describe(raw)}`);
    }
    return bytes;
  });
}

/**
 * A list of CIDR ranges such as `["10.1.0.0/16", "fd00::/8"]`, normalised
 * (`"10.1.0.0/16"`); from a `HOOKD_*` variable, comma-separated.
 */
export function cidrListField() {
  const listLike = z.custom<string | unknown[]>(
    (raw) => typeof raw === "string" || Array.isArray(raw),
    expected('a list of CIDR ranges such as ["10.1.0.0/16"]'),
  );
  return converted(listLike, (raw) => {
    const items = typeof raw === "string"
      ? raw.split(",").map((part) => part.trim()).filter((part) => part !== "")
      : raw;
    return items.map((item, index) => {
      if (typeof item !== "string") {
        throw new TypeError(`entry ${index + 1}: expected a CIDR string, got ${describe(item)}`);
      }
      try {
        return formatCidr(parseCidr(item));
      } catch (error) {
        throw new TypeError(
          `entry ${index + 1}: ${reason(error)} (write e.g. "10.1.0.0/16" or "fd00::/8")`,
        );
      }
    });
  });
}

/** `true`, `false` or `"auto"`; from a `HOOKD_*` variable also `1`/`0`. */
export function autoBooleanField() {
  return converted(z.unknown(), (raw): boolean | "auto" => {
    if (raw === true || raw === "true" || raw === "1") return true;
    if (raw === false || raw === "false" || raw === "0") return false;
    if (raw === "auto") return "auto";
    throw new TypeError(`expected true, false or "auto", got ${describe(raw)}`);
  });
}

/** One of a fixed set of strings. */
export function oneOfField<const T extends string>(values: readonly [T, ...T[]]) {
  return z.enum(values, expected(`one of ${values.map((v) => JSON.stringify(v)).join(", ")}`));
}

/** A listen address split into the parts `Deno.serve` takes. */
export interface ListenAddress {
  readonly listen: string;
  readonly hostname: string;
  readonly port: number;
}

const IPV6 = /^\[([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)\]:(\d{1,5})$/;
const HOST_PORT = /^([^:[\]]+):(\d{1,5})$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function validHost(host: string): boolean {
  if (IPV4.test(host)) return host.split(".").every((octet) => Number(octet) <= 255);
  if (/^[\d.]+$/.test(host)) return false;
  return host.length <= 253 && host.split(".").every((label) => LABEL.test(label));
}

/** `"host:port"`: an IPv4 address, hostname or bracketed IPv6 address; port 0–65535. */
export function listenField() {
  const allowed = 'expected "host:port" with port 0-65535 (e.g. "127.0.0.1:8787", "[::1]:8787")';
  return converted(
    z.string({ error: (issue) => `${allowed}, got ${describe(issue.input)}` }),
    (raw) => {
      const v6 = IPV6.exec(raw);
      const match = v6 ?? HOST_PORT.exec(raw);
      const hostname = match?.[1] ?? "";
      const port = Number(match?.[2]);
      if (match === null || port > 65535 || (v6 === null && !validHost(hostname))) {
        throw new TypeError(`${allowed}, got ${describe(raw)}`);
      }
      return { listen: raw, hostname, port } satisfies ListenAddress;
    },
  );
}

const STORE_SCHEMES = ["libsql:", "http:", "https:", "ws:", "wss:"];

/** A libSQL URL: `file:PATH`, or `libsql:`, `http(s):`, `ws(s):` URLs of sqld / Turso. */
export function storeUrlField() {
  const what = "a URL starting with file:, libsql://, http://, https://, ws:// or wss://";
  return converted(z.string(expected(what)), (raw) => {
    const allowed = `expected ${what}, got ${describe(raw)}`;
    if (raw.startsWith("file:")) {
      if (raw.length === "file:".length) {
        throw new TypeError(`expected a path after "file:" (e.g. "file:data/hookd.db")`);
      }
      return raw;
    }
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new TypeError(allowed);
    }
    if (!STORE_SCHEMES.includes(url.protocol)) throw new TypeError(allowed);
    if (url.hostname === "") throw new TypeError(`expected a host in ${describe(raw)}`);
    return raw;
  });
}

/**
 * A forward proxy URL, `http://[user:password@]host:port`, or `""` (null) for
 * none. Messages never repeat the credentials.
 */
export function proxyField() {
  return converted(
    z.string(expected('a proxy URL such as "http://proxy.internal:3128", or ""')),
    (text): ProxyEndpoint | null => text === "" ? null : parseProxyUrl(text),
  );
}

/** What a webhook's `proxy` names to bypass every proxy; no named proxy may take it. */
export const DIRECT_PROXY = "direct";

const PROXY_NAME = /^[a-z0-9_-]{1,64}$/;

const PROXIES_EXAMPLE = '{ eu = "http://10.0.0.2:3128" }';

/** `[name, url]` pairs from a TOML table or a `NAME=URL,…` variable. */
function proxyEntries(raw: unknown): [string, unknown][] {
  if (typeof raw === "string") {
    return raw.split(",").map((part) => part.trim()).filter((part) => part !== "").map((part) => {
      const eq = part.indexOf("=");
      if (eq < 0) throw new TypeError('expected NAME=URL pairs such as "eu=http://10.0.0.2:3128"');
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError(
      `expected a table of proxy URLs such as ${PROXIES_EXAMPLE}, got ${describe(raw)}`,
    );
  }
  return Object.entries(raw);
}

/**
 * Named forward proxies, `{ NAME = "http://…", … }`; from a `HOOKD_*`
 * variable, `NAME=URL` pairs separated by commas.
 */
export function proxiesField() {
  return converted(z.unknown(), (raw) => {
    const out: Record<string, ProxyEndpoint> = {};
    for (const [name, url] of proxyEntries(raw)) {
      if (!PROXY_NAME.test(name) || name === DIRECT_PROXY) {
        throw new TypeError(
          `proxy names are 1-64 of a-z, 0-9, "_" and "-", and not "${DIRECT_PROXY}", got ${
            JSON.stringify(name)
          }`,
        );
      }
      if (typeof url !== "string") {
        throw new TypeError(`proxy "${name}": expected a URL string, got ${describe(url)}`);
      }
      try {
        out[name] = parseProxyUrl(url);
      } catch (error) {
        throw new TypeError(`proxy "${name}": ${reason(error)}`);
      }
    }
    return out;
  });
}
