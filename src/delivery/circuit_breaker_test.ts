import assert from "node:assert/strict";
import { type BreakerSettings, CircuitBreaker } from "./circuit_breaker.ts";

const S = 1_000;
const SETTINGS: BreakerSettings = {
  failures: 3,
  failureRate: null,
  windowMs: 60 * S,
  minAttempts: 10,
  cooldownMs: 30 * S,
  maxCooldownMs: 100 * S,
};

Deno.test("the breaker opens after N failures in a row; a success in between resets the run", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  assert.equal(breaker.record("failure", 1, false), null);
  assert.equal(breaker.record("failure", 2, false), null);
  assert.equal(breaker.record("success", 3, false), null);
  assert.equal(breaker.record("failure", 4, false), null);
  assert.equal(breaker.record("neutral", 5, false), null, "a 404 says nothing of health");
  assert.equal(breaker.record("failure", 6, false), null);
  assert.deepEqual(breaker.record("failure", 7, false), {
    to: "open",
    openedAt: 7,
    nextProbeAt: 7 + 30 * S,
  });
  assert.deepEqual(breaker.view(), { state: "open", openedAt: 7, nextProbeAt: 7 + 30 * S });
});

Deno.test("while open every job is postponed to the probe; one probe goes, its result decides", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  for (let i = 0; i < 3; i++) breaker.record("failure", 0, false);
  assert.deepEqual(breaker.gate(10 * S), { kind: "postpone", until: 30 * S });
  // Results of attempts that were in flight when it opened change nothing.
  assert.equal(breaker.record("success", 11 * S, false), null);
  assert.deepEqual(breaker.gate(30 * S), { kind: "probe" });
  assert.equal(breaker.view().state, "half_open");
  // The others stay queued while the probe is out (at most a cooldown more).
  assert.deepEqual(breaker.gate(30 * S + 1), { kind: "wait", until: 60 * S });
  // The probe fails: open again for twice as long.
  assert.deepEqual(breaker.record("failure", 31 * S, true), {
    to: "open",
    openedAt: 0,
    nextProbeAt: 91 * S,
  });
  assert.deepEqual(breaker.gate(91 * S), { kind: "probe" });
  // Fails again: 120 s would be next, capped at 100 s.
  assert.deepEqual(breaker.record("failure", 92 * S, true), {
    to: "open",
    openedAt: 0,
    nextProbeAt: 192 * S,
  });
  assert.deepEqual(breaker.gate(192 * S), { kind: "probe" });
  assert.deepEqual(breaker.record("success", 193 * S, true), { to: "closed", openedAt: 0 });
  assert.deepEqual(breaker.gate(193 * S), { kind: "pass" });
  // Closed afresh: the cooldown is back to its start.
  for (let i = 0; i < 3; i++) breaker.record("failure", 200 * S, false);
  assert.equal(breaker.view().nextProbeAt, 230 * S);
});

Deno.test("a probe that never reports does not keep the breaker shut: the next goes a cooldown later", () => {
  const breaker = new CircuitBreaker(SETTINGS);
  for (let i = 0; i < 3; i++) breaker.record("failure", 0, false);
  assert.deepEqual(breaker.gate(30 * S), { kind: "probe" });
  assert.deepEqual(breaker.gate(59 * S), { kind: "wait", until: 60 * S });
  assert.deepEqual(breaker.gate(60 * S), { kind: "probe" });
});

Deno.test("the rate rule opens once the window holds enough attempts, counting only the window", () => {
  const breaker = new CircuitBreaker({ ...SETTINGS, failures: null, failureRate: 0.5 });
  // 9 attempts, 5 failed: not enough attempts yet.
  for (let i = 0; i < 9; i++) {
    assert.equal(breaker.record(i % 2 === 0 ? "failure" : "success", i * S, false), null);
  }
  // The tenth fails: 6 of 10 ≥ 50%.
  assert.equal(breaker.record("failure", 9 * S, false)?.to, "open");

  const later = new CircuitBreaker({ ...SETTINGS, failures: null, failureRate: 0.5 });
  for (let i = 0; i < 9; i++) later.record("failure", i * S, false);
  // A minute and more later the old failures are out of the window.
  for (let i = 0; i < 9; i++) later.record("success", 120 * S + i, false);
  assert.equal(later.record("failure", 121 * S, false), null, "1 of 10 in the window failed");
});
