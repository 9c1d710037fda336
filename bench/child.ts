/**
 * Child processes for the bench: the daemon and the bare server. Each is
 * started with a clean `HOOKD_*` environment, found by the "listening on"
 * line it prints, and its output is kept so a failure can show it.
 */

export interface Child {
  readonly name: string;
  readonly origin: string;
  readonly pid: number;
  /** Everything the child wrote so far (stdout and stderr), for error reports. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

export interface SpawnOptions {
  readonly name: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
  readonly cwd: string;
  /** Matches the line that carries the listen address in its first group. */
  readonly listening: RegExp;
  readonly timeoutMs?: number;
}

const MAX_OUTPUT = 64 * 1024;

export async function spawnChild(options: SpawnOptions): Promise<Child> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    // The daemon rejects unknown HOOKD_* variables; only the bench's own may reach it.
    if (!key.startsWith("HOOKD_")) env[key] = value;
  }
  Object.assign(env, options.env);
  const process = new Deno.Command(Deno.execPath(), {
    args: options.args,
    cwd: options.cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let output = "";
  const found = Promise.withResolvers<string>();
  const append = (text: string) => {
    output = (output + text).slice(-MAX_OUTPUT);
  };
  const pump = async (stream: ReadableStream<Uint8Array>, lookForAddress: boolean) => {
    let pending = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      append(text);
      if (!lookForAddress) continue;
      pending += text;
      const match = options.listening.exec(pending);
      if (match?.[1]) {
        found.resolve(match[1]);
        lookForAddress = false;
      }
    }
  };
  const pumped = Promise.all([pump(process.stdout, true), pump(process.stderr, false)]);
  const status = process.status;
  status.then((s) => found.reject(new Error(`${options.name} exited with code ${s.code}`)));

  let stopping: Promise<Deno.CommandStatus> | undefined;
  const stop = (graceMs = 5_000) => {
    stopping ??= (async () => {
      try {
        process.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      const timer = setTimeout(() => {
        try {
          process.kill("SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }, graceMs);
      try {
        const result = await status;
        await pumped.catch(() => {});
        return result;
      } finally {
        clearTimeout(timer);
      }
    })();
    return stopping;
  };

  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const origin = await Promise.race([
      found.promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${options.name} did not print its address in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return { name: options.name, origin, pid: process.pid, output: () => output, stop };
  } catch (error) {
    await stop(1_000);
    throw new Error(`Cannot start ${options.name}: ${(error as Error).message}\n${output}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
