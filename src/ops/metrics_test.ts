import assert from "node:assert/strict";
import { renderPrometheus } from "./metrics.ts";

Deno.test("metrics render as Prometheus text", () => {
  assert.equal(
    renderPrometheus([
      { name: "hookd_attempts_total", help: "Attempts made.", type: "counter", value: 3 },
      { name: "hookd_queued", help: "Queued.", type: "gauge", value: NaN },
    ]),
    "# HELP hookd_attempts_total Attempts made.\n# TYPE hookd_attempts_total counter\n" +
      "hookd_attempts_total 3\n# HELP hookd_queued Queued.\n# TYPE hookd_queued gauge\nhookd_queued 0\n",
  );
});
