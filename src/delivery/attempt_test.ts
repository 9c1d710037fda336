import assert from "node:assert/strict";
import { loadConfig } from "../config/load_config.ts";
import type { ClaimedDelivery } from "../store/delivery_queue.ts";
import { webhookFixture } from "../testing/webhook_fixture.ts";
import { concludeAttempt, prepareAttempt, unpreparedAttempt } from "./attempt.ts";
import type { AttemptResult } from "./sender.ts";

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const config = loadConfig({
  text: `[policies.t]
timeout = "3s"
schedule = ["0s", "10s", "20s"]
jitter = 0
success = ["2xx"]
retry = ["any"]
final = ["410"]
on_exhausted = "dead"
`,
  env: {},
});
const policy = config.policies.t!;
const profile = config.profiles.standard!;
const noRng = () => {
  throw new Error("a jitter-free schedule draws no random number");
};

const delivery: ClaimedDelivery = {
  id: "d1",
  webhookId: "w1",
  attempts: 4,
  scheduleAttempts: 1,
  scheduleStartedAt: NOW - 10_000,
  trigger: "manual",
  createdAt: NOW - 60_000,
  orderingKey: null,
  event: {
    id: "e1",
    type: "order.paid",
    tenantId: null,
    payload: '{"a":1}',
    occurredAt: NOW,
    traceparent: null,
    tracestate: null,
  },
};

function response(status: number, extra: Partial<AttemptResult> = {}): AttemptResult {
  return {
    outcome: { kind: "response", status },
    status,
    responseHeaders: { "x-r": "1" },
    responseBody: "body",
    durationMs: 12.4,
    errorMessage: null,
    ...extra,
  };
}

Deno.test("prepareAttempt renders the request with the next number, the policy's deadline and TLS", () => {
  const webhook = webhookFixture("w1", ["*"], NOW, {
    url: "https://example.test/hook",
    tls: { caCerts: ["CA"], clientCert: "CERT", clientKey: "KEY" },
    updatedAt: NOW - 5,
  });
  const prepared = prepareAttempt({
    webhook,
    policy,
    profile,
    delivery,
    material: { secrets: ["whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="], headers: { "x-api-key": "k" } },
    attemptId: "att-1",
    now: NOW,
  });
  assert.equal(prepared.number, 5);
  assert.equal(prepared.startedAt, NOW);
  assert.equal(prepared.timeoutMs, 3_000);
  assert.equal(prepared.url, "https://example.test/hook");
  assert.equal(prepared.body, '{"a":1}');
  assert.equal(prepared.headers["webhook-id"], "e1");
  assert.match(prepared.headers["webhook-signature"]!, /^v1,[A-Za-z0-9+/=]+$/);
  assert.equal(prepared.headers["x-api-key"], "k");
  assert.deepEqual(prepared.tls, {
    id: `w1@${NOW - 5}`,
    caCerts: ["CA"],
    cert: "CERT",
    key: "KEY",
  });
  const plain = prepareAttempt({
    webhook: webhookFixture("w2", ["*"], NOW),
    policy,
    profile,
    delivery,
    material: { secrets: [], headers: {} },
    attemptId: "att-2",
    now: NOW,
  });
  assert.equal(plain.tls, undefined);
  assert.equal(plain.headers["webhook-signature"], undefined, "no secret, no signature");
});

Deno.test("concludeAttempt: each result becomes a record and the policy's next state", () => {
  const prepared = unpreparedAttempt({
    webhook: webhookFixture("w1", ["*"], NOW),
    policy,
    delivery,
    attemptId: "att-1",
    now: NOW,
  });
  const withHeaders = { ...prepared, headers: { authorization: "Bearer s", "x-a": "b" } };
  const cases: {
    name: string;
    result: AttemptResult;
    scheduleAttempts?: number;
    state: string;
    next: number | null;
    kind: string | null;
    message: string | null;
  }[] = [
    {
      name: "2xx",
      result: response(204),
      state: "succeeded",
      next: null,
      kind: null,
      message: null,
    },
    {
      name: "5xx, attempts left",
      result: response(503),
      state: "pending",
      next: NOW + 20_000,
      kind: "status",
      message: "HTTP 503 is not a success for this webhook's policy",
    },
    {
      name: "3xx is not followed",
      result: response(301),
      state: "pending",
      next: NOW + 20_000,
      kind: "redirect",
      message: "HTTP 301: redirects are not followed",
    },
    {
      name: "a final status",
      result: response(410),
      state: "failed",
      next: null,
      kind: "status",
      message: "HTTP 410 is not a success for this webhook's policy",
    },
    {
      name: "transport error keeps its message",
      result: {
        ...response(0),
        outcome: { kind: "error", error: "timeout" },
        status: null,
        responseHeaders: null,
        responseBody: null,
        errorMessage: "timed out: no response within 3000 ms",
      },
      state: "pending",
      next: NOW + 20_000,
      kind: "timeout",
      message: "timed out: no response within 3000 ms",
    },
    {
      name: "the schedule's last attempt",
      result: response(500),
      scheduleAttempts: 2,
      state: "dead",
      next: null,
      kind: "status",
      message: "HTTP 500 is not a success for this webhook's policy",
    },
  ];
  for (const c of cases) {
    const { attempt, verdict } = concludeAttempt({
      prepared: withHeaders,
      delivery: { ...delivery, scheduleAttempts: c.scheduleAttempts ?? delivery.scheduleAttempts },
      result: c.result,
      policy,
      now: NOW,
      rng: noRng,
    });
    assert.equal(verdict.state, c.state, c.name);
    assert.equal(verdict.nextAttemptAt, c.next, c.name);
    assert.equal(verdict.scheduleAttempts, (c.scheduleAttempts ?? 1) + 1, c.name);
    assert.equal(attempt.errorKind, c.kind, c.name);
    assert.equal(attempt.errorMessage, c.message, c.name);
    assert.equal(attempt.responseStatus, c.result.status, c.name);
    assert.equal(attempt.id, "att-1");
    assert.equal(attempt.number, 5);
    assert.equal(attempt.trigger, "manual");
    assert.equal(attempt.durationMs, 12, "rounded");
    assert.equal(attempt.requestHeaders.authorization, "[redacted]");
    assert.equal(attempt.requestHeaders["x-a"], "b");
    assert.equal(attempt.requestHeaders["content-type"], "application/json");
    assert.match(attempt.requestHeaders["user-agent"]!, /^hookd\//);
  }
});
