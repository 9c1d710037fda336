/**
 * Trace context end to end: a `traceparent` sent with an event reaches the
 * receiver on every attempt, same trace, a new span per attempt, with the
 * producer's `tracestate`; it is kept with the event and in the attempt
 * records.
 */
import assert from "node:assert/strict";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { withEngine } from "../src/testing/engine_harness.ts";
import { ADMIN_KEY } from "../src/testing/api_harness.ts";
import { seededRng } from "../src/testing/seeded_rng.ts";
import { readDelivery, runSchedule, ScriptedSender, START } from "./contracts/_helpers.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

Deno.test("a producer's traceparent continues on every attempt, a new span each time", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.script.push(503, 200);
  const toml = `[policies.default]
schedule = ["0s", "1m"]
jitter = 0
`;
  await withEngine({ clock, sender, rng: seededRng(1), configToml: toml }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/traced" });
    const response = await h.app.request("http://hookd.test/api/v1/events", {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        "content-type": "application/json",
        traceparent: PARENT,
        tracestate: "rojo=00f067aa0ba902b7",
      },
      body: JSON.stringify({ type: "t", data: {} }),
    });
    assert.equal(response.status, 202);
    const posted = await response.json();
    const delivery = await runSchedule(h, clock, sender, posted.deliveries[0].id);
    assert.equal(delivery.state, "succeeded");
    const sent = sender.sent.map((s) => s.request.headers);
    assert.equal(sent.length, 2);
    const spans = new Set<string>();
    for (const headers of sent) {
      const [version, traceId, span, flags] = headers.traceparent!.split("-");
      assert.deepEqual([version, traceId, flags], ["00", TRACE_ID, "01"]);
      assert.notEqual(span, "00f067aa0ba902b7", "the attempt is a child span, not the producer's");
      spans.add(span!);
      assert.equal(headers.tracestate, "rojo=00f067aa0ba902b7");
    }
    assert.equal(spans.size, 2, "a new span per attempt");
    // Kept with the event, and in each attempt's record.
    const event = await h.api("GET", `/api/v1/events/${posted.id}`);
    assert.equal(event.body.traceparent, PARENT);
    const recorded = await readDelivery(h, posted.deliveries[0].id);
    assert.deepEqual(
      recorded.attempts.map((a: { request_headers: Record<string, string> }) =>
        a.request_headers.traceparent
      ),
      sent.map((headers) => headers.traceparent),
    );

    // No traceparent, no trace headers.
    const plain = await h.api("POST", "/api/v1/events", { type: "t", data: {} });
    await h.settle();
    assert.equal(sender.last().headers.traceparent, undefined);
    assert.equal((await h.api("GET", `/api/v1/events/${plain.body.id}`)).body.traceparent, null);
  });
});
