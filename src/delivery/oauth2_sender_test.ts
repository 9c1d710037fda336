import assert from "node:assert/strict";
import { silentLogger } from "../ops/log.ts";
import { START } from "../testing/api_harness.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { OAUTH2_SETTINGS as SETTINGS } from "../testing/oauth2_settings.ts";
import type { OutgoingRequest } from "./guarded_sender.ts";
import { type AuthorizedRequest, OAuth2Sender } from "./oauth2_sender.ts";
import type { TokenAnswer } from "./oauth2_token_request.ts";
import { OAuth2Tokens } from "./oauth2_tokens.ts";
import type { AttemptResult } from "./sender.ts";

function answer(status: number): AttemptResult {
  return {
    outcome: { kind: "response", status },
    status,
    responseHeaders: {},
    responseBody: "",
    durationMs: 3,
    errorMessage: null,
  };
}

/** A receiver that accepts only `valid` tokens, and a token endpoint that may fail. */
function setup(
  options: { valid: (token: string) => boolean; tokenFails?: (n: number) => boolean },
) {
  const clock = new FakeClock(START);
  const sent: OutgoingRequest[] = [];
  let tokenCalls = 0;
  const fetch = (): Promise<TokenAnswer> => {
    const n = ++tokenCalls;
    clock.advance(5); // a token request takes time out of the attempt
    return Promise.resolve(
      options.tokenFails?.(n)
        ? { ok: false, problem: "token endpoint answered HTTP 500" }
        : { ok: true, accessToken: `tok-${n}`, expiresInMs: 3_600_000 },
    );
  };
  const tokens = new OAuth2Tokens({
    fetch,
    store: { read: () => Promise.resolve(null), write: () => Promise.resolve() },
    clock,
    log: silentLogger,
  });
  const inner = {
    send(request: OutgoingRequest) {
      sent.push(request);
      const token = request.headers.authorization?.replace(/^Bearer /, "") ?? "";
      return Promise.resolve(answer(options.valid(token) ? 200 : 401));
    },
  };
  const sender = new OAuth2Sender({ inner, tokens, clock });
  return { sender, sent, tokenCalls: () => tokenCalls };
}

const REQUEST: AuthorizedRequest = {
  url: "https://hooks.example.com/in",
  headers: { "webhook-id": "evt_1", Authorization: "Bearer custom-header-token" },
  body: "{}",
  timeoutMs: 1000,
  oauth2: { owner: "webhook:w1", settings: SETTINGS },
};

Deno.test("OAuth2Sender: the bearer token replaces a custom Authorization header", async () => {
  const { sender, sent, tokenCalls } = setup({ valid: () => true });
  const result = await sender.send(REQUEST);
  assert.equal(result.status, 200);
  assert.deepEqual(sent[0]!.headers, { "webhook-id": "evt_1", authorization: "Bearer tok-1" });
  assert.equal(sent[0]!.timeoutMs, 1000 - 5, "the token request's time comes out of the attempt");
  assert.equal(result.durationMs, 5);
  await sender.send(REQUEST);
  assert.equal(tokenCalls(), 1);
  // Without OAuth2 the request passes untouched.
  const { oauth2: _, ...plain } = REQUEST;
  await sender.send(plain);
  assert.deepEqual(sent.at(-1)!.headers, REQUEST.headers);
});

Deno.test("OAuth2Sender: a 401 renews the token once and sends again in the same attempt", async () => {
  const { sender, sent, tokenCalls } = setup({ valid: (token) => token === "tok-2" });
  const result = await sender.send(REQUEST);
  assert.equal(result.status, 200);
  assert.deepEqual(sent.map((r) => r.headers.authorization), ["Bearer tok-1", "Bearer tok-2"]);
  assert.equal(tokenCalls(), 2);

  // A receiver that refuses every token: one renewal, then its 401 is the answer.
  const refusing = setup({ valid: () => false });
  const refused = await refusing.sender.send(REQUEST);
  assert.equal(refused.status, 401);
  assert.equal(refusing.sent.length, 2);
  assert.equal(refusing.tokenCalls(), 2);
});

Deno.test("OAuth2Sender: no token is an auth failure and nothing goes to the receiver", async () => {
  const { sender, sent } = setup({ valid: () => true, tokenFails: () => true });
  const result = await sender.send(REQUEST);
  assert.deepEqual(result.outcome, { kind: "error", error: "auth" });
  assert.equal(result.errorMessage, "token endpoint answered HTTP 500");
  assert.equal(result.status, null);
  assert.equal(sent.length, 0);

  const renewalFails = setup({ valid: () => false, tokenFails: (n) => n > 1 });
  const after401 = await renewalFails.sender.send(REQUEST);
  assert.deepEqual(after401.outcome, { kind: "error", error: "auth" });
  assert.match(after401.errorMessage!, /refused the token \(401\).*HTTP 500/);
  assert.equal(renewalFails.sent.length, 1);
});
