/**
 * Structured logging: one JSON object per line (or `key=value` text), levels
 * filtered at the source. Callers pass fields, never preformatted secrets.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: "json" | "text";
  /** Where lines go; stderr by default so stdout stays for command output. */
  readonly write?: (line: string) => void;
  readonly now?: () => number;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = RANK[options.level];
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (RANK[level] < threshold) return;
    const time = new Date(now()).toISOString();
    if (options.format === "json") {
      write(JSON.stringify({ time, level, msg: message, ...fields }, errorReplacer));
    } else {
      const rest = Object.entries(fields).map(([k, v]) =>
        `${k}=${typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v, errorReplacer)}`
      );
      write([time, level.toUpperCase(), message, ...rest].join(" "));
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({
  level: "error",
  format: "json",
  write: () => {},
});

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
