/**
 * A logger that keeps what it is told, parsed, for tests that assert on log
 * lines: the same JSON formatting as the daemon's, so a test sees what an
 * operator would.
 */
import { createLogger, type Logger, type LogLevel } from "../ops/log.ts";

export interface LogCapture {
  readonly log: Logger;
  /** Every line so far, parsed. */
  entries(): Record<string, unknown>[];
  /** The lines whose `msg` is `message`. */
  withMessage(message: string): Record<string, unknown>[];
  /** Every line as written, for a search (secrets) or an assertion message. */
  text(): string;
}

export function captureLogs(level: LogLevel = "debug", now?: () => number): LogCapture {
  const lines: string[] = [];
  const log = createLogger({ level, format: "json", write: (line) => lines.push(line), now });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    log,
    entries,
    withMessage: (message) => entries().filter((entry) => entry.msg === message),
    text: () => lines.join("\n"),
  };
}
