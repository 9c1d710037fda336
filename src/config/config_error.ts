/** One problem found while loading the configuration. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `server.listen` or `policies.fast.schedule[2]`; empty for the file. */
  readonly path: string;
  readonly message: string;
  /** The file the value came from; absent for environment variables. */
  readonly file?: string;
  /** 1-based line of the offending key in `file`, when it could be found. */
  readonly line?: number;
  /** 1-based column of the offending key in `file`, when it could be found. */
  readonly column?: number;
  /** The `HOOKD_*` variable the value came from. */
  readonly env?: string;
}

/**
 * Renders one issue as `FILE:LINE:COLUMN: path: message` (editors jump to
 * it), or `env HOOKD_X: path: message` for a value from the environment.
 */
export function formatIssue(issue: ConfigIssue): string {
  let where = "";
  if (issue.env !== undefined) {
    where = `env ${issue.env}`;
  } else if (issue.file !== undefined) {
    where = issue.file;
    if (issue.line !== undefined) {
      where += `:${issue.line}`;
      if (issue.column !== undefined) where += `:${issue.column}`;
    }
  }
  return [where, issue.path, issue.message].filter((part) => part !== "").join(": ");
}

/**
 * Thrown by `loadConfig` with every problem found in one pass, so a user can
 * fix them all at once. `message` lists one issue per line.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(`Invalid configuration (${count}):\n${issues.map(formatIssue).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}
