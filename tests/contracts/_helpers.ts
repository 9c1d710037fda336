/**
 * Shared pieces of the seed contract tests: the example configs, a scripted
 * sender that captures every request in virtual time, and the
 * step loop that runs a retry schedule on a `FakeClock`.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { FakeClock } from "../../src/testing/fake_clock.ts";
import type { TransportError } from "../../src/delivery/outcome.ts";
import type { AttemptResult, AttemptTransport, SendRequest } from "../../src/delivery/sender.ts";
import type { EngineHarness } from "../../src/testing/engine_harness.ts";
import type { Json } from "../../src/testing/api_harness.ts";

export { START } from "../../src/testing/api_harness.ts";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** One timer-wheel tick: the most an attempt may start after it is due. */
export const TICK = 10;

/** The example's hookd.toml, as text. */
export function exampleToml(seed: string): string {
  return Deno.readTextFileSync(new URL(`../../examples/${seed}/hookd.toml`, import.meta.url));
}

/** What the scripted receiver answers: a status, or a transport failure. */
export type Scripted = number | TransportError;

/** Captures every request (with the virtual time it went out) and answers from a script. */
export class ScriptedSender implements AttemptTransport {
  readonly sent: { at: number; request: SendRequest }[] = [];
  /** Answers for the next sends, in order; then `fallback`. */
  readonly script: Scripted[] = [];
  fallback: Scripted = 503;
  constructor(private readonly clock: FakeClock) {}

  send(request: SendRequest): Promise<AttemptResult> {
    this.sent.push({ at: this.clock.now(), request });
    const next = this.script.shift() ?? this.fallback;
    if (typeof next === "number") {
      return Promise.resolve({
        outcome: { kind: "response", status: next },
        status: next,
        responseHeaders: {},
        responseBody: "",
        durationMs: 0,
        errorMessage: null,
      });
    }
    return Promise.resolve({
      outcome: { kind: "error", error: next },
      status: null,
      responseHeaders: null,
      responseBody: null,
      durationMs: 0,
      errorMessage: `scripted ${next}`,
    });
  }

  /** The last request sent, or a failure if none was. */
  last(): SendRequest {
    const last = this.sent.at(-1);
    assert.ok(last, "no request was sent");
    return last.request;
  }
}

/** A delivery as `GET /api/v1/deliveries/{id}` renders it. */
export async function readDelivery(h: EngineHarness, id: string): Promise<Json> {
  const res = await h.api("GET", `/api/v1/deliveries/${id}`);
  assert.equal(res.status, 200);
  return res.body;
}

/**
 * Runs the delivery's retries in virtual time until it leaves `pending`:
 * jumps to just before each `next_attempt_at` (nothing may go out), then to
 * it and one wheel tick on (exactly one attempt must go out).
 * Returns the final delivery.
 */
export async function runSchedule(
  h: EngineHarness,
  clock: FakeClock,
  sender: ScriptedSender,
  id: string,
  maxAttempts = 200,
): Promise<Json> {
  await h.settle();
  for (let i = 0; i < maxAttempts; i++) {
    const delivery = await readDelivery(h, id);
    if (delivery.state !== "pending") return delivery;
    const dueAt = Date.parse(delivery.next_attempt_at);
    const before = sender.sent.length;
    clock.advanceTo(Math.max(clock.now(), dueAt - 20));
    await h.engine.refill();
    await h.settle();
    assert.equal(
      sender.sent.length,
      before,
      `an attempt went out before ${delivery.next_attempt_at}`,
    );
    clock.advanceTo(dueAt);
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(
      sender.sent.length,
      before + 1,
      `the attempt due ${delivery.next_attempt_at} did not go out`,
    );
  }
  throw new Error(`the delivery was still pending after ${maxAttempts} attempts`);
}

/** Milliseconds between consecutive sends. */
export function gapsOf(sender: ScriptedSender): number[] {
  return sender.sent.slice(1).map((s, i) => s.at - sender.sent[i]!.at);
}

/** Lowercase hex HMAC-SHA256, computed with node:crypto (not hookd's signing code). */
export function hmacHex(key: string, message: string): string {
  return createHmac("sha256", key).update(message, "utf8").digest("hex");
}

/** Case-insensitive header lookup in a captured request. */
export function header(request: SendRequest, name: string): string | undefined {
  const found = Object.entries(request.headers).find(([k]) =>
    k.toLowerCase() === name.toLowerCase()
  );
  return found?.[1];
}

/** The header names of a captured request, lowercased and sorted. */
export function headerNames(request: SendRequest): string[] {
  return Object.keys(request.headers).map((k) => k.toLowerCase()).sort();
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
