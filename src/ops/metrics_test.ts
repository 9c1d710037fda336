import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, renderPrometheus } from "./metrics.ts";
import { MetricsRegistry } from "./metrics_registry.ts";

Deno.test("an unlabelled counter and gauge render with HELP and TYPE", () => {
  const counter = new Counter({ name: "hookd_things_total", help: "Things done." });
  counter.inc();
  counter.add(2);
  const gauge = new Gauge({ name: "hookd_queue", help: "Waiting.\nNow \\ here." });
  gauge.set(NaN);
  assert.equal(
    renderPrometheus([counter, gauge]),
    "# HELP hookd_things_total Things done.\n# TYPE hookd_things_total counter\n" +
      "hookd_things_total 3\n" +
      "# HELP hookd_queue Waiting.\\nNow \\\\ here.\n# TYPE hookd_queue gauge\nhookd_queue NaN\n",
  );
});

Deno.test("labelled series render every declared combination, values escaped", () => {
  const counter = new Counter({
    name: "hookd_x_total",
    help: "X.",
    labels: [
      { name: "class", values: ["2xx", "5xx"] },
      { name: "why", values: ["none", 'a "quoted"\\back\nslash'] },
    ],
  });
  counter.inc("5xx", "none");
  counter.inc("5xx", "none");
  counter.inc("2xx", 'a "quoted"\\back\nslash');
  assert.equal(counter.get("5xx", "none"), 2);
  assert.equal(
    counter.render(),
    "# HELP hookd_x_total X.\n# TYPE hookd_x_total counter\n" +
      'hookd_x_total{class="2xx",why="none"} 0\n' +
      'hookd_x_total{class="2xx",why="a \\"quoted\\"\\\\back\\nslash"} 1\n' +
      'hookd_x_total{class="5xx",why="none"} 2\n' +
      'hookd_x_total{class="5xx",why="a \\"quoted\\"\\\\back\\nslash"} 0\n',
  );
});

Deno.test("bounded labels refuse values that were not declared", () => {
  const counter = new Counter({
    name: "hookd_y_total",
    help: "Y.",
    labels: [{ name: "outcome", values: ["ok", "dead"] }],
  });
  assert.throws(() => counter.inc("webhook-1234"), /labels \["webhook-1234"\] are not among/);
  assert.throws(() => counter.inc(), RangeError);
  assert.throws(() => counter.inc("ok", "extra"), RangeError);
  const plain = new Gauge({ name: "hookd_z", help: "Z." });
  assert.throws(() => plain.set(1, "anything"), RangeError);
  assert.throws(
    () => new Counter({ name: "hookd bad", help: "" }),
    /Cannot declare metric "hookd bad"/,
  );
  assert.throws(
    () => new Counter({ name: "a", help: "", labels: [{ name: "le", values: ["1"] }] }),
    RangeError,
  );
});

Deno.test("a histogram counts into inclusive buckets and renders them cumulative", () => {
  const histogram = new Histogram({
    name: "hookd_wait_seconds",
    help: "Wait.",
    labels: [{ name: "endpoint", values: ["one", "many"] }],
    buckets: [0.01, 0.1, 1],
  });
  for (const v of [0.25, 0.01, 0.0625, 0.5, 7]) histogram.observe(v, "one");
  assert.equal(histogram.count("one"), 5);
  assert.equal(histogram.count("many"), 0);
  assert.equal(
    histogram.render(),
    "# HELP hookd_wait_seconds Wait.\n# TYPE hookd_wait_seconds histogram\n" +
      'hookd_wait_seconds_bucket{endpoint="one",le="0.01"} 1\n' +
      'hookd_wait_seconds_bucket{endpoint="one",le="0.1"} 2\n' +
      'hookd_wait_seconds_bucket{endpoint="one",le="1"} 4\n' +
      'hookd_wait_seconds_bucket{endpoint="one",le="+Inf"} 5\n' +
      'hookd_wait_seconds_sum{endpoint="one"} 7.8225\n' +
      'hookd_wait_seconds_count{endpoint="one"} 5\n' +
      'hookd_wait_seconds_bucket{endpoint="many",le="0.01"} 0\n' +
      'hookd_wait_seconds_bucket{endpoint="many",le="0.1"} 0\n' +
      'hookd_wait_seconds_bucket{endpoint="many",le="1"} 0\n' +
      'hookd_wait_seconds_bucket{endpoint="many",le="+Inf"} 0\n' +
      'hookd_wait_seconds_sum{endpoint="many"} 0\n' +
      'hookd_wait_seconds_count{endpoint="many"} 0\n',
  );
  assert.throws(
    () => new Histogram({ name: "h", help: "", buckets: [1, 1] }),
    /buckets must be finite and ascending/,
  );
});

Deno.test("the registry runs its collectors before rendering and refuses a name twice", async () => {
  const gauge = new Gauge({ name: "hookd_now", help: "Now." });
  let scrapes = 0;
  const registry = new MetricsRegistry().add(gauge).collect(async () => {
    await Promise.resolve();
    gauge.set(++scrapes);
  });
  assert.match(await registry.render(), /^hookd_now 1$/m);
  assert.match(await registry.render(), /^hookd_now 2$/m);
  assert.throws(
    () => registry.add(new Counter({ name: "hookd_now", help: "" })),
    /"hookd_now": it is registered already/,
  );
});

Deno.test("the registry reads totals back, summed over the series whose labels match", async () => {
  const attempts = new Counter({
    name: "hookd_tries_total",
    help: "Tries.",
    labels: [{ name: "class", values: ["2xx", "5xx"] }, { name: "kind", values: ["none", "x"] }],
  });
  attempts.add(3, "2xx", "none");
  attempts.add(2, "5xx", "x");
  attempts.inc("2xx", "x");
  const copied = new Counter({ name: "hookd_copied_total", help: "Kept elsewhere." });
  const registry = new MetricsRegistry().add(attempts, copied).collect(() => copied.set(7));
  assert.equal(registry.total("hookd_tries_total"), 6);
  assert.equal(registry.total("hookd_tries_total", { kind: "none" }), 3);
  assert.equal(registry.total("hookd_tries_total", { class: "2xx", kind: "x" }), 1);
  assert.equal(registry.total("hookd_unknown_total"), 0);
  assert.equal(registry.total("hookd_copied_total"), 0, "collectors have not run yet");
  await registry.refresh();
  assert.equal(registry.total("hookd_copied_total"), 7);
});
