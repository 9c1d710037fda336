import assert from "node:assert/strict";
import { ApiClient } from "./api_client.ts";
import { ApiRequestError, DaemonUnreachableError, UsageError } from "./errors.ts";

const TARGET = { base: new URL("http://hookd.test/prefix/"), key: "secret-key-value" };

/** A fetch that answers from `handler` and records every request it saw. */
function fakeFetch(handler: (url: URL, init: RequestInit) => Response) {
  const seen: { url: URL; init: RequestInit }[] = [];
  const fn = ((input: URL, init: RequestInit) => {
    const url = new URL(input);
    seen.push({ url, init });
    return Promise.resolve(handler(url, init));
  }) as typeof fetch;
  return { fn, seen };
}

/** An API list of `total` items `{n}` with cursor paging, as the daemon pages. */
function listApi(total: number) {
  return fakeFetch((url) => {
    const limit = Number(url.searchParams.get("limit"));
    const start = Number(url.searchParams.get("cursor") ?? 0);
    const data = Array.from({ length: Math.max(0, Math.min(limit, total - start)) }, (_, i) => ({
      n: start + i,
    }));
    const end = start + data.length;
    return Response.json({ data, next_cursor: data.length === limit ? String(end) : null });
  });
}

Deno.test("request sends the key as a bearer token to a path under the base URL", async () => {
  const api = fakeFetch(() => Response.json({ replayed: 2 }));
  const client = new ApiClient(TARGET, api.fn, "replay");
  const answer = await client.request("POST", "api/v1/dead-letters/replay", {
    body: { webhook_id: "wh", event_type: undefined },
  });
  assert.deepEqual(answer, { replayed: 2 });
  const [{ url, init }] = api.seen as [{ url: URL; init: RequestInit }];
  assert.equal(url.href, "http://hookd.test/prefix/api/v1/dead-letters/replay");
  const headers = new Headers(init.headers);
  assert.equal(headers.get("authorization"), "Bearer secret-key-value");
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(init.body, '{"webhook_id":"wh"}');
});

Deno.test("list follows next_cursor up to the limit and knows whether more match", async (t) => {
  const cases: [total: number, limit: number, shown: number, more: boolean][] = [
    [0, 100, 0, false],
    [5, 100, 5, false],
    [250, 100, 100, true],
    [250, 1000, 250, false],
    [250, 249, 249, true],
    [250, 250, 250, false],
    [200, 200, 200, false],
    [201, 200, 200, true],
  ];
  for (const [total, limit, shown, more] of cases) {
    await t.step(`${total} items, --limit ${limit}`, async () => {
      const api = listApi(total);
      const client = new ApiClient(TARGET, api.fn, "webhooks");
      const items: { n: number }[] = [];
      const result = await client.list<{ n: number }>(
        "api/v1/webhooks",
        { limit, query: { state: "enabled", tenant_id: undefined } },
        (page) => items.push(...page),
      );
      assert.deepEqual(items.map((i) => i.n), Array.from({ length: shown }, (_, i) => i));
      assert.equal(result.more, more);
      for (const { url } of api.seen) {
        assert.equal(url.searchParams.get("state"), "enabled");
        assert.ok(!url.searchParams.has("tenant_id"));
        assert.ok(Number(url.searchParams.get("limit")) <= 100, url.href);
      }
    });
  }
});

Deno.test("an API error becomes hookd: <message> with its details, never the key", async () => {
  const api = fakeFetch(() =>
    Response.json({
      error: {
        code: "forbidden",
        message: "This key lacks the scope webhooks:manage",
        details: { required: "webhooks:manage" },
      },
    }, { status: 403 })
  );
  const client = new ApiClient(TARGET, api.fn, "webhooks");
  const error = await client.request("GET", "api/v1/webhooks").catch((e) => e);
  assert.ok(error instanceof ApiRequestError);
  assert.equal(error.status, 403);
  assert.equal(error.code, "forbidden");
  assert.equal(
    error.message,
    "This key lacks the scope webhooks:manage\n  required: webhooks:manage",
  );
  assert.ok(!error.message.includes(TARGET.key));
});

Deno.test("a 400 on fields the user set by flags is a usage error naming the flags", async () => {
  const problems = [
    { field: "since", message: 'must be an RFC 3339 timestamp, got "yesterday"' },
    { field: "state", message: 'must be one of "pending", "dead"' },
  ];
  const api = fakeFetch(() =>
    Response.json({
      error: { code: "validation_failed", message: "since: ... (and 1 more)", details: problems },
    }, { status: 400 })
  );
  const client = new ApiClient(TARGET, api.fn, "deliveries");
  const flags = { since: "--since", state: "--state" };
  const error = await client.request("GET", "api/v1/dead-letters", { flags }).catch((e) => e);
  assert.ok(error instanceof UsageError);
  assert.equal(error.command, "deliveries");
  assert.equal(
    error.message,
    '--since: must be an RFC 3339 timestamp, got "yesterday"; ' +
      '--state: must be one of "pending", "dead"',
  );
  // A field no flag set (the CLI's own mistake) stays an API error, with every problem listed.
  const unmapped = await client.request("GET", "x", { flags: { since: "--since" } })
    .catch((e) => e);
  assert.ok(unmapped instanceof ApiRequestError);
  assert.equal(
    unmapped.message,
    "since: ... (and 1 more)\n" +
      '  since: must be an RFC 3339 timestamp, got "yesterday"\n' +
      '  state: must be one of "pending", "dead"',
  );
});

Deno.test("no answer is DaemonUnreachableError; a non-hookd answer is an API error", async () => {
  const refused = new ApiClient(
    TARGET,
    (() =>
      Promise.reject(
        new TypeError("fetch failed", {
          cause: new Error(
            "error sending request for url (http://hookd.test/prefix/api/v1/webhooks): " +
              "client error (Connect): tcp connect error: Connection refused (os error 111)",
          ),
        }),
      )) as typeof fetch,
    "webhooks",
  );
  const error = await refused.request("GET", "api/v1/webhooks").catch((e) => e);
  assert.ok(error instanceof DaemonUnreachableError);
  assert.equal(
    error.message,
    "cannot reach the daemon at http://hookd.test/prefix/: " +
      "tcp connect error: Connection refused (os error 111)",
  );

  const html = fakeFetch(() => new Response("<html>", { status: 200 }));
  const notJson = await new ApiClient(TARGET, html.fn, "webhooks").request("GET", "x")
    .catch((e) => e);
  assert.ok(notJson instanceof ApiRequestError);
  assert.match(notJson.message, /something other than JSON/);

  const bare = fakeFetch(() => new Response("Bad Gateway", { status: 502 }));
  const proxy = await new ApiClient(TARGET, bare.fn, "webhooks").request("GET", "x")
    .catch((e) => e);
  assert.ok(proxy instanceof ApiRequestError);
  assert.equal(proxy.message, "the daemon answered HTTP 502");
});
