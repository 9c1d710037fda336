import assert from "node:assert/strict";
import { traceContextOf } from "./trace_context.ts";

const VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function parse(headers: Record<string, string>) {
  return traceContextOf(new Request("http://hookd.test/", { headers }));
}

Deno.test("traceparent: version 00 is kept with its tracestate; anything malformed is ignored", () => {
  assert.deepEqual(parse({ traceparent: VALID, tracestate: "rojo=00f067aa0ba902b7,congo=t61" }), {
    traceparent: VALID,
    tracestate: "rojo=00f067aa0ba902b7,congo=t61",
  });
  assert.deepEqual(parse({ traceparent: VALID.toUpperCase() }), {
    traceparent: VALID,
    tracestate: null,
  });
  for (
    const bad of [
      "",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      "garbage",
    ]
  ) {
    assert.equal(parse({ traceparent: bad, tracestate: "a=b" }), undefined, bad);
  }
  assert.equal(parse({ tracestate: "a=b" }), undefined, "tracestate alone means nothing");
  assert.equal(parse({ traceparent: VALID, tracestate: "x".repeat(513) })?.tracestate, null);
});
