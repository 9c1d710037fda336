/**
 * Request headers that hookd's sender sets itself (`Host`, `Content-Type`,
 * `User-Agent`) or that belong to HTTP framing and hops (`Content-Length`,
 * `Transfer-Encoding`, `Connection`, ..., any `Proxy-*`): configuration can
 * never set them. The one list: the sender drops them from every request,
 * and config (profile headers) and the API (custom headers) refuse them with
 * the same rule, so what is refused and what would be dropped cannot differ.
 * It lives here, below config, because config validates against it.
 */
const CONTROLLED: ReadonlySet<string> = new Set([
  "host",
  "content-type",
  "user-agent",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);

/** Whether configuration may not set the header `name` (any case). */
export function isSenderControlled(name: string): boolean {
  const lower = name.toLowerCase();
  return CONTROLLED.has(lower) || lower.startsWith("proxy-");
}
