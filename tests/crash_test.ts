/**
 * Durability of the real program: SIGKILL during a load loses no accepted
 * event, and SIGTERM lets an attempt in flight finish and be recorded.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, type RunningDaemon, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "crash-test-admin-key-0123456789";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-crash-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function env(dir: string): Record<string, string> {
  return daemonEnv(dir, ADMIN_KEY, {
    HOOKD_LOG_LEVEL: "warn",
    // Short leases: a killed daemon's claims are retaken soon after restart.
    HOOKD_DELIVERY_LEASE: "2s",
    HOOKD_DELIVERY_HORIZON: "2s",
  });
}

const POLICY = `[policies.default]
timeout = "1s"
schedule = ["0s", "200ms", "200ms", "200ms", "200ms", "200ms"]
jitter = 0
`;

async function guarded(daemons: RunningDaemon[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof Error) error.message += daemons.map((d) => d.output()).join("\n");
    throw error;
  } finally {
    for (const daemon of daemons) await daemon.kill();
  }
}

Deno.test("SIGKILL during a load: after a restart every acknowledged event is delivered", async () => {
  await using receiver = await startReceiver();
  await withTempDir(async (dir) => {
    const config = `${dir}/hookd.toml`;
    await Deno.writeTextFile(config, POLICY);
    const daemons: RunningDaemon[] = [];
    const first = await startDaemon({ dir, env: env(dir), args: ["--config", config] });
    daemons.push(first);
    await guarded(daemons, async () => {
      const hook = await api(first, "POST", "/api/v1/webhooks", {
        key: ADMIN_KEY,
        body: { url: `${receiver.url}/hook` },
      });
      assert.equal(hook.status, 201);

      // Producers post as fast as they can; the daemon dies under them.
      const acknowledged = new Set<string>();
      let stop = false;
      const producer = async (worker: number) => {
        for (let i = 0; !stop; i++) {
          const id = `w${worker}-e${i}`;
          try {
            const res = await api(first, "POST", "/api/v1/events", {
              key: ADMIN_KEY,
              body: { id, type: "load.test", data: { i } },
            });
            if (res.status === 202) acknowledged.add(id);
          } catch {
            return; // the daemon is gone
          }
        }
      };
      const producers = Array.from({ length: 8 }, (_, w) => producer(w));
      await receiver.waitForRequests(50, 20_000);
      first.process.kill("SIGKILL");
      stop = true;
      await Promise.all(producers);
      await first.stop();
      assert.ok(acknowledged.size >= 50, `only ${acknowledged.size} acknowledged`);

      const second = await startDaemon({ dir, env: env(dir), args: ["--config", config] });
      daemons.push(second);
      const received = () => new Set(receiver.requests.map((r) => r.headers["webhook-id"]));
      const deadline = Date.now() + 30_000;
      while ([...acknowledged].some((id) => !received().has(id)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const missing = [...acknowledged].filter((id) => !received().has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.size} never arrived`);
      assert.equal(await second.stop("SIGTERM"), 0);
    });
  });
});

Deno.test("SIGTERM lets an attempt in flight finish and records it", async () => {
  await using receiver = await startReceiver();
  const arrived = Promise.withResolvers<void>();
  receiver.respond(async () => {
    arrived.resolve();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { status: 200, body: "late but fine" };
  });
  await withTempDir(async (dir) => {
    const config = `${dir}/hookd.toml`;
    await Deno.writeTextFile(config, POLICY);
    const args = ["--config", config];
    const daemons: RunningDaemon[] = [];
    const first = await startDaemon({ dir, env: env(dir), args });
    daemons.push(first);
    await guarded(daemons, async () => {
      await api(first, "POST", "/api/v1/webhooks", {
        key: ADMIN_KEY,
        body: { url: `${receiver.url}/hook` },
      });
      const event = await api<{ deliveries: { id: string }[] }>(first, "POST", "/api/v1/events", {
        key: ADMIN_KEY,
        body: { type: "a.b", data: 1 },
      });
      await arrived.promise;
      assert.equal(await first.stop("SIGTERM"), 0);

      const second = await startDaemon({ dir, env: env(dir), args });
      daemons.push(second);
      const delivery = await api<{ state: string; attempts: { response_body: string }[] }>(
        second,
        "GET",
        `/api/v1/deliveries/${event.body.deliveries[0]!.id}`,
        { key: ADMIN_KEY },
      );
      assert.equal(delivery.body.state, "succeeded");
      assert.equal(delivery.body.attempts.length, 1);
      assert.equal(delivery.body.attempts[0]!.response_body, "late but fine");
      assert.equal(receiver.requests.length, 1);
      assert.equal(await second.stop("SIGTERM"), 0);
    });
  });
});
