/**
 * The one error type handlers throw. `app.ts` maps it to the JSON error shape
 * `{"error": {"code", "message", "details"}}`; anything else becomes a logged
 * 500 that reveals nothing of the internals.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, such as `Allow` on a 405. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toResponse(): Response {
    return Response.json(errorBody(this.code, this.message, this.details), {
      status: this.status,
      headers: this.headers,
    });
  }
}

/** The one error shape; `details` is always there, null when there is nothing more to say. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, details: details ?? null } };
}

/** A field that failed validation: where, and what was wrong and allowed. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export function validationError(problems: FieldProblem[]): ApiError {
  const first = problems[0];
  const summary = first ? `${first.field || "body"}: ${first.message}` : "invalid request";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new ApiError(400, "validation_failed", `${summary}${more}`, problems);
}

export const notFound = (what: string, id: string) =>
  new ApiError(404, "not_found", `No ${what} with id ${JSON.stringify(id)}`);

/** What a client learns of a bug: nothing but where to look. */
export const internalError = () =>
  new ApiError(500, "internal_error", "Internal error; see the daemon's log");
