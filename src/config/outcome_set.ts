/** A set of outcomes, parsed from tokens such as "2xx", "200", "200-399", "network". */
export interface OutcomeSet {
  /** Inclusive status ranges; "404" is [404, 404], "5xx" is [500, 599]. */
  readonly statuses: readonly (readonly [number, number])[];
  /** "any": every status and every transport failure. */
  readonly any: boolean;
  /** "network": dns, connect, tls, reset, blocked and proxy failures. */
  readonly network: boolean;
  /** "timeout": no response within the policy's timeout. */
  readonly timeout: boolean;
  /** "auth": hookd could not get an OAuth2 token for the receiver (its token endpoint failed). */
  readonly auth: boolean;
}

/** One parsed token of a `success`, `retry` or `final` list. */
export type OutcomeToken =
  | { readonly kind: "any" | "network" | "timeout" | "auth" }
  | { readonly kind: "status"; readonly range: readonly [number, number] };

const STATUS = /^\d{3}$/;
const CLASS = /^([1-5])xx$/;
const RANGE = /^(\d{3})-(\d{3})$/;

function status(text: string, token: string): number {
  const code = Number(text);
  if (code < 100 || code > 599) {
    throw new RangeError(
      `Cannot parse outcome: statuses must be from 100 to 599, got ${JSON.stringify(token)}`,
    );
  }
  return code;
}

/**
 * Parses one outcome token: `"any"`, `"network"`, `"timeout"`, `"auth"`, a status
 * (`"404"`), a class (`"5xx"`) or an inclusive range (`"200-399"`).
 *
 * @throws {TypeError} for anything else.
 * @throws {RangeError} for a status outside 100–599 or a range with low > high.
 */
export function parseOutcomeToken(token: string): OutcomeToken {
  if (token === "any" || token === "network" || token === "timeout" || token === "auth") {
    return { kind: token };
  }
  if (typeof token === "string") {
    if (STATUS.test(token)) {
      const code = status(token, token);
      return { kind: "status", range: [code, code] };
    }
    const cls = CLASS.exec(token);
    if (cls !== null) {
      const base = Number(cls[1]) * 100;
      return { kind: "status", range: [base, base + 99] };
    }
    const range = RANGE.exec(token);
    if (range !== null) {
      const low = status(range[1] ?? "", token);
      const high = status(range[2] ?? "", token);
      if (low > high) {
        throw new RangeError(
          `Cannot parse outcome: a range must not end below its start, got ${
            JSON.stringify(token)
          }`,
        );
      }
      return { kind: "status", range: [low, high] };
    }
  }
  throw new TypeError(
    `Cannot parse outcome: expected "any", "network", "timeout", "auth", a status ("404"), ` +
      `a class ("5xx") or a range ("200-399"), got ${JSON.stringify(token)}`,
  );
}

/** Builds an `OutcomeSet` from parsed tokens, statuses in the order given. */
export function toOutcomeSet(tokens: readonly OutcomeToken[]): OutcomeSet {
  const statuses: (readonly [number, number])[] = [];
  let any = false, network = false, timeout = false, auth = false;
  for (const token of tokens) {
    if (token.kind === "status") statuses.push(token.range);
    else if (token.kind === "any") any = true;
    else if (token.kind === "network") network = true;
    else if (token.kind === "auth") auth = true;
    else timeout = true;
  }
  return { statuses, any, network, timeout, auth };
}

/**
 * Parses a whole token list, e.g. `["408", "429", "5xx", "network"]`.
 *
 * @throws {TypeError | RangeError} on the first bad token, as `parseOutcomeToken`.
 */
export function parseOutcomeSet(tokens: readonly string[]): OutcomeSet {
  return toOutcomeSet(tokens.map(parseOutcomeToken));
}

/** Renders a set back to tokens: statuses first, then network, timeout, auth, any. */
export function formatOutcomeSet(set: OutcomeSet): string[] {
  const tokens = set.statuses.map(([low, high]) => {
    if (low === high) return String(low);
    if (low % 100 === 0 && high === low + 99) return `${low / 100}xx`;
    return `${low}-${high}`;
  });
  if (set.network) tokens.push("network");
  if (set.timeout) tokens.push("timeout");
  if (set.auth) tokens.push("auth");
  if (set.any) tokens.push("any");
  return tokens;
}
