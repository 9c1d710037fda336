/**
 * Ordered delivery as an operator runs it: two `main.ts serve` processes on
 * one database, events of five keys posted to either, one daemon restarted
 * half-way. Per key the receiver sees the events in acceptance order and
 * never two at once; across keys they overlap.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, type RunningDaemon, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "ordering-cluster-test-admin-key-0123456789";
const KEYS = ["k0", "k1", "k2", "k3", "k4"];
const PER_KEY = 8;

Deno.test("two daemons and a restart: each key arrives in order, one at a time", async () => {
  // The receiver holds each request a little, so that two of one key in flight would overlap.
  const inFlight = new Map<string, number>();
  let overlaps = 0;
  let concurrentKeys = 0;
  await using receiver = await startReceiver({
    respond: async (request) => {
      const { key } = JSON.parse(request.body) as { key: string };
      const now = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, now);
      if (now > 1) overlaps++;
      concurrentKeys = Math.max(concurrentKeys, [...inFlight.values()].filter((v) => v > 0).length);
      // Longer than posting a round takes: without ordering, one key's events would overlap.
      await new Promise((resolve) => setTimeout(resolve, 150));
      inFlight.set(key, inFlight.get(key)! - 1);
      return { status: 200 };
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "hookd-ordering-" });
  const env = daemonEnv(dir, ADMIN_KEY, {
    HOOKD_LOG_LEVEL: "warn",
    HOOKD_DELIVERY_HORIZON: "2s",
  });
  const daemons: RunningDaemon[] = [];
  const start = async () => {
    const daemon = await startDaemon({ dir, env });
    daemons.push(daemon);
    return daemon;
  };
  try {
    let a = await start();
    const b = await start();
    const hook = await api<{ id: string }>(a, "POST", "/api/v1/webhooks", {
      key: ADMIN_KEY,
      body: { url: `${receiver.url}/hook`, ordering: "key" },
    });
    assert.equal(hook.status, 201);
    let n = 0;
    for (let round = 0; round < PER_KEY; round++) {
      if (round === PER_KEY / 2) {
        // Half-way: A stops (what it had claimed goes back to the store) and comes back.
        assert.equal(await a.stop("SIGTERM"), 0);
        a = await start();
      }
      for (const key of KEYS) {
        const daemon = n % 2 === 0 ? a : b;
        const posted = await api(daemon, "POST", "/api/v1/events", {
          key: ADMIN_KEY,
          body: { type: "t", data: { key, n }, ordering_key: key },
        });
        assert.equal(posted.status, 202);
        n++;
      }
    }
    const deadline = Date.now() + 30_000;
    while (receiver.requests.length < n) {
      if (Date.now() > deadline) {
        throw new Error(`only ${receiver.requests.length} of ${n} delivered`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const key of KEYS) {
      const seen = receiver.requests.map((r) => JSON.parse(r.body) as { key: string; n: number })
        .filter((d) => d.key === key).map((d) => d.n);
      const sorted = [...seen].sort((x, y) => x - y);
      assert.deepEqual(seen, sorted, `key ${key} out of order: ${seen}`);
      assert.equal(new Set(seen).size, PER_KEY, `key ${key}: ${seen}`);
    }
    assert.equal(overlaps, 0, "two deliveries of one key were in flight at once");
    assert.ok(concurrentKeys > 1, "different keys were delivered side by side");
    for (const daemon of daemons) await daemon.stop("SIGTERM");
  } catch (error) {
    if (error instanceof Error) error.message += daemons.map((d) => d.output()).join("\n");
    throw error;
  } finally {
    for (const daemon of daemons) await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
