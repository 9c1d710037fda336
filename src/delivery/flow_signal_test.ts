import assert from "node:assert/strict";
import { loadConfig } from "../config/load_config.ts";
import { flowSignal } from "./flow_signal.ts";
import type { Outcome } from "./outcome.ts";
import type { FlowSignal } from "./pool.ts";

const policy = loadConfig({ text: "" }).policies.default!;

Deno.test("flowSignal: what each outcome tells flow control", () => {
  const table: [Outcome, FlowSignal][] = [
    [{ kind: "response", status: 200 }, { health: "success", congestion: false }],
    [{ kind: "response", status: 404 }, { health: "neutral", congestion: false }],
    [{ kind: "response", status: 500 }, { health: "failure", congestion: false }],
    [{ kind: "response", status: 503 }, { health: "failure", congestion: true }],
    [{ kind: "error", error: "timeout" }, { health: "failure", congestion: true }],
    [{ kind: "error", error: "connect" }, { health: "failure", congestion: false }],
    [{ kind: "error", error: "blocked" }, { health: "neutral", congestion: false }],
    // The token endpoint is down: the breaker may hold deliveries; not pushback.
    [{ kind: "error", error: "auth" }, { health: "failure", congestion: false }],
    // The forward proxy is the operator's, not the receiver's: no breaker, no AIMD.
    [{ kind: "error", error: "proxy" }, { health: "neutral", congestion: false }],
  ];
  for (const [outcome, expected] of table) {
    assert.deepEqual(flowSignal(outcome, policy), expected, JSON.stringify(outcome));
  }
});
