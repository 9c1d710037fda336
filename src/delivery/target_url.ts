/**
 * Whether a webhook URL is acceptable as a delivery target. Checked when a
 * webhook is created or changed; the sender checks addresses again at send
 * time (DNS may change), which is the SSRF guard's job.
 */

export const MAX_URL_LENGTH = 2048;

export interface TargetUrlRules {
  /** Reject `http:` targets (`[security] require_https`). */
  readonly requireHttps: boolean;
}

/** Why `raw` is not a valid target, or undefined when it is. */
export function targetUrlProblem(raw: string, rules: TargetUrlRules): string | undefined {
  if (raw.length > MAX_URL_LENGTH) {
    return `must be at most ${MAX_URL_LENGTH} characters, got ${raw.length}`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `must be an absolute http:// or https:// URL, got ${JSON.stringify(raw)}`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `must use http or https, got ${JSON.stringify(url.protocol.slice(0, -1))}`;
  }
  if (rules.requireHttps && url.protocol !== "https:") {
    return "must use https ([security] require_https is on)";
  }
  if (url.username !== "" || url.password !== "") {
    return "must not contain credentials; send them as a custom header instead";
  }
  if (url.hostname === "") return "must name a host";
  if (url.hash !== "") return "must not contain a #fragment (it is never sent)";
  return undefined;
}
