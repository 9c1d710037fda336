/**
 * `deno task bench:log`: what one attempt line costs the daemon, buffered
 * (`src/ops/line_writer.ts`, what `serve` uses) against one write per line
 * (`console.log`, and `Deno.stdout.writeSync` without the console), and
 * against formatting alone (the floor: the line built, written nowhere).
 *
 * Each way runs in a child process whose stdout is a pipe the parent drains
 * (as journald or a container runtime reads it) or /dev/null (the write
 * alone). The child times its own loop and reports on stderr.
 *
 * Flags: `--lines N` (default 200000).
 */
import { createLogger, type Logger } from "../src/ops/log.ts";
import { BufferedLineWriter } from "../src/ops/line_writer.ts";

const WAYS = ["format only", "buffered", "writeSync per line", "console.log"] as const;
type Way = typeof WAYS[number];

/** A realistic attempt line: the fields the recorder logs, ids as long as real ones. */
function attemptFields(i: number): Record<string, unknown> {
  return {
    event_id: `evt_${i}`,
    event_type: "order.created",
    delivery_id: "01a207a2-3280-76be-8558-7c7cb2e4dbce",
    attempt_id: "01a207a2-3280-7549-b50b-06e3e873d9f3",
    attempt: 1,
    webhook_id: "01a207a2-3280-7547-ac69-b60b10d818bd",
    attempted_at: "2026-11-23T09:00:00.000Z",
    status: 200,
    error_kind: null,
    duration_ms: 12,
    outcome: "succeeded",
    next_attempt_at: null,
    trigger: "scheduled",
  };
}

function runChild(way: Way, lines: number): void {
  const encoder = new TextEncoder();
  let writer: BufferedLineWriter | undefined;
  let write: (line: string) => void;
  switch (way) {
    case "format only":
      write = () => {};
      break;
    case "buffered":
      writer = new BufferedLineWriter({ writeSync: (b) => Deno.stdout.writeSync(b) });
      write = (line) => writer!.write(line);
      break;
    case "writeSync per line":
      write = (line) => {
        const bytes = encoder.encode(line + "\n");
        for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
      };
      break;
    case "console.log":
      write = (line) => console.log(line);
      break;
  }
  const log: Logger = createLogger({ level: "info", format: "json", write });
  const started = performance.now();
  for (let i = 0; i < lines; i++) log.info("attempt", attemptFields(i));
  writer?.close();
  const ms = performance.now() - started;
  console.error(JSON.stringify({ way, lines, ms }));
}

async function measure(way: Way, lines: number, stdout: "piped" | "null"): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--child", way, "--lines", String(lines)],
    stdout,
    stderr: "piped",
    stdin: "null",
  }).spawn();
  // Drain the pipe as fast as it fills, like a log collector.
  const drained = stdout === "piped"
    ? child.stdout.pipeTo(new WritableStream())
    : Promise.resolve();
  const [text, status] = await Promise.all([
    new Response(child.stderr).text(),
    child.status,
    drained,
  ]);
  if (!status.success) throw new Error(`${way} child failed: ${text}`);
  return (JSON.parse(text.trim().split("\n").at(-1)!) as { ms: number }).ms;
}

async function main(): Promise<void> {
  const args = Deno.args;
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? undefined : args[i + 1];
  };
  const lines = Number(flag("lines") ?? 200_000);
  const childWay = flag("child") as Way | undefined;
  if (childWay !== undefined) return runChild(childWay, lines);

  console.log(`log cost: ${lines} attempt lines per run, JSON format`);
  console.log("way                  stdout     lines/s     µs/line");
  for (const stdout of ["piped", "null"] as const) {
    for (const way of WAYS) {
      const ms = await measure(way, lines, stdout);
      const perSecond = Math.round(lines / (ms / 1000));
      const micros = (ms * 1000) / lines;
      console.log(
        `${way.padEnd(20)} ${(stdout === "null" ? "/dev/null" : "pipe").padEnd(9)} ${
          String(perSecond).padStart(9)
        } ${micros.toFixed(2).padStart(10)}`,
      );
    }
  }
}

if (import.meta.main) await main();
