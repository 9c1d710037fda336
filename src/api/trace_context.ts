/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as a producer
 * sends it with an event: `traceparent` and `tracestate`. hookd stores them
 * with the event and continues the trace on every attempt (delivery/
 * trace_headers.ts). As the specification asks of a receiver, a malformed
 * `traceparent` is ignored, not refused: a tracing library's header must
 * never cost the producer its event; `tracestate` without a valid
 * `traceparent` is ignored with it.
 */

/** Version 00: trace id (32 hex, not all zero), parent id (16 hex, not all zero), flags. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
/** The specification's limit: 32 list members of at most 256 characters; 512 is a safe cap. */
const TRACESTATE_MAX = 512;

export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate: string | null;
}

/** The request's trace context, or undefined when it carries none (or a malformed one). */
export function traceContextOf(request: Request): TraceContext | undefined {
  const traceparent = request.headers.get("traceparent")?.trim().toLowerCase();
  if (traceparent === undefined || !TRACEPARENT.test(traceparent)) return undefined;
  const tracestate = request.headers.get("tracestate")?.trim() ?? "";
  return {
    traceparent,
    tracestate: tracestate === "" || tracestate.length > TRACESTATE_MAX ||
        !/^[\x20-\x7e]+$/.test(tracestate)
      ? null
      : tracestate,
  };
}
