/** Starting hookd as a child for the benchmarks, and talking to its API. */
import { type Child, spawnChild } from "./child.ts";
import { V8_FLAGS_ARG } from "../deploy/v8_flags.ts";

export interface HookdOptions {
  /** Names the child in messages and its CPU profile. */
  readonly name: string;
  readonly dbPath: string;
  readonly adminKey: string;
  readonly root: string;
  /** A config file (`serve --config`); defaults otherwise. */
  readonly configPath?: string;
  /** More `HOOKD_*` variables. */
  readonly env?: Record<string, string>;
  /** Where to write a V8 CPU profile, if anywhere. */
  readonly profileDir?: string;
}

export function spawnHookd(options: HookdOptions): Promise<Child> {
  const prof = options.profileDir
    ? [
      `--cpu-prof`,
      `--cpu-prof-dir=${options.profileDir}`,
      `--cpu-prof-name=${options.name}.cpuprofile`,
    ]
    : [];
  const config = options.configPath ? ["--config", options.configPath] : [];
  return spawnChild({
    name: `hookd (${options.name})`,
    // The flags hookd runs with in production (deploy/v8_flags.ts).
    args: ["run", "-A", V8_FLAGS_ARG, ...prof, `${options.root}main.ts`, "serve", ...config],
    cwd: options.root,
    env: {
      HOOKD_SERVER_LISTEN: "127.0.0.1:0",
      HOOKD_STORE_URL: `file:${options.dbPath}`,
      HOOKD_ADMIN_KEY: options.adminKey,
      HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
      HOOKD_LOG_LEVEL: "warn",
      ...options.env,
    },
    listening: /hookd listening on (http:\/\/[^\s"]+)/,
  });
}

/** One API call with the admin key; throws unless the status is `expect`. */
export async function api<T = unknown>(
  origin: string,
  adminKey: string,
  method: string,
  path: string,
  body: unknown,
  expect: number,
): Promise<T> {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expect) {
    throw new Error(`${method} ${path}: expected ${expect}, got ${response.status} ${text}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Resident and peak memory of a process in MB, from /proc (NaN where
 * unavailable); `anonMb` is the anonymous part (heaps, native allocations),
 * the part that grows when memory leaks, as opposed to mapped files.
 */
export function memoryOf(pid: number): { rssMb: number; peakMb: number; anonMb: number } {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024, anonMb: kb("RssAnon") / 1024 };
  } catch {
    return { rssMb: NaN, peakMb: NaN, anonMb: NaN };
  }
}
