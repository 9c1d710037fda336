import assert from "node:assert/strict";
import { loadConfig } from "../config/load_config.ts";
import { silentLogger } from "../ops/log.ts";
import { enforcesLimits, serveApi } from "./serve_api.ts";

Deno.test('enforce_connection_limits "auto" enforces them unless the API listens on loopback', () => {
  const decide = (listen: string, enforce?: string) =>
    enforcesLimits(
      loadConfig({
        env: {
          HOOKD_SERVER_LISTEN: listen,
          ...(enforce === undefined ? {} : { HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: enforce }),
        },
      }).server,
    );
  assert.equal(decide("127.0.0.1:8787"), false, "the default: loopback, local clients only");
  assert.equal(decide("127.0.0.2:8787"), false);
  assert.equal(decide("localhost:8787"), false);
  assert.equal(decide("[::1]:8787"), false);
  assert.equal(decide("0.0.0.0:8787"), true, "reachable from other hosts");
  assert.equal(decide("10.1.2.3:8787"), true);
  assert.equal(decide("[::]:8787"), true);
  assert.equal(decide("api.internal:8787"), true);
  assert.equal(decide("127.0.0.1:8787", "true"), true, "true always");
  assert.equal(decide("0.0.0.0:8787", "false"), false, "false never");
  assert.equal(decide("0.0.0.0:8787", "0"), false);
  assert.throws(
    () => decide("0.0.0.0:8787", "sometimes"),
    /server\.enforce_connection_limits.*expected true, false or "auto", got "sometimes"/s,
  );
});

Deno.test("a request that fails outside the app is a 500 in the API's error shape", async () => {
  const config = loadConfig({ env: { HOOKD_SERVER_LISTEN: "127.0.0.1:0" } }).server;
  const served = await serveApi(config, () => {
    throw new Error("a bug below the app");
  }, silentLogger);
  try {
    const { hostname, port } = served.address;
    const res = await fetch(`http://${hostname}:${port}/healthz`);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), {
      error: {
        code: "internal_error",
        message: "Internal error; see the daemon's log",
        details: null,
      },
    });
  } finally {
    await served.shutdown(1_000);
  }
});
