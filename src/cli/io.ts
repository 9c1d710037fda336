/** The real process behind `CliIo`: its environment, stdout, stderr, `fetch` and clock. */
import { systemClock } from "../clock.ts";
import type { CliIo } from "./command.ts";

const encoder = new TextEncoder();

/** `writeSync` may write less than it was given (a full pipe); keep going until all is out. */
function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  for (let offset = 0; offset < bytes.length;) {
    offset += stream.writeSync(bytes.subarray(offset));
  }
}

export function systemIo(): CliIo {
  return {
    env: Deno.env.toObject(),
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    fetch: globalThis.fetch,
    clock: systemClock,
  };
}
