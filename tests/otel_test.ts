/**
 * OpenTelemetry through Deno's built-in exporter: a daemon started with
 * `OTEL_DENO=true` and an OTLP endpoint (a local collector here, speaking
 * http/json) emits a `hookd.ingest` span and one `hookd.attempt` span per
 * attempt, inside the producer's trace, with seed 002's ids as attributes;
 * the receiver's `traceparent` names the attempt span itself.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "otel-test-admin-key-0123456789abcdef";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER_SPAN = "00f067aa0ba902b7";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
}

Deno.test("with OTEL_DENO=true hookd exports ingest and attempt spans in the producer's trace", async () => {
  const spans: OtlpSpan[] = [];
  const collector = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json() as {
      resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[];
    };
    for (const resource of body.resourceSpans ?? []) {
      for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
    }
    return Response.json({});
  });
  await using receiver = await startReceiver();
  let failNext = true;
  receiver.respond(() => {
    const status = failNext ? 503 : 200;
    failNext = false;
    return { status };
  });
  const dir = await Deno.makeTempDir({ prefix: "hookd-otel-" });
  const config = `${dir}/hookd.toml`;
  await Deno.writeTextFile(
    config,
    '[policies.default]\nschedule = ["0s", "200ms"]\njitter = 0\n',
  );
  const daemon = await startDaemon({
    dir,
    args: ["--config", config],
    env: daemonEnv(dir, ADMIN_KEY, {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "hookd-test",
    }),
  });
  try {
    await api(daemon, "POST", "/api/v1/webhooks", {
      key: ADMIN_KEY,
      body: { url: `${receiver.url}/hook` },
    });
    const response = await fetch(`${daemon.url}/api/v1/events`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        "content-type": "application/json",
        traceparent: `00-${TRACE_ID}-${PRODUCER_SPAN}-01`,
      },
      body: JSON.stringify({ type: "t", data: {} }),
    });
    assert.equal(response.status, 202);
    const posted = await response.json() as { id: string; deliveries: { id: string }[] };
    const deadline = Date.now() + 20_000;
    const named = (name: string) => spans.filter((s) => s.name === name);
    // Spans are exported in batches: the daemon's exit flushes what is left.
    while (receiver.requests.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await daemon.stop("SIGTERM"), 0);
    while (named("hookd.attempt").length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [ingest] = named("hookd.ingest");
    assert.ok(ingest, `no ingest span among ${spans.map((s) => s.name)}`);
    assert.equal(ingest.traceId, TRACE_ID);
    assert.equal(ingest.parentSpanId, PRODUCER_SPAN);
    assert.equal(attribute(ingest, "hookd.event_id"), posted.id);
    const attempts = named("hookd.attempt");
    assert.equal(attempts.length, 2);
    for (const [i, span] of attempts.entries()) {
      assert.equal(span.traceId, TRACE_ID);
      assert.equal(span.parentSpanId, PRODUCER_SPAN);
      assert.equal(attribute(span, "hookd.event_id"), posted.id);
      assert.equal(attribute(span, "hookd.delivery_id"), posted.deliveries[0]!.id);
      assert.ok(attribute(span, "hookd.webhook_id"));
      assert.ok(attribute(span, "hookd.attempt_id"));
      // The receiver was told this very span as its parent.
      const sent = receiver.requests[i]!.headers.traceparent!;
      assert.equal(sent, `00-${TRACE_ID}-${span.spanId}-01`);
    }
    const byAttempt = new Map(attempts.map((s) => [Number(attribute(s, "hookd.attempt")), s]));
    assert.equal(attribute(byAttempt.get(1)!, "http.response.status_code"), 503);
    assert.equal(attribute(byAttempt.get(1)!, "hookd.attempt.outcome"), "retry");
    assert.equal(attribute(byAttempt.get(2)!, "hookd.attempt.outcome"), "succeeded");
  } finally {
    await daemon.kill();
    await collector.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
