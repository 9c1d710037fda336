import assert from "node:assert/strict";
import type { OAuth2ClientCredentials } from "../store/receiver_auth.ts";
import type { OutgoingRequest } from "./guarded_sender.ts";
import {
  DEFAULT_TOKEN_LIFETIME_MS,
  fetchToken,
  readTokenResponse,
  type TokenAnswer,
  tokenRequest,
  tokenUseMs,
} from "./oauth2_token_request.ts";
import { type AttemptResult, failedAttempt, SenderClosedError } from "./sender.ts";

const SETTINGS: OAuth2ClientCredentials = {
  kind: "oauth2",
  tokenUrl: "https://auth.example.com/token",
  clientId: "hookd client",
  clientSecret: "s3cr3t:+/=&",
  scope: "hooks:write events",
  audience: "https://api.example.com",
  authMethod: "client_secret_basic",
};

function response(status: number, body: unknown): AttemptResult {
  return {
    outcome: { kind: "response", status },
    status,
    responseHeaders: {},
    responseBody: typeof body === "string" ? body : JSON.stringify(body),
    durationMs: 1,
    errorMessage: null,
  };
}

Deno.test("tokenRequest: client_secret_basic sends the form-encoded id and secret as basic auth", () => {
  const request = tokenRequest(SETTINGS);
  assert.equal(request.url, SETTINGS.tokenUrl);
  assert.equal(request.contentType, "application/x-www-form-urlencoded");
  assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
    grant_type: "client_credentials",
    scope: "hooks:write events",
    audience: "https://api.example.com",
  });
  // RFC 6749 §2.3.1: each part form-encoded before base64 (space is "+").
  const basic = atob(request.headers.authorization!.replace(/^Basic /, ""));
  assert.equal(basic, "hookd+client:s3cr3t%3A%2B%2F%3D%26");
  assert.equal(request.headers.accept, "application/json");
});

Deno.test("tokenRequest: client_secret_post puts the client in the form; no scope or audience when unset", () => {
  const request = tokenRequest({
    ...SETTINGS,
    authMethod: "client_secret_post",
    scope: null,
    audience: null,
  });
  assert.equal(request.headers.authorization, undefined);
  assert.deepEqual(Object.fromEntries(new URLSearchParams(request.body)), {
    grant_type: "client_credentials",
    client_id: "hookd client",
    client_secret: "s3cr3t:+/=&",
  });
});

Deno.test("readTokenResponse: what each answer of the token endpoint means", () => {
  const table: [AttemptResult, TokenAnswer][] = [
    [
      response(200, { access_token: "tok", token_type: "Bearer", expires_in: 3600 }),
      { ok: true, accessToken: "tok", expiresInMs: 3_600_000 },
    ],
    [
      response(200, { access_token: "tok", token_type: "bearer", expires_in: "60" }),
      { ok: true, accessToken: "tok", expiresInMs: 60_000 },
    ],
    [response(201, { access_token: "tok" }), { ok: true, accessToken: "tok", expiresInMs: null }],
    [
      response(200, { access_token: "tok", expires_in: -5 }),
      { ok: true, accessToken: "tok", expiresInMs: null },
    ],
    [
      response(401, { error: "invalid_client", error_description: "bad secret" }),
      { ok: false, problem: "token endpoint answered HTTP 401 (invalid_client)" },
    ],
    [response(503, "<html>down</html>"), {
      ok: false,
      problem: "token endpoint answered HTTP 503",
    }],
    [response(200, "{not json"), {
      ok: false,
      problem: "token endpoint answered with something other than a JSON object",
    }],
    [response(200, []), {
      ok: false,
      problem: "token endpoint answered with something other than a JSON object",
    }],
    [response(200, { token_type: "Bearer" }), {
      ok: false,
      problem: "token endpoint answered without an access_token",
    }],
    [response(200, { access_token: "a\r\nX-Evil: 1" }), {
      ok: false,
      problem: "token endpoint answered with an access_token unfit for a header",
    }],
    [response(200, { access_token: "tok", token_type: "mac" }), {
      ok: false,
      problem: 'token endpoint answered token_type "mac"; only Bearer tokens are supported',
    }],
    [failedAttempt("connect", "could not connect: refused", 1), {
      ok: false,
      problem: "token endpoint: could not connect: refused",
    }],
    [failedAttempt("blocked", "auth.test resolves to 10.0.0.1, which is private", 1), {
      ok: false,
      problem: "token endpoint: auth.test resolves to 10.0.0.1, which is private",
    }],
  ];
  for (const [result, expected] of table) {
    assert.deepEqual(readTokenResponse(result), expected, JSON.stringify(result));
  }
});

Deno.test("tokenUseMs: replaced ahead of expiry, by 10% or 30 s, never past half a short life", () => {
  const table: [number | null, number][] = [
    [3_600_000, 3_240_000],
    [600_000, 540_000],
    [120_000, 90_000],
    [60_000, 30_000],
    [10_000, 5_000],
    [null, tokenUseMs(DEFAULT_TOKEN_LIFETIME_MS)],
    [365 * 86_400_000, 0.9 * 86_400_000],
  ];
  for (const [expiresIn, expected] of table) assert.equal(tokenUseMs(expiresIn), expected);
});

Deno.test("fetchToken: sends through the given sender; the secret never reaches a problem", async () => {
  const sent: OutgoingRequest[] = [];
  const echo = {
    send(request: OutgoingRequest) {
      sent.push(request);
      // A hostile endpoint echoes the secret in its error code.
      return Promise.resolve(response(400, { error: `bad ${SETTINGS.clientSecret}` }));
    },
  };
  const answer = await fetchToken(echo, SETTINGS, 700);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.timeoutMs, 700);
  assert.equal(sent[0]!.contentType, "application/x-www-form-urlencoded");
  assert.equal(sent[0]!.responseBodyLimit, 64 * 1024);
  assert.deepEqual(answer, {
    ok: false,
    problem: "token endpoint answered HTTP 400 (bad [redacted])",
  });

  const broken = { send: () => Promise.reject(new TypeError('Cannot send: invalid header "x"')) };
  assert.deepEqual(await fetchToken(broken, SETTINGS, 700), {
    ok: false,
    problem: 'could not send the token request: Cannot send: invalid header "x"',
  });
  const closed = { send: () => Promise.reject(new SenderClosedError()) };
  await assert.rejects(fetchToken(closed, SETTINGS, 700), SenderClosedError);
});
