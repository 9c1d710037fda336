/** Helpers for tests of the HTTP/1.1 client (src/net/): a request, and a failure of a given kind. */
import assert from "node:assert/strict";
import { Http1Error } from "../net/http1_client.ts";

/** A small JSON POST to `url`, in the client's request shape. */
export function post(url: URL, body = '{"n":1}') {
  return { target: url.pathname + url.search, host: url.host, headers: [], body };
}

/** Asserts that `exchange` fails as `kind` with a message matching `message`. */
export async function failsWith(exchange: Promise<unknown>, kind: string, message: RegExp) {
  await assert.rejects(exchange, (e) => {
    assert.ok(e instanceof Http1Error, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, message);
    return true;
  });
}
