/**
 * An in-process API for tests: a real store in a temp directory, a fake
 * clock, the root key, and `request()` that calls the Hono app directly —
 * no sockets.
 */
import type { Hono } from "hono";
import { Authenticator } from "../api/auth.ts";
import { createApp } from "../api/app.ts";
import type { ApiDeps } from "../api/deps.ts";
import { FakeClock } from "../clock.ts";
import { loadConfig } from "../config/load_config.ts";
import { silentLogger } from "../ops/log.ts";
import { Store } from "../store/store.ts";

/** Parsed JSON answers; tests index into them freely and assert on what they find. */
// deno-lint-ignore no-explicit-any
export type Json = any;

export const ADMIN_KEY = "test-admin-key-0123456789";
export const START = Date.UTC(2026, 10, 23, 9, 0, 0);

export interface ApiHarness {
  readonly app: Hono;
  readonly deps: ApiDeps;
  readonly clock: FakeClock;
  readonly store: Store;
  /** Calls the app; `body` objects are sent as JSON with the root key unless `key` is given. */
  request(
    method: string,
    path: string,
    options?: { body?: unknown; key?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Like `request`, then parses the JSON answer. */
  json(
    method: string,
    path: string,
    options?: { body?: unknown; key?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json }>;
}

export async function withApi(
  fn: (api: ApiHarness) => Promise<void>,
  configToml = "",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-api-" });
  const config = loadConfig({
    text: configToml,
    env: {
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_ADMIN_KEY: ADMIN_KEY,
      HOOKD_STORE_COMMIT_WINDOW: "0ms",
    },
  });
  const clock = new FakeClock(START);
  const store = await Store.open(config.store, clock.now());
  const deps: ApiDeps = {
    config,
    store,
    clock,
    auth: new Authenticator(store, clock, config.auth.adminKey),
    log: silentLogger,
  };
  const app = createApp(deps);
  const request: ApiHarness["request"] = (method, path, options = {}) => {
    const headers = new Headers(options.headers);
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    if (key !== null) headers.set("authorization", `Bearer ${key}`);
    let body: BodyInit | undefined;
    if (typeof options.body === "string") body = options.body;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    return Promise.resolve(app.request(`http://hookd.test${path}`, { method, headers, body }));
  };
  const json: ApiHarness["json"] = async (method, path, options) => {
    const response = await request(method, path, options);
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  };
  try {
    await fn({ app, deps, clock, store, request, json });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}
