/**
 * Black-box harness: runs the real `main.ts` as a child process, the way an
 * operator would, and keeps everything it prints so a failing test can show it.
 * Waits are bounded and driven by what the child does (its listen line, its
 * exit), never by sleeping.
 */
import { V8_FLAGS_ARG } from "../deploy/v8_flags.ts";

const REPO = new URL("../", import.meta.url);
/** Absolute path of the CLI entry point. */
export const MAIN = new URL("main.ts", REPO).pathname;
/** The repo's deno.json, passed explicitly because the child runs in a temp cwd. */
const DENO_CONFIG = new URL("deno.json", REPO).pathname;
/** Generous: a cold start loads npm modules and the store worker. */
const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_EXIT_TIMEOUT_MS = 20_000;

export interface SpawnOptions {
  /** HOOKD_* variables and the like for the child; the parent's HOOKD_* never leak in. */
  readonly env?: Record<string, string>;
  /** Arguments after `main.ts`. */
  readonly args?: string[];
  /** Working directory of the child (a temp dir). */
  readonly dir: string;
}

/**
 * What most black-box tests start hookd with: the API on a free loopback
 * port, the database in `dir`, `adminKey` as the admin key, and receivers on
 * 127.0.0.1 allowed (the SSRF guard refuses private addresses by default, and
 * every test receiver is local). `extra` adds to it or overrides it.
 */
export function daemonEnv(
  dir: string,
  adminKey: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HOOKD_SERVER_LISTEN: "127.0.0.1:0",
    HOOKD_STORE_URL: `file:${dir}/hookd.db`,
    HOOKD_ADMIN_KEY: adminKey,
    HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
    ...extra,
  };
}

/** The environment for a child: the parent's minus every HOOKD_* variable, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (!name.startsWith("HOOKD_")) env[name] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

function command(options: SpawnOptions, stdin: "null" | "piped" = "null"): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    // --no-lock: the test runner already checked the lock; children that start
    // concurrently must never rewrite deno.lock. The V8 flags production runs with.
    args: [
      "run",
      "-A",
      V8_FLAGS_ARG,
      "--config",
      DENO_CONFIG,
      "--no-lock",
      MAIN,
      ...(options.args ?? []),
    ],
    cwd: options.dir,
    env: childEnv(options.env),
    clearEnv: true,
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * The address from the daemon's listen line: a JSON log line whose `url` the
 * daemon listens on. Only complete lines count (the pipe may split one).
 */
function listenUrl(stdout: string): string | undefined {
  for (const entry of logLines(stdout.slice(0, stdout.lastIndexOf("\n") + 1))) {
    if (typeof entry.msg === "string" && entry.msg.startsWith("hookd listening on ")) {
      return String(entry.url);
    }
  }
  return undefined;
}

/** The JSON log lines in `text` (the daemon's stdout), parsed; other lines are skipped. */
export function logLines(text: string): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      entries.push(JSON.parse(line));
    } catch {
      // A line cut off by a kill: not a log entry.
    }
  }
  return entries;
}

/** Collects a stream's text as it arrives; `onText` sees the whole text so far. */
function collect(
  stream: ReadableStream<Uint8Array>,
  onText: (all: string) => void = () => {},
): { text(): string; done: Promise<void> } {
  let all = "";
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      all += chunk;
      onText(all);
    }
  })();
  return { text: () => all, done };
}

/** Resolves with `promise`, or rejects with `message()` after `ms`; never leaves a timer behind. */
async function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Everything the child printed, for assertion messages. */
  readonly output: string;
}

function describeOutput(stdout: string, stderr: string): string {
  return `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}\n--------------`;
}

/**
 * Runs a command of the CLI to completion (`check-config`, `keys create`,
 * `version`, or a `serve` that is expected to fail), bounded in time.
 */
