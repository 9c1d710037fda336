import assert from "node:assert/strict";
import { Store } from "../store/client.ts";
import type { DueDelivery } from "../store/delivery_queue.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { captureLogs } from "../testing/log_capture.ts";
import { webhookFixture } from "../testing/webhook_fixture.ts";
import { within } from "../testing/within.ts";
import { AttemptRecorder } from "./recorder.ts";

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

let attempts = 0;
/** An attempt's conclusion for webhook "w" as the dispatcher hands it over. */
function conclusion(deliveryId: string, state: "succeeded" | "pending" | "dead") {
  return {
    attempt: attemptFixture(`att-${++attempts}`, deliveryId, NOW),
    verdict: {
      state,
      nextAttemptAt: state === "pending" ? NOW + 5_000 : null,
      scheduleAttempts: 1,
    },
    health: {
      webhookId: "w",
      kind: state === "succeeded"
        ? "success" as const
        : state === "pending"
        ? "failure" as const
        : "ended" as const,
      at: NOW,
      problem: state === "succeeded" ? null : "HTTP 500",
      disablingStatus: null,
      rules: { failingForMs: null, exhaustedInRow: null },
    },
  };
}

/** A store with webhook "w" and one claimed delivery (owner "me") per event id. */
async function storeWithClaimed(
  dir: string,
  eventIds: string[],
  deferrableWindowMs?: number,
): Promise<{ store: Store; deliveryIds: string[] }> {
  const store = await Store.open(
    {
      url: `file:${dir}/hookd.db`,
      authToken: "",
      commitWindowMs: 0,
      commitMaxBatch: 64,
      deferrableWindowMs,
    },
    NOW,
  );
  await store.write("insertWebhook", { webhook: webhookFixture("w", ["*"], NOW) });
  const events = eventIds.map((id) => ({
    id,
    tenantId: null,
    type: "t",
    payload: "{}",
    fingerprint: id,
  }));
  const results = await store.write("ingest", {
    events,
    now: NOW,
    lease: { owner: "me", until: NOW + 60_000 },
  });
  const deliveryIds = results.map((r) => r.status === "created" ? r.deliveries[0]!.id : "");
  return { store, deliveryIds };
}

Deno.test("the recorder writes each conclusion, hands retries back and counts outcomes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-recorder-" });
  const { store, deliveryIds } = await storeWithClaimed(dir, ["e1", "e2", "e3"]);
  try {
    const [d1, d2, d3] = deliveryIds;
    const retries: DueDelivery[] = [];
    const logs = captureLogs("info");
    const recorder = new AttemptRecorder({
      store,
      owner: "me",
      log: logs.log,
      onRetry: (d) => retries.push(d),
    });
    const subject = { webhookId: "w", event: { id: "e", type: "t" } };
    await recorder.record(conclusion(d1!, "succeeded"), subject, NOW);
    await recorder.record(conclusion(d2!, "pending"), subject, NOW);
    await recorder.record(conclusion(d3!, "dead"), subject, NOW);
    // Recorded again: the delivery is no longer held by "me", so nothing follows.
    await recorder.record(conclusion(d2!, "pending"), subject, NOW);

    assert.deepEqual(retries, [{ id: d2, webhookId: "w", dueAt: NOW + 5_000 }]);
    // Logged once each, as the store took them: the history-only write logs no attempt.
    assert.deepEqual(
      logs.withMessage("attempt").map((e) => [e.delivery_id, e.outcome, e.next_attempt_at]),
      [[d1, "succeeded", null], [d2, "retry", new Date(NOW + 5_000).toISOString()], [
        d3,
        "dead",
        null,
      ]],
    );
    assert.deepEqual(recorder.stats(), {
      attempts: 4,
      recording: 0,
      succeeded: 1,
      retried: 1,
      failed: 0,
      dead: 1,
    });
    const states = [];
    for (const id of [d1!, d2!, d3!]) {
      states.push((await store.read("getDelivery", { id }))!.delivery.state);
    }
    assert.deepEqual(states, ["succeeded", "pending", "dead"]);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a result waits out its window unless the next of its ordering key waits on it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-recorder-" });
  // Deferrable writes may wait a minute here, far longer than this test.
  const { store, deliveryIds: [unordered, ordered] } = await storeWithClaimed(
    dir,
    ["e1", "e2"],
    60_000,
  );
  try {
    const recorder = new AttemptRecorder({
      store,
      owner: "me",
      log: captureLogs("info").log,
      onRetry: () => {},
    });
    const subject = { webhookId: "w", event: { id: "e", type: "t" } };
    let unorderedDone = false;
    const recording = recorder.record(conclusion(unordered!, "succeeded"), subject, NOW)
      .then(() => unorderedDone = true);
    // A delivery of an ordering key: the next of its key waits, so its result
    // commits at once.
    await within(
      recorder.record(conclusion(ordered!, "succeeded"), { ...subject, orderingKey: "k" }, NOW),
      10_000,
      "an ordered delivery's result",
    );
    const state = async (id: string) => (await store.read("getDelivery", { id }))!.delivery.state;
    assert.equal(await state(ordered!), "succeeded");
    // Nobody waits on the other one: it is still in its window.
    assert.equal(unorderedDone, false, "a result with nobody waiting on it committed at once");
    assert.equal(recorder.stats().recording, 1);
    assert.equal(await state(unordered!), "sending");
    // A stop commits it.
    await store.close();
    await recording;
    assert.equal(recorder.stats().recording, 0);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
