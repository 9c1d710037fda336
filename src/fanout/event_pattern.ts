/**
 * Event type patterns a webhook subscribes with: an exact type
 * (`order.created`), a prefix wildcard (`order.*`, matching every type that
 * starts with `order.`, at any depth) or `*` for every type.
 */

/**
 * The namespace of hookd's own operational events (`hookd.webhook.disabled`,
 * …). Producers may not post types in it, and only patterns that name it
 * (`hookd.*`, `hookd.webhook.disabled`) match them: a `*` subscriber keeps
 * receiving exactly the application's events.
 */
export const OPERATIONAL_PREFIX = "hookd.";

/** Characters an event type may contain; also what `EVENT_TYPE` validates. */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9._:-]{1,255}$/;

/** Why `pattern` is not a valid subscription pattern, or undefined when it is. */
export function eventPatternProblem(pattern: string): string | undefined {
  if (pattern === "*") return undefined;
  const exact = pattern.endsWith(".*") ? pattern.slice(0, -2) : pattern;
  if (exact.length === 0 || !EVENT_TYPE_PATTERN.test(exact)) {
    return `expected an event type of 1-255 characters [A-Za-z0-9._:-], ` +
      `a prefix pattern such as "order.*", or "*", got ${JSON.stringify(pattern)}`;
  }
  return undefined;
}

/** A compiled set of patterns: one Set lookup for exact types, a short scan for prefixes. */
export class EventPatternSet {
  readonly #all: boolean;
  readonly #exact: Set<string>;
  readonly #prefixes: string[];

  constructor(patterns: readonly string[]) {
    this.#all = patterns.includes("*");
    this.#exact = new Set(patterns.filter((p) => p !== "*" && !p.endsWith(".*")));
    // Keep the trailing dot so `order.*` does not match `orders.created`.
    this.#prefixes = patterns.filter((p) => p.endsWith(".*")).map((p) => p.slice(0, -1));
  }

  matches(type: string): boolean {
    if (this.#exact.has(type)) return true;
    if (this.#all && !type.startsWith(OPERATIONAL_PREFIX)) return true;
    for (const prefix of this.#prefixes) {
      if (type.startsWith(prefix)) return true;
    }
    return false;
  }
}
