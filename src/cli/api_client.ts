/**
 * The operator commands' one way to the daemon: JSON over HTTP with the
 * bearer key, the API's error shape turned into errors with the exit code
 * they deserve, and list pages followed by `next_cursor`.
 *
 * Filter values (`--state`, `--since`, ...) are checked by the daemon, the
 * one home of those rules; a 400 names the API field, which maps back to the
 * flag the user typed, so a bad value is still a usage error naming its flag
 * and what is allowed, in the API's own words.
 */
import { VERSION } from "../version.ts";
import type { ApiTarget } from "./api_target.ts";
import { ApiRequestError, DaemonUnreachableError, UsageError } from "./errors.ts";

/** Items fetched per request while following a list: the API's default page size. */
const PAGE_SIZE = 100;

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | undefined>>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  /** API field → the flag that set it, e.g. `{event_type: "--event-type"}`. */
  readonly flags?: Readonly<Record<string, string>>;
}

interface Page<T> {
  readonly data: T[];
  readonly next_cursor: string | null;
}

export class ApiClient {
  constructor(
    readonly target: ApiTarget,
    private readonly fetchFn: typeof fetch,
    /** The command whose help a usage error points at. */
    private readonly command: string,
  ) {}

  /** The parsed JSON answer of a 2xx; throws the errors of `errors.ts` otherwise. */
  async request<T>(method: "GET" | "POST", path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(path.replace(/^\//, ""), this.target.base);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const headers = new Headers({
      authorization: `Bearer ${this.target.key}`,
      accept: "application/json",
      "user-agent": `hookd-cli/${VERSION}`,
    });
    if (options.body !== undefined) headers.set("content-type", "application/json");
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (error) {
      throw new DaemonUnreachableError(
        `cannot reach the daemon at ${shown(this.target.base)}: ${networkReason(error)}`,
      );
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // The daemon did answer: a replay, say, may have run. Not "unreachable".
      throw new ApiRequestError(
        response.status,
        "broken_answer",
        `the connection broke while the daemon answered ${method} ${shown(url)}: ${
          networkReason(error)
        }`,
      );
    }
    const json = parseJson(text);
    if (response.ok && json !== undefined) return json as T;
    if (response.ok) {
      throw new ApiRequestError(
        response.status,
        "not_json",
        `${method} ${shown(url)} answered ${response.status} with something other than JSON; ` +
          "is the URL a hookd daemon's?",
      );
    }
    throw this.#failure(response.status, json, options.flags ?? {});
  }

  /**
   * Follows a list's pages until `limit` items were handed to `each` (a page
   * at a time, so output can start before the last page arrives). `more`:
   * whether the list holds items beyond the limit.
   */
  async list<T>(
    path: string,
    options: RequestOptions & { readonly limit: number },
    each: (items: T[]) => void,
  ): Promise<{ more: boolean }> {
    let remaining = options.limit;
    let cursor: string | undefined;
    for (;;) {
      // One item past the limit tells whether more exist, without another request.
      const size = Math.min(remaining + 1, PAGE_SIZE);
      const page = await this.request<Page<T>>("GET", path, {
        ...options,
        query: { ...options.query, limit: String(size), cursor },
      });
      each(page.data.slice(0, remaining));
      if (page.data.length > remaining) return { more: true };
      remaining -= page.data.length;
      if (page.next_cursor === null || page.data.length === 0) return { more: false };
      cursor = page.next_cursor;
    }
  }

  #failure(status: number, json: unknown, flags: Readonly<Record<string, string>>): Error {
    const error = isErrorBody(json) ? json.error : undefined;
    if (!error) {
      return new ApiRequestError(status, `http_${status}`, `the daemon answered HTTP ${status}`);
    }
    const problems = fieldProblems(error.details);
    if (status === 400 && problems.length > 0 && problems.every((p) => p.field in flags)) {
      return new UsageError(
        problems.map((p) => `${flags[p.field]}: ${p.message}`).join("; "),
        this.command,
      );
    }
    return new ApiRequestError(
      status,
      error.code,
      error.message + formatDetails(error.message, error.details),
      error.details,
    );
  }
}

interface ErrorBody {
  readonly error: { code: string; message: string; details?: unknown };
}

function isErrorBody(json: unknown): json is ErrorBody {
  const error = (json as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  return typeof error?.code === "string" && typeof error?.message === "string";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** A 400's `[{field, message}]`, or none when `details` is something else. */
function fieldProblems(details: unknown): FieldProblem[] {
  if (!Array.isArray(details)) return [];
  const problems = details.filter((d): d is FieldProblem =>
    typeof d?.field === "string" && typeof d?.message === "string"
  );
  return problems.length === details.length ? problems : [];
}

/** `details` as indented lines under the message, leaving out what the message already says. */
function formatDetails(message: string, details: unknown): string {
  if (details === null || details === undefined) return "";
  const problems = fieldProblems(details);
  let lines: string[];
  if (problems.length > 0) {
    lines = problems.map((p) => `${p.field}: ${p.message}`);
  } else if (typeof details === "object" && !Array.isArray(details)) {
    lines = Object.entries(details).map(([name, value]) =>
      `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`
    );
  } else {
    lines = [`details: ${JSON.stringify(details)}`];
  }
  return lines.filter((line) => !message.includes(line)).map((line) => `\n  ${line}`).join("");
}

/** A URL as it may be printed: no user name or password, no query. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Deno's fetch says "fetch failed" and keeps the reason in `cause`, prefixed
 * with the whole request URL; the reason alone is what helps.
 */
function networkReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^client error \(\w+\): /, "");
}
