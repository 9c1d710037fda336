import assert from "node:assert/strict";
import { renderPrometheus } from "../ops/metrics.ts";
import { silentLogger } from "../ops/log.ts";
import { Store } from "../store/client.ts";
import type { ReceiverToken } from "../store/receiver_tokens.ts";
import { START } from "../testing/api_harness.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { OAUTH2_SETTINGS as SETTINGS } from "../testing/oauth2_settings.ts";
import type { TokenAnswer } from "./oauth2_token_request.ts";
import { OAuth2Tokens, type TokenStore } from "./oauth2_tokens.ts";

const OWNER = "webhook:w1";
const HOUR = 3_600_000;

/** A token endpoint in memory: hands out tok-1, tok-2, ...; answers wait for `release()` when held. */
class FakeEndpoint {
  calls = 0;
  expiresInMs: number | null = HOUR;
  failing = false;
  #held: (() => void)[] | undefined;

  hold(): void {
    this.#held = [];
  }
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const go of held) go();
  }

  fetch = async (): Promise<TokenAnswer> => {
    const n = ++this.calls;
    if (this.#held) await new Promise<void>((resolve) => this.#held!.push(resolve));
    if (this.failing) return { ok: false, problem: "token endpoint answered HTTP 503" };
    return { ok: true, accessToken: `tok-${n}`, expiresInMs: this.expiresInMs };
  };
}

class MemoryTokenStore implements TokenStore {
  readonly rows = new Map<string, ReceiverToken>();
  reads = 0;
  read(owner: string) {
    this.reads++;
    return Promise.resolve(this.rows.get(owner) ?? null);
  }
  write(token: ReceiverToken) {
    this.rows.set(token.owner, token);
    return Promise.resolve();
  }
}

function setup(store: TokenStore = new MemoryTokenStore()) {
  const clock = new FakeClock(START);
  const endpoint = new FakeEndpoint();
  const tokens = new OAuth2Tokens({ fetch: endpoint.fetch, store, clock, log: silentLogger });
  return { clock, endpoint, tokens, store };
}

Deno.test("one token request serves concurrent attempts and every attempt after, until renewal", async () => {
  const { clock, endpoint, tokens, store } = setup();
  endpoint.hold();
  const waiting = Array.from({ length: 20 }, () => tokens.token(OWNER, SETTINGS, 1000));
  await Promise.resolve();
  endpoint.release();
  for (const result of await Promise.all(waiting)) {
    assert.deepEqual(result, { ok: true, accessToken: "tok-1" });
  }
  assert.equal(endpoint.calls, 1, "single flight");
  const reads = (store as MemoryTokenStore).reads;
  for (let i = 0; i < 50; i++) await tokens.token(OWNER, SETTINGS, 1000);
  assert.equal(endpoint.calls, 1);
  assert.equal((store as MemoryTokenStore).reads, reads, "the hot path reads no store");

  // Renewed at 90% of an hour, not before.
  clock.advance(0.9 * HOUR - 1);
  assert.deepEqual(await tokens.token(OWNER, SETTINGS, 1000), { ok: true, accessToken: "tok-1" });
  clock.advance(1);
  assert.deepEqual(await tokens.token(OWNER, SETTINGS, 1000), { ok: true, accessToken: "tok-2" });
  assert.equal(endpoint.calls, 2);
  assert.equal((store as MemoryTokenStore).rows.get(OWNER)?.accessToken, "tok-2");
  assert.equal(tokens.requests, 2);
});

Deno.test("a token without expires_in is used for the default lifetime's share", async () => {
  const { clock, endpoint, tokens } = setup();
  endpoint.expiresInMs = null;
  await tokens.token(OWNER, SETTINGS, 1000);
  clock.advance(270_000 - 1);
  await tokens.token(OWNER, SETTINGS, 1000);
  assert.equal(endpoint.calls, 1);
  clock.advance(1);
  await tokens.token(OWNER, SETTINGS, 1000);
  assert.equal(endpoint.calls, 2);
});

