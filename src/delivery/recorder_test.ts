import assert from "node:assert/strict";
import { Store } from "../store/client.ts";
import type { DueDelivery } from "../store/delivery_queue.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { captureLogs } from "../testing/log_capture.ts";
import { webhookFixture } from "../testing/webhook_fixture.ts";
import { AttemptRecorder } from "./recorder.ts";

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

Deno.test("the recorder writes each conclusion, hands retries back and counts outcomes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-recorder-" });
  const store = await Store.open(
    { url: `file:${dir}/hookd.db`, authToken: "", commitWindowMs: 0, commitMaxBatch: 64 },
    NOW,
  );
  try {
    await store.write("insertWebhook", { webhook: webhookFixture("w", ["*"], NOW) });
    const events = ["e1", "e2", "e3"].map((id) => ({
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
    const [d1, d2, d3] = results.map((r) => r.status === "created" ? r.deliveries[0]!.id : "");
    const retries: DueDelivery[] = [];
    const logs = captureLogs("info");
    const recorder = new AttemptRecorder({
      store,
      owner: "me",
      log: logs.log,
      onRetry: (d) => retries.push(d),
    });
    let attempts = 0;
    const conclusion = (deliveryId: string, state: "succeeded" | "pending" | "dead") => ({
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
