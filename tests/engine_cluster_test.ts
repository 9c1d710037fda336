/**
 * Several daemons on one database: claims are leases, so no delivery is sent
 * by two of them at once, and a dead daemon's claims expire and are retaken.
 */
import assert from "node:assert/strict";
import { Authenticator } from "../src/api/auth.ts";
import { createApp } from "../src/api/app.ts";
import { Intake } from "../src/ingest/intake.ts";
import { MetricsRegistry } from "../src/ops/metrics_registry.ts";
import { systemClock } from "../src/clock.ts";
import { loadConfig } from "../src/config/load_config.ts";
import { silentLogger } from "../src/ops/log.ts";
import { Store } from "../src/store/client.ts";
import { ADMIN_KEY } from "../src/testing/api_harness.ts";
import { startReceiver } from "../src/testing/receiver.ts";
import { DeliveryEngine } from "../src/delivery/engine.ts";
import { webhookFixture } from "../src/testing/webhook_fixture.ts";

async function cluster(
  fn: (ctx: {
    config: ReturnType<typeof loadConfig>;
    stores: Store[];
    post: (path: string, body: unknown) => Promise<Response>;
  }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "hookd-cluster-" });
  const config = loadConfig({
    env: {
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_ADMIN_KEY: ADMIN_KEY,
      HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
      HOOKD_DELIVERY_HORIZON: "2s",
      HOOKD_DELIVERY_LEASE: "2s",
    },
    text: `[policies.default]\ntimeout = "1s"\n`,
  });
  const stores = [
    await Store.open(config.store),
    await Store.open(config.store),
  ];
  // An API with no engine behind it: ingest leaves deliveries pending for the daemons to race for.
  const auth = new Authenticator(stores[0]!, systemClock, ADMIN_KEY);
  const app = createApp({
    config,
    store: stores[0]!,
    clock: systemClock,
    auth,
    log: silentLogger,
    intake: new Intake({ store: stores[0]!, clock: systemClock }),
    metrics: new MetricsRegistry(),
  });
  const post = (path: string, body: unknown) =>
    Promise.resolve(app.request(`http://hookd.test${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }));
  try {
    await fn({ config, stores, post });
  } finally {
    for (const store of stores) await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("two daemons on one database deliver a load with no delivery sent twice", async () => {
  await using receiver = await startReceiver();
  let inFlight = new Map<string, number>();
  let overlaps = 0;
  receiver.respond(async (request) => {
    const id = request.headers["webhook-id"]!;
    const now = (inFlight.get(id) ?? 0) + 1;
    inFlight.set(id, now);
    if (now > 1) overlaps++;
    await new Promise((resolve) => setTimeout(resolve, 2));
    inFlight.set(id, inFlight.get(id)! - 1);
    return { status: 200 };
  });
  await cluster(async ({ config, stores, post }) => {
    assert.equal((await post("/api/v1/webhooks", { url: `${receiver.url}/a` })).status, 201);
    const total = 400;
    for (let i = 0; i < total; i += 100) {
      const events = Array.from(
        { length: 100 },
        (_, j) => ({ id: `e${i + j}`, type: "t", data: j }),
      );
      assert.equal((await post("/api/v1/events/batch", { events })).status, 202);
    }
    const engines = await Promise.all(
      stores.map((store, n) =>
        DeliveryEngine.start({
          config,
          store,
          clock: systemClock,
          log: silentLogger,
          owner: `daemon-${n}`,
        })
      ),
    );
    try {
      await receiver.waitForRequests(total, 20_000);
      // Give a double send every chance to show up before counting.
      for (const engine of engines) await engine.refill();
      const counts = new Map<string, number>();
      for (const r of receiver.requests) {
        const id = r.headers["webhook-id"]!;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      assert.equal(counts.size, total);
      assert.deepEqual([...counts.values()].filter((n) => n !== 1), []);
      assert.equal(overlaps, 0);
      // Every attempt is accounted for by exactly one daemon once their results are in.
      const deadline = Date.now() + 10_000;
      const attempts = () => engines.reduce((sum, e) => sum + e.stats().attempts, 0);
      while (attempts() < total && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(attempts(), total);
    } finally {
      for (const engine of engines) await engine.stop(1_000);
    }
  });
  inFlight = new Map();
});

Deno.test("a dead daemon's claims expire and another daemon delivers them", async () => {
  await using receiver = await startReceiver();
  await cluster(async ({ config, stores }) => {
    const now = Date.now();
    await stores[0]!.write("insertWebhook", {
      webhook: webhookFixture("w1", ["*"], now, { url: `${receiver.url}/a` }),
    });
    // A daemon claimed these at ingest, then died before sending anything.
    await stores[0]!.write("ingest", {
      events: [1, 2, 3].map((n) => ({
        id: `e${n}`,
        tenantId: null,
        type: "t",
        payload: "{}",
        fingerprint: `f${n}`,
      })),
      now,
      lease: { owner: "dead-daemon", until: now + 300 },
    });
    const engine = await DeliveryEngine.start({
      config,
      store: stores[1]!,
      clock: systemClock,
      log: silentLogger,
      owner: "survivor",
    });
    try {
      const received = await receiver.waitForRequests(3, 10_000);
      assert.deepEqual(received.map((r) => r.headers["webhook-id"]).sort(), ["e1", "e2", "e3"]);
      // None was sent before the dead daemon's lease ran out.
      assert.ok(received.every((r) => r.receivedAt >= now + 300));
    } finally {
      await engine.stop(1_000);
    }
  });
});
