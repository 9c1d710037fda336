/**
 * Scale-out as an operator runs it: two `main.ts serve` processes on one
 * database file. Whichever daemon a webhook was made on and whichever one an
 * event is posted to, fan-out sees exactly the webhooks of the moment the
 * event commits, every delivery is sent once, and a pause or disable made on
 * one daemon is honoured by the other for new events at once and for queued
 * retries before their next attempt.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, type RunningDaemon, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "scale-out-test-admin-key-0123456789";

const POLICY = `[policies.default]
timeout = "2s"
schedule = ["0s", "300ms", "300ms", "300ms", "300ms", "300ms", "300ms", "300ms"]
jitter = 0
`;

interface Accepted {
  id: string;
  deliveries: { id: string; webhook_id: string; state: string }[];
}

async function twoDaemons(fn: (a: RunningDaemon, b: RunningDaemon) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "hookd-scale-out-" });
  const config = `${dir}/hookd.toml`;
  await Deno.writeTextFile(config, POLICY);
  const env = daemonEnv(dir, ADMIN_KEY, {
    HOOKD_LOG_LEVEL: "warn",
    HOOKD_DELIVERY_HORIZON: "2s",
  });
  const daemons: RunningDaemon[] = [];
  try {
    daemons.push(await startDaemon({ dir, env, args: ["--config", config] }));
    daemons.push(await startDaemon({ dir, env, args: ["--config", config] }));
    await fn(daemons[0]!, daemons[1]!);
    for (const daemon of daemons) assert.equal(await daemon.stop("SIGTERM"), 0);
  } catch (error) {
    if (error instanceof Error) error.message += daemons.map((d) => d.output()).join("\n");
    throw error;
  } finally {
    for (const daemon of daemons) await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
}

function post(daemon: RunningDaemon, body: unknown) {
  return api<Accepted>(daemon, "POST", "/api/v1/events", { key: ADMIN_KEY, body });
}

async function until(what: string, condition: () => Promise<boolean> | boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

Deno.test("two daemons on one database: a webhook made on A gets every event posted to B, once", async () => {
  await using receiver = await startReceiver();
  await twoDaemons(async (a, b) => {
    const hook = await api<{ id: string }>(a, "POST", "/api/v1/webhooks", {
      key: ADMIN_KEY,
      body: { url: `${receiver.url}/hook`, event_types: ["order.*"] },
    });
    assert.equal(hook.status, 201);

    // 400 events split over both daemons, 8 producers each, posted at once.
    const ids = Array.from({ length: 400 }, (_, i) => `evt-${i}`);
    const accepted = new Map<string, Accepted>();
    await Promise.all(Array.from({ length: 16 }, async (_, producer) => {
      for (let i = producer; i < ids.length; i += 16) {
        const daemon = i % 2 === 0 ? a : b;
        const res = await post(daemon, { id: ids[i], type: "order.created", data: { i } });
        assert.equal(res.status, 202, JSON.stringify(res.body));
        accepted.set(ids[i]!, res.body);
      }
    }));
    for (const [id, body] of accepted) {
      assert.equal(
        body.deliveries.length,
        1,
        `event ${id} fanned out to ${body.deliveries.length}`,
      );
      assert.equal(body.deliveries[0]!.webhook_id, hook.body.id);
    }

    await receiver.waitForRequests(ids.length, 20_000);
    const seen = receiver.requests.map((r) => r.headers["webhook-id"]!);
    assert.deepEqual([...new Set(seen)].sort(), [...ids].sort());
    assert.equal(seen.length, ids.length, "some event was delivered twice");
  });
});

Deno.test("two daemons on one database: pause and disable made on A are honoured by B", async () => {
  await using receiver = await startReceiver();
  await twoDaemons(async (a, b) => {
    const hook = await api<{ id: string }>(a, "POST", "/api/v1/webhooks", {
      key: ADMIN_KEY,
      body: { url: `${receiver.url}/hook` },
    });
    const path = `/api/v1/webhooks/${hook.body.id}`;
    const patch = (daemon: RunningDaemon, body: unknown) =>
      api(daemon, "PATCH", path, { key: ADMIN_KEY, body });
    const delivery = (id: string) =>
      api<{ state: string; attempt_count: number }>(b, "GET", `/api/v1/deliveries/${id}`, {
        key: ADMIN_KEY,
      });

    // A retry queued on B: the receiver fails until told otherwise, B keeps scheduling.
    let failing = true;
    receiver.respond(() => ({ status: failing ? 500 : 200 }));
    const failing1 = await post(b, { type: "retry.me", data: 1 });
    assert.equal(failing1.body.deliveries.length, 1);
    const retried = failing1.body.deliveries[0]!.id;
    await until("the first attempt", async () => (await delivery(retried)).body.attempt_count >= 1);

    // Paused on A: B's queued retry is held before its next attempt (an attempt already in
    // flight may finish), and an event posted to B is held.
    assert.equal((await patch(a, { state: "paused" })).status, 200);
    await until(
      "the retry to be held",
      async () => (await delivery(retried)).body.state === "held",
    );
    const attemptsWhenHeld = (await delivery(retried)).body.attempt_count;
    const during = await post(b, { type: "while.paused", data: 2 });
    assert.deepEqual(during.body.deliveries.map((d) => d.state), ["held"]);
    failing = false;

    // Resumed on A: both are delivered (by whichever daemon claims them), each with one
    // attempt more than it had when held: nothing was attempted while paused.
    assert.equal((await patch(a, { state: "enabled" })).status, 200);
    await until(
      "both to succeed",
      async () =>
        (await delivery(retried)).body.state === "succeeded" &&
        (await delivery(during.body.deliveries[0]!.id)).body.state === "succeeded",
    );
    assert.equal((await delivery(retried)).body.attempt_count, attemptsWhenHeld + 1);
    assert.equal((await delivery(during.body.deliveries[0]!.id)).body.attempt_count, 1);
    const requestsBeforeDisable = receiver.requests.length;
    assert.equal(requestsBeforeDisable, attemptsWhenHeld + 2);

    // Disabled on A: an event posted to B creates no delivery at all (seed 004).
    assert.equal((await patch(a, { enabled: false })).status, 200);
    const disabled = await post(b, { type: "while.disabled", data: 3 });
    assert.equal(disabled.status, 202);
    assert.deepEqual(disabled.body.deliveries, []);
    assert.equal(receiver.requests.length, requestsBeforeDisable);
  });
});
