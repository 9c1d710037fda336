/**
 * Talking to hookd's public API with the signed-in key. The key lives in
 * this tab's sessionStorage only: never in a URL, a cookie or another tab,
 * and gone when the tab closes or the user signs out.
 */

const KEY = "hookd.key";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

/**
 * A JSON request; answers the parsed body, or throws an `ApiError` with the
 * API's own message. A 401 also tells the app (event `hookd:unauthorized`):
 * the key was revoked or the daemon restarted with another root key.
 */
export async function api(method, path, { body, key = storedKey() } = {}) {
  const headers = { accept: "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "unreachable", "The daemon did not answer; is it running?");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text === "" ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error;
    // Only the session's own key ends the session (not a key being tried at sign-in).
    if (response.status === 401 && key === storedKey()) {
      dispatchEvent(new CustomEvent("hookd:unauthorized"));
    }
    throw new ApiError(
      response.status,
      error?.code ?? "http_error",
      error?.message ?? `HTTP ${response.status}`,
      error?.details ?? null,
    );
  }
  return data;
}

/** A query string from the values that are set. */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
