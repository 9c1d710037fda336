/** How figures and times read on the page. */

/** `2026-12-06 10:59:19` in the viewer's time zone. */
export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `4 s ago`, `3 min ago`, `in 2 h`. */
export function ago(iso, now = Date.now()) {
  if (!iso) return "—";
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  const abs = Math.abs(seconds);
  const text = abs < 60
    ? `${abs} s`
    : abs < 3600
    ? `${Math.round(abs / 60)} min`
    : abs < 86400
    ? `${Math.round(abs / 3600)} h`
    : `${Math.round(abs / 86400)} d`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

export function percent(part, whole) {
  if (!whole) return "—";
  const value = (100 * part) / whole;
  return `${value >= 99.95 || value === 0 ? value.toFixed(0) : value.toFixed(1)}%`;
}

export function rate(perSecond) {
  if (!Number.isFinite(perSecond)) return "—";
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** The start of an id, enough to tell ids apart on screen. */
export function shortId(id) {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** What an attempt or delivery got back: the status, or what went wrong instead. */
export function outcome(status, errorKind) {
  if (status !== null && status !== undefined) return String(status);
  return errorKind ?? "—";
}

/** A `datetime-local` input's value as RFC 3339, or undefined when empty. */
export function fromLocalInput(value) {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Any JSON value, indented, as text. */
export function json(value) {
  return JSON.stringify(value, null, 2);
}
