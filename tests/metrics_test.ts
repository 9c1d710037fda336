/**
 * `/metrics` of a real daemon (main.ts as a child process) that delivered a
 * few events: one succeeds at once, one after a retry, one goes dead, one is
 * held by a paused webhook. The output must pass `promtool check metrics`
 * (Debian's `prometheus` package; `.ci/run` installs it), carry every family
 * hookd documents with values that match what happened, and stay behind
 * `[server] metrics_key` when one is set.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "metrics-test-admin-key-0123456789";
const METRICS_KEY = "metrics-test-scrape-key";

/** Every family `/metrics` shows, with its type. */
const FAMILIES: Readonly<Record<string, string>> = {
  hookd_events_ingested_total: "counter",
  hookd_retention_purged_total: "counter",
  hookd_attempts_total: "counter",
  hookd_attempts_retried_total: "counter",
  hookd_attempt_duration_seconds: "histogram",
  hookd_deliveries_finished_total: "counter",
  hookd_scheduling_lateness_seconds: "histogram",
  hookd_deliveries_queued: "gauge",
  hookd_attempts_in_flight: "gauge",
  hookd_oauth2_token_requests_total: "counter",
  hookd_deliveries_payload_bytes: "gauge",
  hookd_deliveries_scheduled: "gauge",
  hookd_deliveries_pending_due_soon: "gauge",
  hookd_deliveries_pending_later: "gauge",
  hookd_deliveries_held: "gauge",
  hookd_deliveries_dead: "gauge",
  hookd_webhooks: "gauge",
  hookd_circuit_transitions_total: "counter",
  hookd_webhook_circuits: "gauge",
  hookd_webhooks_concurrency_reduced: "gauge",
  hookd_store_transactions_total: "counter",
  hookd_store_writes_total: "counter",
  hookd_store_commit_batch_size: "histogram",
  hookd_store_commit_duration_seconds: "histogram",
  hookd_store_heap_size_total_bytes: "gauge",
  hookd_store_heap_size_used_bytes: "gauge",
  hookd_ingest_ack_duration_seconds: "histogram",
  hookd_api_connections_accepted_total: "counter",
  hookd_api_connections_refused_total: "counter",
  hookd_api_connections_timed_out_total: "counter",
  hookd_api_requests_rejected_total: "counter",
  process_resident_memory_bytes: "gauge",
  process_cpu_seconds_total: "counter",
  process_start_time_seconds: "gauge",
  process_open_fds: "gauge",
  nodejs_heap_size_total_bytes: "gauge",
  nodejs_heap_size_used_bytes: "gauge",
  nodejs_external_memory_bytes: "gauge",
};

const CONFIG = `
[policies.default]
timeout = "5s"
# Two attempts, the second 50 ms after the first: a retry and a dead letter within the test.
schedule = ["0s", "50ms"]
jitter = 0
on_exhausted = "dead"
`;

async function promtoolPath(): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const path = `${dir}/promtool`;
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch { /* not here */ }
  }
  return undefined;
}

const promtool = await promtoolPath();
const inCi = Deno.env.get("CI") === "true";
if (!promtool && !inCi) {
  console.log(
    "metrics_test: promtool not found, `promtool check metrics` is skipped " +
      "(apt-get install prometheus; .ci/run installs it)",
  );
}

