/**
 * OpenTelemetry spans, through Deno's built-in exporter: with `OTEL_DENO=true`
 * (and the `OTEL_*` variables the OpenTelemetry specification defines, such
 * as `OTEL_EXPORTER_OTLP_ENDPOINT`) hookd emits a span per ingest request and
 * per delivery attempt. Without it `startSpan` returns undefined at once: no
 * span, context or attribute object is made on the hot paths.
 *
 * A span's parent is the producer's W3C `traceparent` when the event carried
 * one, so hookd's spans sit inside the producer's trace.
 */
import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { VERSION } from "../version.ts";

const tracer = trace.getTracer("hookd", VERSION);

/** Deno exports spans only when `OTEL_DENO` is set; read once, at start. */
const ENABLED = ["true", "1"].includes(Deno.env.get("OTEL_DENO") ?? "");

/** A span's identity, as a `traceparent` header carries it. */
export interface SpanIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/**
 * Starts a span whose parent is `traceparent` (or none: a new trace);
 * undefined when OpenTelemetry is off. `attributes` is only called when on.
 */
export function startSpan(
  name: string,
  traceparent: string | null,
  attributes: () => Attributes,
  kind: "server" | "client" | "internal" = "internal",
): Span | undefined {
  if (!ENABLED) return undefined;
  let parent = context.active();
  const [version, traceId, spanId, flags] = traceparent?.split("-") ?? [];
  if (version === "00" && traceId && spanId && flags) {
    parent = trace.setSpanContext(parent, {
      traceId,
      spanId,
      traceFlags: parseInt(flags, 16),
      isRemote: true,
    });
  }
  return tracer.startSpan(name, {
    attributes: attributes(),
    kind: kind === "server"
      ? SpanKind.SERVER
      : kind === "client"
      ? SpanKind.CLIENT
      : SpanKind.INTERNAL,
  }, parent);
}

/** The span's ids when it is recorded (exported), else undefined: nothing to propagate. */
export function recordedIds(span: Span | undefined): SpanIds | undefined {
  if (!span?.isRecording()) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { traceId, spanId, traceFlags };
}

/** Ends a span, marked failed when `error` is given. */
export function endSpan(span: Span | undefined, error?: string): void {
  if (span === undefined) return;
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end();
}
