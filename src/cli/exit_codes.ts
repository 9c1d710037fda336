/** hookd's exit codes: one list for `main.ts`, the help texts and the README. */
export const EXIT = {
  ok: 0,
  /** The operation failed: the API refused it, the config is invalid, the daemon could not start. */
  failed: 1,
  /** The command line is wrong: an unknown command or option, a missing or bad value. */
  usage: 2,
  /** No answer from the daemon at all (operator commands only). */
  unreachable: 3,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  ${EXIT.ok}  success
  ${EXIT.failed}  failure: the API refused the request (its message and details on stderr),
     the config is invalid, or the daemon could not start
  ${EXIT.usage}  usage error: an unknown command or option, a missing or bad value
  ${EXIT.unreachable}  the daemon could not be reached (connection refused, unknown host, TLS)`;
