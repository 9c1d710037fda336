/**
 * The store cannot take writes or answer right now (disk full, read-only
 * file, I/O error, lock timeout, remote server down). The API answers 503;
 * nothing was acknowledged that was not stored.
 */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

/** SQLite result codes that mean "the store", not "this operation", is at fault. */
const UNAVAILABLE =
  /SQLITE_(FULL|READONLY|IOERR|BUSY|LOCKED|CANTOPEN|NOTADB|CORRUPT|PERM)|ECONNREFUSED|fetch failed|HRANA_WEBSOCKET/i;

/** Whether `error` says the store itself is unavailable. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return UNAVAILABLE.test(`${typeof code === "string" ? code : ""} ${error.message}`);
}

/** The plain shape in which an error crosses the worker boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly unavailable: boolean;
}

export function serializeError(error: unknown): SerializedError {
  const message = error instanceof Error ? error.message : String(error);
  return {
    name: error instanceof Error ? error.name : "Error",
    message,
    unavailable: isUnavailable(error),
  };
}

export function deserializeError(error: SerializedError): Error {
  return error.unavailable ? new StoreUnavailableError(error.message) : new Error(error.message);
}
