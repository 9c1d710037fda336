/**
 * Continuing a producer's trace at the receiver: an event stored with a
 * `traceparent` is sent with the same trace id and flags on every attempt,
 * each attempt a span of its own (a new parent id, taken from the attempt's
 * id, so the attempt record and the receiver's logs name the same span), and
 * its `tracestate` as received.
 */
import type { SpanIds } from "../ops/tracing.ts";

/**
 * The trace headers of one attempt, or none when the event carries no trace.
 * `span`: the attempt's recorded OpenTelemetry span (ops/tracing.ts), whose
 * ids then go out instead, so the receiver's spans hang below the exported one;
 * with one, an event without a trace starts a trace of its own.
 */
export function traceHeaders(
  trace: { readonly traceparent: string | null; readonly tracestate: string | null },
  attemptId: string,
  span?: SpanIds,
): Record<string, string> {
  if (span !== undefined) {
    const flags = span.traceFlags.toString(16).padStart(2, "0");
    const headers: Record<string, string> = {
      traceparent: `00-${span.traceId}-${span.spanId}-${flags}`,
    };
    if (trace.tracestate !== null) headers.tracestate = trace.tracestate;
    return headers;
  }
  if (trace.traceparent === null) return {};
  const [version, traceId, , flags] = trace.traceparent.split("-");
  // The last 16 hex digits of the attempt's UUIDv7 are random: a fresh span id per attempt.
  const spanId = attemptId.replaceAll("-", "").slice(-16);
  const headers: Record<string, string> = {
    traceparent: `${version}-${traceId}-${spanId}-${flags}`,
  };
  if (trace.tracestate !== null) headers.tracestate = trace.tracestate;
  return headers;
}
