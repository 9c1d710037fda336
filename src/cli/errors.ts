/**
 * The three ways a CLI command fails, each with its own exit code in
 * `main.ts`: the command line is wrong (2), the daemon answered with an error
 * (1), or the daemon could not be reached at all (3).
 *
 * @module
 */

/** A command line that cannot run: a missing or unknown option, a bad value. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    /** The command whose `--help` explains what is allowed; none: the top-level help. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** An error answer from the API, `{"error": {code, message, details}}` or a bare HTTP status. */
export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

/** No answer at all: connection refused, name not found, TLS failure, a reset. */
export class DaemonUnreachableError extends Error {
  override readonly name = "DaemonUnreachableError";
}