/** The value of one sample line, e.g. `name{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

Deno.test("/metrics of a daemon that delivered passes promtool and shows every family", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-metrics-" });
  let flaky = 0;
  await using receiver = await startReceiver({
    respond: (request) => {
      if (request.path === "/flaky") return { status: flaky++ === 0 ? 500 : 200 };
      if (request.path === "/down") return { status: 503 };
      return { status: 200 };
    },
  });
  await Deno.writeTextFile(`${dir}/hookd.toml`, CONFIG);
  const daemon = await startDaemon({
    dir,
    env: daemonEnv(dir, ADMIN_KEY, {
      HOOKD_CONFIG: `${dir}/hookd.toml`,
      // Through the front door, so its counters count.
      HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: "true",
      HOOKD_SERVER_METRICS_KEY: METRICS_KEY,
    }),
  });
  try {
    const deliveries: Record<string, string> = {};
    for (const name of ["ok", "flaky", "down", "paused"]) {
      const webhook = await api<{ id: string }>(daemon, "POST", "/api/v1/webhooks", {
        key: ADMIN_KEY,
        body: {
          url: `${receiver.url}/${name}`,
          event_types: [`test.${name}`],
          state: name === "paused" ? "paused" : "enabled",
        },
      });
      assert.equal(webhook.status, 201, daemon.output());
    }
    for (const name of ["ok", "flaky", "down"]) {
      const posted = await api<{ deliveries: { id: string }[] }>(daemon, "POST", "/api/v1/events", {
        key: ADMIN_KEY,
        body: { type: `test.${name}`, data: { name } },
      });
      assert.equal(posted.status, 202, daemon.output());
      deliveries[name] = posted.body.deliveries[0]!.id;
    }
    const batch = await api(daemon, "POST", "/api/v1/events/batch", {
      key: ADMIN_KEY,
      body: { events: [{ type: "test.paused", data: 1 }, { type: "nobody.listens", data: 2 }] },
    });
    assert.equal(batch.status, 202, JSON.stringify(batch.body));

    // A request the front door refuses itself: two different lengths.
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(daemon.url).port),
    });
    await conn.write(new TextEncoder().encode(
      "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ));
    const answer = new Uint8Array(512);
    const n = await conn.read(answer);
    conn.close();
    assert.match(new TextDecoder().decode(answer.subarray(0, n ?? 0)), /^HTTP\/1\.1 400 /);

    // Until the three deliveries end (the receiver has seen 1 + 2 + 2 requests).
    await receiver.waitForRequests(5, 15_000);
    const expected: Record<string, string> = { ok: "succeeded", flaky: "succeeded", down: "dead" };
    const deadline = Date.now() + 10_000;
    for (const [name, state] of Object.entries(expected)) {
      for (;;) {
        assert.ok(Date.now() < deadline, `delivery ${name} did not end ${state}${daemon.output()}`);
        const d = await api<{ state: string }>(
          daemon,
          "GET",
          `/api/v1/deliveries/${deliveries[name]}`,
          {
            key: ADMIN_KEY,
          },
        );
        if (d.body.state === state) break;
        assert.ok(["pending", "sending"].includes(d.body.state), JSON.stringify(d.body));
      }
    }

    await t.step("the metrics key is required when set", async () => {
      const none = await api<{ error: { code: string } }>(daemon, "GET", "/metrics");
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, "unauthorized");
      const wrong = await api(daemon, "GET", "/metrics", { key: ADMIN_KEY });
      assert.equal(wrong.status, 401, "the admin key is not the metrics key");
    });

    const scraped = await api<string>(daemon, "GET", "/metrics", { key: METRICS_KEY });
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = scraped.body;

    await t.step("every family is there, with its type", () => {
      const types = new Map(
        [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
      );
      for (const [name, type] of Object.entries(FAMILIES)) {
        assert.equal(types.get(name), type, `${name} is missing or not a ${type}\n${text}`);
      }
      assert.deepEqual([...types.keys()].filter((name) => !(name in FAMILIES)), []);
    });

    await t.step("the values match what happened", () => {
      const at = (series: string) => {
        const value = sample(text, series);
        assert.ok(value !== undefined, `no sample ${series}\n${text}`);
        return value;
      };
      assert.equal(at("hookd_events_ingested_total"), 5);
      assert.equal(at('hookd_deliveries_finished_total{outcome="succeeded"}'), 2);
      assert.equal(at('hookd_deliveries_finished_total{outcome="dead"}'), 1);
      assert.equal(at('hookd_deliveries_finished_total{outcome="failed"}'), 0);
      assert.equal(at("hookd_attempts_retried_total"), 2);
      assert.equal(at('hookd_attempts_total{status_class="2xx",error_kind="none"}'), 2);
      assert.equal(at('hookd_attempts_total{status_class="5xx",error_kind="status"}'), 3);
      assert.equal(at("hookd_attempt_duration_seconds_count"), 5);
      assert.equal(at('hookd_attempt_duration_seconds_bucket{le="+Inf"}'), 5);
      // The first attempts came straight from ingest; the two retries through the wheel.
      assert.equal(at("hookd_scheduling_lateness_seconds_count"), 2);
      assert.equal(at('hookd_ingest_ack_duration_seconds_count{endpoint="events"}'), 3);
      assert.equal(at('hookd_ingest_ack_duration_seconds_count{endpoint="events_batch"}'), 1);
      assert.equal(at("hookd_deliveries_held"), 1);
      assert.equal(at("hookd_deliveries_dead"), 1);
      assert.equal(at("hookd_deliveries_pending_due_soon"), 0);
      assert.equal(at("hookd_deliveries_pending_later"), 0);
      assert.equal(at('hookd_webhooks{state="enabled"}'), 3);
      assert.equal(at('hookd_webhooks{state="paused"}'), 1);
      assert.equal(at('hookd_webhooks{state="disabled"}'), 0);
      assert.ok(at("hookd_store_transactions_total") > 0);
      assert.ok(at("hookd_store_commit_batch_size_count") > 0);
      assert.equal(
        at("hookd_store_commit_duration_seconds_count"),
        at("hookd_store_commit_batch_size_count"),
      );
      assert.equal(
        at("hookd_store_commit_batch_size_sum"),
        at("hookd_store_writes_total"),
        "every write committed went through a counted batch",
      );
      assert.ok(at("hookd_api_connections_accepted_total") > 0);
      assert.equal(at('hookd_api_requests_rejected_total{reason="bad_request"}'), 1);
      assert.equal(at("hookd_api_connections_refused_total"), 0);
      assert.ok(at("process_resident_memory_bytes") > 1_000_000);
      assert.ok(at("process_cpu_seconds_total") > 0);
      assert.ok(Math.abs(at("process_start_time_seconds") - Date.now() / 1000) < 3600);
      assert.ok(at("process_open_fds") > 0);
      assert.ok(at("nodejs_heap_size_used_bytes") > 1_000_000);
      assert.ok(at("nodejs_heap_size_total_bytes") >= at("nodejs_heap_size_used_bytes"));
      assert.ok(at("nodejs_external_memory_bytes") > 0);
      // The store thread's own heap: there, and not the main thread's figure again.
      assert.ok(at("hookd_store_heap_size_used_bytes") > 1_000_000);
      assert.ok(at("hookd_store_heap_size_total_bytes") >= at("hookd_store_heap_size_used_bytes"));
      assert.notEqual(at("hookd_store_heap_size_used_bytes"), at("nodejs_heap_size_used_bytes"));
    });

    await t.step({
      name: "promtool check metrics accepts the output",
      ignore: !promtool && !inCi,
      fn: async () => {
        assert.ok(promtool, "promtool is missing: CI must install Debian's prometheus package");
        const child = new Deno.Command(promtool, {
          args: ["check", "metrics"],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(text));
        await writer.close();
        const { code, stdout, stderr } = await child.output();
        const said = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
        assert.equal(code, 0, `promtool check metrics:\n${said}\n${text}`);
        assert.equal(said.trim(), "", `promtool's lint found problems:\n${said}`);
      },
    });
  } finally {
    await daemon.stop().catch(() => {});
    await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
