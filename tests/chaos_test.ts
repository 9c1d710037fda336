/**
 * Chaos, bounded in time: producers post events while the daemon is killed
 * with SIGKILL and restarted 5 times at seeded random moments. At the end
 * every acknowledged event has reached the receiver at least once, and the
 * only duplicates are deliveries that can have been in flight at a kill.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, type RunningDaemon, startDaemon } from "./_daemon.ts";
import { seededRng } from "../src/testing/seeded_rng.ts";

const ADMIN_KEY = "chaos-test-admin-key-0123456789";
const KILLS = 5;
const CONCURRENCY = 16;

Deno.test("SIGKILL 5 times under load: every acknowledged event arrives at least once", async () => {
  await using receiver = await startReceiver();
  // Kept as requests arrive: the test must not slow its own receiver down.
  const receivedIds = new Set<string>();
  receiver.respond((request) => {
    receivedIds.add(request.headers["webhook-id"]!);
    return { status: 200 };
  });
  const dir = await Deno.makeTempDir({ prefix: "hookd-chaos-" });
  const config = `${dir}/hookd.toml`;
  await Deno.writeTextFile(
    config,
    `[delivery]\nconcurrency = ${CONCURRENCY}\nlease = "2s"\nhorizon = "2s"\n\n` +
      `[policies.default]\ntimeout = "1s"\nschedule = ["0s", "200ms", "200ms", "200ms", "200ms"]\njitter = 0\n`,
  );
  const env = daemonEnv(dir, ADMIN_KEY, {
    HOOKD_LOG_LEVEL: "warn",
  });
  const random = seededRng(5);
  const acknowledged = new Set<string>();
  const daemons: RunningDaemon[] = [];
  let next = 0;
  try {
    for (let round = 0; round <= KILLS; round++) {
      const daemon = await startDaemon({ dir, env, args: ["--config", config] });
      daemons.push(daemon);
      if (round === 0) {
        const hook = await api(daemon, "POST", "/api/v1/webhooks", {
          key: ADMIN_KEY,
          body: { url: `${receiver.url}/hook` },
        });
        assert.equal(hook.status, 201);
      }
      if (round === KILLS) break; // the last daemon only finishes the work
      let stop = false;
      const producer = async () => {
        while (!stop) {
          const id = `e${next++}`;
          try {
            const res = await api(daemon, "POST", "/api/v1/events/batch", {
              key: ADMIN_KEY,
              body: {
                events: Array.from(
                  { length: 20 },
                  (_, i) => ({ id: `${id}-${i}`, type: "t", data: i }),
                ),
              },
            });
            if (res.status === 202) {
              for (let i = 0; i < 10; i++) acknowledged.add(`${id}-${i}`);
            }
          } catch {
            return; // killed under us
          }
        }
      };
      const producers = Array.from({ length: 2 }, producer);
      // Kill after a seeded number of receipts in this round: sometimes early, sometimes late.
      const target = receiver.requests.length + 200 + Math.floor(random() * 400);
      await receiver.waitForRequests(target, 20_000);
      daemon.process.kill("SIGKILL");
      stop = true;
      await Promise.all(producers);
      await daemon.stop();
    }
    assert.ok(acknowledged.size >= 1500, `only ${acknowledged.size} events acknowledged`);
    const received = () => receivedIds;
    const deadline = Date.now() + 30_000;
    const allIn = () => {
      for (const id of acknowledged) if (!receivedIds.has(id)) return false;
      return true;
    };
    while (!allIn() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const missing = [...acknowledged].filter((id) => !received().has(id));
    if (missing.length > 0) {
      const last = daemons[daemons.length - 1]!;
      const samples = [];
      for (const id of missing.slice(0, 3)) {
        samples.push((await api(last, "GET", `/api/v1/events/${id}`, { key: ADMIN_KEY })).body);
      }
      // Only the delivery figures: the whole exposition would push the samples
      // out of a CI log's visible tail.
      const metrics = (await (await fetch(`${last.url}/metrics`)).text())
        .split("\n")
        .filter((line) =>
          /^hookd_(deliveries|attempts|events_ingested|webhook|circuit)/.test(line)
        );
      assert.fail(
        `${missing.length} of ${acknowledged.size} lost: ${JSON.stringify(samples)}\n` +
          metrics.join("\n"),
      );
    }
    // A duplicate is a delivery sent and not yet recorded when a kill came: per
    // kill at most the attempts in flight plus two group-commit batches of results.
    const duplicates = receiver.requests.length - received().size;
    assert.ok(duplicates <= KILLS * (CONCURRENCY + 2 * 512), `${duplicates} duplicates`);
    const perEvent = new Map<string, number>();
    for (const r of receiver.requests) {
      const id = r.headers["webhook-id"]!;
      perEvent.set(id, (perEvent.get(id) ?? 0) + 1);
    }
    assert.ok(
      Math.max(...perEvent.values()) <= KILLS + 1,
      "an event was sent more often than kills allow",
    );
    console.log(
      `chaos: ${KILLS} kills, ${acknowledged.size} events acknowledged, all received; ` +
        `${duplicates} duplicate receipts`,
    );
    assert.equal(await daemons[daemons.length - 1]!.stop("SIGTERM"), 0);
  } finally {
    for (const daemon of daemons) await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