Deno.test("failures are not kept; changed settings get a token of their own; owners do not share", async () => {
  const { endpoint, tokens } = setup();
  endpoint.failing = true;
  assert.deepEqual(await tokens.token(OWNER, SETTINGS, 1000), {
    ok: false,
    problem: "token endpoint answered HTTP 503",
  });
  endpoint.failing = false;
  assert.deepEqual(await tokens.token(OWNER, SETTINGS, 1000), { ok: true, accessToken: "tok-2" });
  const rotated = { ...SETTINGS, clientSecret: "new-secret" };
  assert.deepEqual(await tokens.token(OWNER, rotated, 1000), { ok: true, accessToken: "tok-3" });
  assert.deepEqual(await tokens.token("credential:c1", rotated, 1000), {
    ok: true,
    accessToken: "tok-4",
  });
  assert.deepEqual(await tokens.token(OWNER, { ...rotated }, 1000), {
    ok: true,
    accessToken: "tok-3",
  });
  // What /metrics shows: one failed request, three that brought a token.
  const text = renderPrometheus(tokens.families());
  assert.match(text, /^hookd_oauth2_token_requests_total\{result="failed"\} 1$/m);
  assert.match(text, /^hookd_oauth2_token_requests_total\{result="ok"\} 3$/m);
});

Deno.test("attempts refused with one token share one refresh; a late one takes the new token", async () => {
  const { endpoint, tokens } = setup();
  await tokens.token(OWNER, SETTINGS, 1000);
  endpoint.hold();
  const refreshes = Array.from({ length: 5 }, () => tokens.refresh(OWNER, SETTINGS, "tok-1", 1000));
  await Promise.resolve();
  endpoint.release();
  for (const result of await Promise.all(refreshes)) {
    assert.deepEqual(result, { ok: true, accessToken: "tok-2" });
  }
  assert.equal(endpoint.calls, 2);
  assert.deepEqual(await tokens.refresh(OWNER, SETTINGS, "tok-1", 1000), {
    ok: true,
    accessToken: "tok-2",
  });
  assert.equal(endpoint.calls, 2, "already replaced: no request");
});

Deno.test("a refresh never settles for the refused token, even when the store still has it", async () => {
  const store = new MemoryTokenStore();
  const { endpoint, tokens } = setup(store);
  await tokens.token(OWNER, SETTINGS, 1000);
  assert.equal(store.rows.get(OWNER)?.accessToken, "tok-1");
  assert.deepEqual(await tokens.refresh(OWNER, SETTINGS, "tok-1", 1000), {
    ok: true,
    accessToken: "tok-2",
  });
  assert.equal(endpoint.calls, 2);
});

Deno.test("two daemons on one database share one token through the store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-tokens-" });
  const config = {
    url: `file:${dir}/hookd.db`,
    authToken: "",
    commitWindowMs: 0,
    commitMaxBatch: 512,
  };
  const stores = [await Store.open(config, START), await Store.open(config, START)];
  try {
    const clock = new FakeClock(START);
    const endpoint = new FakeEndpoint();
    const [a, b] = stores.map((store) =>
      new OAuth2Tokens({
        fetch: endpoint.fetch,
        store: {
          read: (owner) => store.read("getReceiverToken", { owner }),
          write: (token) => store.write("putReceiverToken", { token }).then(() => {}),
        },
        clock,
        log: silentLogger,
      })
    );
    assert.deepEqual(await a!.token(OWNER, SETTINGS, 1000), { ok: true, accessToken: "tok-1" });
    assert.deepEqual(await b!.token(OWNER, SETTINGS, 1000), { ok: true, accessToken: "tok-1" });
    assert.equal(endpoint.calls, 1, "B used A's token");
    assert.equal(b!.requests, 0);

    // The receiver refuses tok-1 at A; B, refused too, takes A's replacement.
    assert.deepEqual(await a!.refresh(OWNER, SETTINGS, "tok-1", 1000), {
      ok: true,
      accessToken: "tok-2",
    });
    assert.deepEqual(await b!.refresh(OWNER, SETTINGS, "tok-1", 1000), {
      ok: true,
      accessToken: "tok-2",
    });
    assert.equal(endpoint.calls, 2);

    // Past renewal, the first to ask fetches; the other reads it.
    clock.advance(HOUR);
    assert.deepEqual(await b!.token(OWNER, SETTINGS, 1000), { ok: true, accessToken: "tok-3" });
    assert.deepEqual(await a!.token(OWNER, SETTINGS, 1000), { ok: true, accessToken: "tok-3" });
    assert.equal(endpoint.calls, 3);
  } finally {
    for (const store of stores) await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
