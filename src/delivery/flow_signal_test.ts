import assert from "node:assert/strict";
import { loadConfig } from "../config/load_config.ts";
import { flowSignal } from "./flow_signal.ts";
import type { Outcome } from "./outcome.ts";

const policy = loadConfig({}).policies.default!;

Deno.test("flowSignal: the endpoint is blamed for its own failures, not for hookd's guard or proxy", () => {
  const cases: [Outcome, ReturnType<typeof flowSignal>][] = [
    [{ kind: "response", status: 200 }, { health: "success", congestion: false }],
    [{ kind: "response", status: 503 }, { health: "failure", congestion: true }],
    [{ kind: "response", status: 500 }, { health: "failure", congestion: false }],
    [{ kind: "response", status: 404 }, { health: "neutral", congestion: false }],
    [{ kind: "error", error: "timeout" }, { health: "failure", congestion: true }],
    [{ kind: "error", error: "connect" }, { health: "failure", congestion: false }],
    [{ kind: "error", error: "blocked" }, { health: "neutral", congestion: false }],
    // The forward proxy is the operator's, not the receiver's: no breaker, no AIMD.
    [{ kind: "error", error: "proxy" }, { health: "neutral", congestion: false }],
  ];
  for (const [outcome, expected] of cases) {
    assert.deepEqual(flowSignal(outcome, policy), expected, JSON.stringify(outcome));
  }
});
