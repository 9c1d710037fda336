/**
 * Structured logging: one JSON object per line (or `key=value` text), levels
 * filtered at the source. Callers pass fields, never preformatted secrets.
 * Where lines go is the caller's choice: the daemon buffers them to stdout
 * (`line_writer.ts`), tests collect them.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;
export type LogFormat = "json" | "text";

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether `level` is written: lets a caller skip building fields nobody reads. */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Takes each line, without its newline. */
  readonly write: (line: string) => void;
  readonly now?: () => number;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = RANK[options.level];
  const { write, format } = options;
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    write(formatLogLine(format, now(), level, message, fields));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    enabled: (level) => RANK[level] >= threshold,
  };
}

/**
 * One log line. Exported for the few lines written whatever the level (the
 * listen line tools wait for, a fatal error before any config is known).
 */
export function formatLogLine(
  format: LogFormat,
  time: number,
  level: LogLevel,
  message: string,
  fields: LogFields = {},
): string {
  const iso = new Date(time).toISOString();
  if (format === "json") {
    return JSON.stringify({ time: iso, level, msg: message, ...fields }, errorReplacer);
  }
  const rest = Object.entries(fields).map(([k, v]) =>
    `${k}=${typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v, errorReplacer)}`
  );
  return [iso, level.toUpperCase(), message, ...rest].join(" ");
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