export async function runCli(options: SpawnOptions): Promise<CliResult> {
  const child = command(options).spawn();
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  try {
    const status = await within(
      child.status,
      DEFAULT_EXIT_TIMEOUT_MS,
      () =>
        `hookd ${
          (options.args ?? []).join(" ")
        } did not exit within ${DEFAULT_EXIT_TIMEOUT_MS} ms` +
        describeOutput(stdout.text(), stderr.text()),
    );
    await Promise.all([stdout.done, stderr.done]);
    return {
      code: status.code,
      stdout: stdout.text(),
      stderr: stderr.text(),
      output: describeOutput(stdout.text(), stderr.text()),
    };
  } finally {
    killQuietly(child);
    await child.status;
    await Promise.allSettled([stdout.done, stderr.done]);
  }
}

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal = "SIGKILL"): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}

export interface RunningDaemon {
  /** Base URL of the management API, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly process: Deno.ChildProcess;
  /**
   * Sends `signal` and waits for the exit, at most `timeoutMs` (default 20 s);
   * returns the exit code. Idempotent: later calls return the first call's result.
   */
  stop(signal?: Deno.Signal, timeoutMs?: number): Promise<number>;
  /** Kills the child if it still runs and waits for it; for `finally`. */
  kill(): Promise<void>;
  /** Everything printed so far, formatted for an assertion message. */
  output(): string;
  stdout(): string;
  stderr(): string;
}

/**
 * Starts `main.ts serve` and resolves once it printed its listen line.
 * Rejects, with everything the child printed, when the child exits first or
 * the line does not come in time; the child is killed in that case.
 */
export async function startDaemon(options: SpawnOptions): Promise<RunningDaemon> {
  const child = command({ ...options, args: ["serve", ...(options.args ?? [])] }).spawn();
  const listening = Promise.withResolvers<string>();
  let found = false;
  const stdout = collect(child.stdout, (all) => {
    if (found) return;
    const url = listenUrl(all);
    if (url !== undefined) {
      found = true;
      listening.resolve(url);
    }
  });
  const stderr = collect(child.stderr);
  const output = () => describeOutput(stdout.text(), stderr.text());

  let exitCode: Promise<number> | undefined;
  const kill = async () => {
    killQuietly(child);
    await child.status;
    await Promise.allSettled([stdout.done, stderr.done]);
  };

  let url: string;
  try {
    url = await within(
      Promise.race([
        listening.promise,
        child.status.then(async (status) => {
          // Let the pipes drain so the message shows everything the child said.
          await Promise.allSettled([stdout.done, stderr.done]);
          throw new Error(
            `hookd serve exited with code ${status.code} before listening${output()}`,
          );
        }),
      ]),
      DEFAULT_START_TIMEOUT_MS,
      () =>
        `hookd serve did not print its listen line within ${DEFAULT_START_TIMEOUT_MS} ms${output()}`,
    );
  } catch (error) {
    await kill();
    throw error;
  }

  return {
    url,
    process: child,
    stop(signal: Deno.Signal = "SIGTERM", timeoutMs = DEFAULT_EXIT_TIMEOUT_MS) {
      exitCode ??= (async () => {
        killQuietly(child, signal);
        try {
          const status = await within(
            child.status,
            timeoutMs,
            () => `hookd did not exit within ${timeoutMs} ms of ${signal}${output()}`,
          );
          await Promise.all([stdout.done, stderr.done]);
          return status.code;
        } catch (error) {
          await kill();
          throw error;
        }
      })();
      return exitCode;
    },
    kill,
    output,
    stdout: () => stdout.text(),
    stderr: () => stderr.text(),
  };
}

/**
 * A JSON API call against a running daemon; returns the status, headers and
 * parsed body. `T` is the shape the test expects, unchecked: assertions check it.
 */
export async function api<T = unknown>(
  daemon: { url: string },
  method: string,
  path: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: T }> {
  const headers = new Headers(options.headers);
  if (options.key !== undefined) headers.set("authorization", `Bearer ${options.key}`);
  if (options.body !== undefined) headers.set("content-type", "application/json");
  const response = await fetch(new URL(path, daemon.url), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get("content-type") ?? "").includes("json") && text !== "") {
    body = JSON.parse(text);
  }
  return { status: response.status, headers: response.headers, body: body as T };
}
