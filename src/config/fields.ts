import { describe } from "./_util.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { formatSize, parseSize } from "./size.ts";
import { formatCidr, parseCidr } from "../delivery/ssrf/ip.ts";

/**
 * How one config value is checked and converted. `parse` receives the raw TOML
 * value (or the environment string after `env` conversion) and returns the
 * resolved value, or throws a `TypeError`/`RangeError` whose message says what
 * is allowed and quotes what was given.
 */
export interface Field<T> {
  /** How a `HOOKD_*` string becomes a TOML-like value before `parse`. */
  readonly env: "string" | "boolean" | "integer";
  readonly parse: (raw: unknown) => T;
}

/** Removes the "Cannot parse duration: " prefix from the std-style messages. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cannot parse \w+: /, "");
}

export function stringField(): Field<string> {
  return {
    env: "string",
    parse(raw) {
      if (typeof raw !== "string") throw new TypeError(`expected a string, got ${describe(raw)}`);
      return raw;
    },
  };
}

export function booleanField(): Field<boolean> {
  return {
    env: "boolean",
    parse(raw) {
      if (typeof raw !== "boolean") {
        throw new TypeError(`expected true or false, got ${describe(raw)}`);
      }
      return raw;
    },
  };
}

/** A whole number from `min` to `max` inclusive. */
export function integerField(min: number, max: number): Field<number> {
  return {
    env: "integer",
    parse(raw) {
      if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
        throw new RangeError(`expected an integer from ${min} to ${max}, got ${describe(raw)}`);
      }
      return raw;
    },
  };
}

/** A number (integer or float) from `min` to `max` inclusive. */
export function numberField(min: number, max: number): Field<number> {
  return {
    env: "string",
    parse(raw) {
      if (typeof raw !== "number" || !Number.isFinite(raw) || raw < min || raw > max) {
        throw new RangeError(`expected a number from ${min} to ${max}, got ${describe(raw)}`);
      }
      return raw;
    },
  };
}

/** A duration string, resolved to ms, from `minMs` to `maxMs` inclusive. */
export function durationField(minMs: number, maxMs: number): Field<number> {
  const range = `from "${formatDuration(minMs)}" to "${formatDuration(maxMs)}"`;
  return {
    env: "string",
    parse(raw) {
      if (typeof raw !== "string") {
        throw new TypeError(`expected a duration such as "5s" or "1h30m", got ${describe(raw)}`);
      }
      let ms: number;
      try {
        ms = parseDuration(raw);
      } catch (error) {
        throw new TypeError(reason(error));
      }
      if (ms < minMs || ms > maxMs) {
        throw new RangeError(`expected a duration ${range}, got ${describe(raw)}`);
      }
      return ms;
    },
  };
}

/** A size string or integer, resolved to bytes, from `min` to `max` inclusive. */
export function sizeField(min: number, max: number): Field<number> {
  const range = `from "${formatSize(min)}" to "${formatSize(max)}"`;
  return {
    env: "string",
    parse(raw) {
      if (typeof raw !== "string" && typeof raw !== "number") {
        throw new TypeError(`expected a size such as "4KiB" or "1MiB", got ${describe(raw)}`);
      }
      let bytes: number;
      try {
        bytes = parseSize(raw);
      } catch (error) {
        throw new TypeError(reason(error));
      }
      if (bytes < min || bytes > max) {
        throw new RangeError(`expected a size ${range}, got ${describe(raw)}`);
      }
      return bytes;
    },
  };
}

/**
 * A list of CIDR ranges such as `["10.1.0.0/16", "fd00::/8"]`, normalised
 * (`"10.1.0.0/16"`); from a `HOOKD_*` variable, comma-separated.
 */
export function cidrListField(): Field<string[]> {
  return {
    env: "string",
    parse(raw) {
      const items = typeof raw === "string"
        ? raw.split(",").map((part) => part.trim()).filter((part) => part !== "")
        : raw;
      if (!Array.isArray(items)) {
        throw new TypeError(
          `expected a list of CIDR ranges such as ["10.1.0.0/16"], got ${describe(raw)}`,
        );
      }
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
    },
  };
}

/** `true`, `false` or `"auto"`; from a `HOOKD_*` variable also `1`/`0`. */
export function autoBooleanField(): Field<boolean | "auto"> {
  return {
    env: "string",
    parse(raw) {
      if (raw === true || raw === "true" || raw === "1") return true;
      if (raw === false || raw === "false" || raw === "0") return false;
      if (raw === "auto") return "auto";
      throw new TypeError(`expected true, false or "auto", got ${describe(raw)}`);
    },
  };
}

/** One of a fixed set of strings. */
export function oneOfField<const T extends string>(values: readonly T[]): Field<T> {
  const allowed = values.map((value) => JSON.stringify(value)).join(", ");
  return {
    env: "string",
    parse(raw) {
      if (typeof raw !== "string" || !(values as readonly string[]).includes(raw)) {
        throw new TypeError(`expected one of ${allowed}, got ${describe(raw)}`);
      }
      return raw as T;
    },
  };
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
export function listenField(): Field<ListenAddress> {
  return {
    env: "string",
    parse(raw) {
      const fail = () =>
        new TypeError(
          `expected "host:port" with port 0-65535 (e.g. "127.0.0.1:8787", "[::1]:8787"), ` +
            `got ${describe(raw)}`,
        );
      if (typeof raw !== "string") throw fail();
      const v6 = IPV6.exec(raw);
      const match = v6 ?? HOST_PORT.exec(raw);
      const hostname = match?.[1] ?? "";
      const port = Number(match?.[2]);
      if (match === null || port > 65535 || (v6 === null && !validHost(hostname))) throw fail();
      return { listen: raw, hostname, port };
    },
  };
}

const STORE_SCHEMES = ["libsql:", "http:", "https:", "ws:", "wss:"];

/** A libSQL URL: `file:PATH`, or `libsql:`, `http(s):`, `ws(s):` URLs of sqld / Turso. */
export function storeUrlField(): Field<string> {
  return {
    env: "string",
    parse(raw) {
      const allowed = `expected a URL starting with file:, libsql://, http://, https://, ws:// ` +
        `or wss://, got ${describe(raw)}`;
      if (typeof raw !== "string") throw new TypeError(allowed);
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
    },
  };
}
