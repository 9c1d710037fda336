/**
 * Ordered delivery (`ordering = "key"`): deliveries with the same
 * `ordering_key` go one at a time, in acceptance order, while other keys,
 * events without a key and unordered webhooks are unaffected; what a dead
 * predecessor does under `key` and `key_strict`. Virtual time here; two real
 * daemons and a restart in tests/ordering_cluster_test.ts.
 */
import assert from "node:assert/strict";
import type { AttemptResult, AttemptTransport, SendRequest } from "../src/delivery/sender.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { type EngineHarness, withEngine } from "../src/testing/engine_harness.ts";
import { seededRng } from "../src/testing/seeded_rng.ts";
import { MINUTE, readDelivery, START, TICK } from "./contracts/_helpers.ts";

/** Answers from a per-key script (503s first), recording what went out, in order. */
class KeyedSender implements AttemptTransport {
  readonly sent: { path: string; key: string | null; n: number }[] = [];
  /** How many more times each `path|key` answers 503 before 200. */
  readonly failures = new Map<string, number>();

  send(request: SendRequest): Promise<AttemptResult> {
    const body = JSON.parse(request.body) as { data: { key: string | null; n: number } };
    const path = new URL(request.url).pathname;
    const id = `${path}|${body.data.key}`;
    this.sent.push({ path, key: body.data.key, n: body.data.n });
    const left = this.failures.get(id) ?? 0;
    if (left > 0) this.failures.set(id, left - 1);
    const status = left > 0 ? 503 : 200;
    return Promise.resolve({
      outcome: { kind: "response", status },
      status,
      responseHeaders: {},
      responseBody: "",
      durationMs: 0,
      errorMessage: null,
    });
  }

  /** The `n`s sent to `path` for `key`, in sending order. */
  order(path: string, key: string | null): number[] {
    return this.sent.filter((s) => s.path === path && s.key === key).map((s) => s.n);
  }
}

const TOML = `[policies.default]
schedule = ["0s", "1m", "1m"]
jitter = 0
disable_after_failing_for = "never"
disable_on_status = []
breaker_failures = 0
adaptive_concurrency = false

[profiles.standard]
body = { data = "{data}" }
`;

async function createWebhook(h: EngineHarness, path: string, ordering: string) {
  const res = await h.api("POST", "/api/v1/webhooks", {
    url: `http://127.0.0.1:9${path}`,
    ordering,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.ordering, ordering);
  return res.body as { id: string };
}

/** Runs virtual time a minute at a time until nothing more goes out. */
async function drain(h: EngineHarness, clock: FakeClock, sender: KeyedSender) {
  await h.settle();
  for (let quiet = 0; quiet < 2;) {
    const before = sender.sent.length;
    clock.advance(MINUTE);
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    quiet = sender.sent.length === before ? quiet + 1 : 0;
  }
}

Deno.test("same key: one at a time in acceptance order; other keys, no key and unordered webhooks interleave", async () => {
  const clock = new FakeClock(START);
  const sender = new KeyedSender();
  await withEngine({ clock, sender, rng: seededRng(1), configToml: TOML }, async (h) => {
    await createWebhook(h, "/ordered", "key");
    await createWebhook(h, "/plain", "none");
    // The first of key "a" fails twice before it succeeds: the rest of "a" must wait for it.
    sender.failures.set("/ordered|a", 2);
    const events = [];
    for (let n = 0; n < 12; n++) {
      const key = ["a", "b", null][n % 3]!;
      events.push({ type: "t", data: { key, n }, ...(key === null ? {} : { ordering_key: key }) });
    }
    const res = await h.api("POST", "/api/v1/events/batch", { events });
    assert.equal(res.status, 202);
    await h.settle();
    // At once: the head of "a", the head of "b", every keyless one; to /plain, all 12.
    assert.deepEqual(sender.order("/ordered", "a"), [0]);
    assert.deepEqual(sender.order("/ordered", "b"), [1]);
    assert.deepEqual(sender.order("/ordered", null), [2, 5, 8, 11]);
    assert.equal(sender.sent.filter((s) => s.path === "/plain").length, 12);

    await drain(h, clock, sender);
    // Key "a": 0 three times (two 503s and the success), then 3, 6, 9 in order.
    assert.deepEqual(sender.order("/ordered", "a"), [0, 0, 0, 3, 6, 9]);
    assert.deepEqual(sender.order("/ordered", "b"), [1, 4, 7, 10]);
    const read = await h.api("GET", `/api/v1/events/${res.body.data[0].id}`);
    assert.equal(read.body.ordering_key, "a");
  });
});

Deno.test('a dead predecessor releases the next under "key" and holds it under "key_strict"', async () => {
  const clock = new FakeClock(START);
  const sender = new KeyedSender();
  await withEngine({ clock, sender, rng: seededRng(2), configToml: TOML }, async (h) => {
    await createWebhook(h, "/lenient", "key");
    const strict = await createWebhook(h, "/strict", "key_strict");
    // Both webhooks: the first of key "k" fails all three attempts and is dead.
    sender.failures.set("/lenient|k", 3);
    sender.failures.set("/strict|k", 3);
    const res = await h.api("POST", "/api/v1/events/batch", {
      events: [0, 1, 2].map((n) => ({ type: "t", data: { key: "k", n }, ordering_key: "k" })),
    });
    await drain(h, clock, sender);
    assert.deepEqual(sender.order("/lenient", "k"), [0, 0, 0, 1, 2]);
    assert.deepEqual(sender.order("/strict", "k"), [0, 0, 0], "the rest wait behind the dead one");

    // Replaying the dead one under key_strict: once it succeeds, the rest follow in order.
    const strictDeliveries = [];
    for (const e of res.body.data as { deliveries: { id: string; webhook_id: string }[] }[]) {
      strictDeliveries.push(e.deliveries.find((d) => d.webhook_id === strict.id)!.id);
    }
    assert.equal((await readDelivery(h, strictDeliveries[0]!)).state, "dead");
    assert.equal((await readDelivery(h, strictDeliveries[1]!)).state, "pending");
    const retry = await h.api("POST", `/api/v1/deliveries/${strictDeliveries[0]}/retry`);
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    await drain(h, clock, sender);
    assert.deepEqual(sender.order("/strict", "k"), [0, 0, 0, 0, 1, 2]);
  });
});
