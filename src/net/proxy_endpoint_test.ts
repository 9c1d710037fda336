import assert from "node:assert/strict";
import { hideProxyCredentials, parseProxyUrl } from "./proxy_endpoint.ts";

Deno.test("parseProxyUrl: host, port and Basic credentials; pool keys tell credentials apart", () => {
  const v6 = parseProxyUrl("http://[fd00::2]:3128/");
  assert.deepEqual(
    { ...v6 },
    {
      display: "[fd00::2]:3128",
      hostname: "fd00::2",
      port: 3128,
      authorization: null,
      key: "[fd00::2]:3128",
    },
  );
  assert.equal(parseProxyUrl("http://proxy.internal:80").port, 80, "an explicit default port");
  assert.equal(parseProxyUrl("http://only-user@h:1").authorization, `Basic ${btoa("only-user:")}`);
  const utf8 = parseProxyUrl("http://%C3%A9:p%3Aw@h:1").authorization!;
  assert.equal(
    new TextDecoder().decode(Uint8Array.from(atob(utf8.slice(6)), (c) => c.charCodeAt(0))),
    "é:p:w",
  );
  const a = parseProxyUrl("http://a:1@h:1").key;
  const b = parseProxyUrl("http://a:2@h:1").key;
  assert.notEqual(a, b, "tunnels opened with other credentials are never shared");
  assert.ok(!a.includes("a:1") && !a.includes(btoa("a:1")));
  assert.throws(() => parseProxyUrl("http://h:0"), /port from 1 to 65535/);
  assert.throws(
    () => parseProxyUrl("http://u:p@h:1?x=1"),
    /no path, query or fragment.*\(credentials\)/,
  );
});

Deno.test("hideProxyCredentials leaves URLs without credentials alone", () => {
  assert.equal(hideProxyCredentials("http://u:p@h:1"), "http://(credentials)@h:1");
  assert.equal(hideProxyCredentials("http://h:1/a@b"), "http://h:1/a@b");
  assert.equal(hideProxyCredentials("not a url"), "not a url");
});
