import assert from "node:assert/strict";
import { isSenderControlled } from "./controlled_headers.ts";

Deno.test("framing, hop-by-hop, proxy and sender-set headers are controlled, in any case", () => {
  for (
    const name of [
      "Host",
      "content-type",
      "USER-AGENT",
      "Content-Length",
      "transfer-encoding",
      "Connection",
      "keep-alive",
      "Upgrade",
      "TE",
      "trailer",
      "Expect",
      "Proxy-Authorization",
      "proxy-connection",
    ]
  ) {
    assert.ok(isSenderControlled(name), name);
  }
  for (const name of ["authorization", "x-api-key", "webhook-signature", "accept"]) {
    assert.ok(!isSenderControlled(name), name);
  }
});
