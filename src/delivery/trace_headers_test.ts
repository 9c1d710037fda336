import assert from "node:assert/strict";
import { traceHeaders } from "./trace_headers.ts";

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

Deno.test("each attempt continues the producer's trace as a span of its own", () => {
  const first = traceHeaders(
    { traceparent: PARENT, tracestate: "rojo=1" },
    "01a207a2-3280-7257-b560-108ed95fb638",
  );
  const second = traceHeaders(
    { traceparent: PARENT, tracestate: "rojo=1" },
    "01a207a2-3281-7001-9f00-aaaaaaaaaaaa",
  );
  assert.deepEqual(first, {
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-b560108ed95fb638-01",
    tracestate: "rojo=1",
  });
  assert.equal(second.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-9f00aaaaaaaaaaaa-01");
  assert.deepEqual(traceHeaders({ traceparent: null, tracestate: null }, "x"), {});
  assert.deepEqual(traceHeaders({ traceparent: PARENT, tracestate: null }, "0000000000000001"), {
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01",
  });
});
