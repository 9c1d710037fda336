import assert from "node:assert/strict";
import { loadConfig } from "../config/load_config.ts";
import { enforcesLimits } from "./serve_api.ts";

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
