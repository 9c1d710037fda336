/**
 * Black-box tests of the real program: `main.ts` runs as a child process in a
 * temp working directory, talked to over HTTP and judged by its exit codes
 * and what it prints.
 */
import assert from "node:assert/strict";
import { api, type CliResult, runCli, type RunningDaemon, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "test-admin-key-0123456789abcdef";
const API_KEY_FORMAT = /^hkd_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CreatedKey {
  id: string;
  name: string;
  scopes: string[];
  key: string;
}

interface Webhook {
  id: string;
  url: string;
  event_types: string[];
  secret?: string;
  [field: string]: unknown;
}

interface Accepted {
  id: string;
  deliveries: { id: string; webhook_id: string; state: string }[];
}

interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  webhook_id: string;
  state: string;
  [field: string]: unknown;
}

interface StoredEvent {
  id: string;
  type: string;
  tenant_id: string | null;
  data: unknown;
  occurred_at: string;
  received_at: string;
  deliveries: Delivery[];
}

interface BatchResult {
  data: {
    id: string;
    status: string;
    deliveries?: Accepted["deliveries"];
    error?: { code: string };
  }[];
}

/** Lines of `text` without the trailing empty one. */
function lines(text: string): string[] {
  return text.split("\n").filter((line, i, all) => !(i === all.length - 1 && line === ""));
}

/** Stderr lines that are not JSON log lines: what main.ts itself printed. */
function plainLines(stderr: string): string[] {
  return lines(stderr).filter((line) => !line.startsWith("{"));
}

/** A serve that could not run says why on its log stream too: one JSON error line on stdout. */
function assertFatalLogLine(run: CliResult): void {
  const out = lines(run.stdout);
  assert.equal(out.length, 1, run.output);
  const entry = JSON.parse(out[0]!) as Record<string, unknown>;
  assert.equal(entry.level, "error", run.output);
  assert.equal(entry.msg, "hookd stopped", run.output);
  assert.equal(typeof entry.error, "string", run.output);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-blackbox-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` against a started daemon; kills the child whatever happens, shows its output on failure. */
async function withDaemon(
  daemon: RunningDaemon,
  fn: (daemon: RunningDaemon) => Promise<void>,
): Promise<void> {
  try {
    await fn(daemon);
  } catch (error) {
    // The harness's own errors already carry the output.
    if (error instanceof Error && !error.message.includes("--- stdout ---")) {
      error.message += daemon.output();
    }
    throw error;
  } finally {
    await daemon.kill();
  }
}

Deno.test("serve keeps webhooks, events, deliveries and CLI-created keys across a restart", async () => {
  await withTempDir(async (dir) => {
    const env = {
      HOOKD_SERVER_LISTEN: "127.0.0.1:0",
      HOOKD_STORE_URL: `file:${dir}/store/hookd.db`,
      HOOKD_ADMIN_KEY: ADMIN_KEY,
      HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
    };

    // A scoped key, created offline before the daemon ever ran.
    const created = await runCli({
      dir,
      env,
      args: ["keys", "create", "--name", "producer", "--scopes", "events:write,deliveries:read"],
    });
    assert.equal(created.code, 0, created.output);
    assert.equal(lines(created.stdout).length, 1, created.output);
    const key = JSON.parse(created.stdout) as CreatedKey;
    assert.match(key.id, UUID);
    assert.equal(key.name, "producer");
    assert.deepEqual(key.scopes, ["events:write", "deliveries:read"]);
    assert.match(key.key, API_KEY_FORMAT);

    let webhook!: Webhook;
    const accepted = new Map<string, Accepted>();
    let idempotent!: Accepted;

    await withDaemon(await startDaemon({ dir, env }), async (daemon) => {
      assert.match(daemon.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(daemon.url, "http://127.0.0.1:0");

      // Authentication and scopes.
      const anonymous = await api<ApiErrorBody>(daemon, "GET", "/api/v1/webhooks");
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, "unauthorized");
      const badKey = await api<ApiErrorBody>(daemon, "GET", "/api/v1/events/x", {
        key: "hkd_00000000000000000000000000000000_" + "A".repeat(43),
      });
      assert.equal(badKey.status, 401);
      const forbidden = await api<ApiErrorBody>(daemon, "GET", "/api/v1/webhooks", {
        key: key.key,
      });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.error.code, "forbidden");
      assert.deepEqual(forbidden.body.error.details, { required: "webhooks:read" });
      const forbiddenCreate = await api<ApiErrorBody>(daemon, "POST", "/api/v1/webhooks", {
        key: key.key,
        body: { url: "https://example.com/hooks" },
      });
      assert.equal(forbiddenCreate.status, 403);

      // A webhook, created with the root key.
      const wh = await api<Webhook>(daemon, "POST", "/api/v1/webhooks", {
        key: ADMIN_KEY,
        body: {
          url: "http://127.0.0.1:9/hooks",
          event_types: ["order.*"],
          description: "orders",
          // Paused: nothing is sent during the test, whatever the delivery engine does.
          state: "paused",
          metadata: { team: "billing" },
        },
      });
      assert.equal(wh.status, 201, JSON.stringify(wh.body));
      webhook = wh.body;
      assert.match(webhook.id, UUID);
      assert.equal(webhook.url, "http://127.0.0.1:9/hooks");
      assert.deepEqual(webhook.event_types, ["order.*"]);
      assert.equal(webhook.state, "paused");
      assert.equal(webhook.enabled, false);
      assert.equal(typeof webhook.secret, "string");
      assert.notEqual(webhook.secret, "");

      // Events, with the scoped key.
      const post = (body: unknown, headers?: Record<string, string>) =>
        api<Accepted & ApiErrorBody>(daemon, "POST", "/api/v1/events", {
          key: key.key,
          body,
          headers,
        });

      const first = await post({ id: "evt_1", type: "order.created", data: { n: 1 } });
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.equal(first.body.id, "evt_1");
      assert.equal(first.body.deliveries.length, 1);
      assert.equal(first.body.deliveries[0]!.webhook_id, webhook.id);
      assert.match(first.body.deliveries[0]!.id, UUID);
      assert.equal(first.body.deliveries[0]!.state, "held");
      accepted.set("evt_1", first.body);

      // A type no webhook subscribes to: stored, no deliveries.
      const unmatched = await post({
        id: "evt_user",
        type: "user.signup",
        data: null,
        tenant_id: "acme",
      });
      assert.equal(unmatched.status, 202, JSON.stringify(unmatched.body));
      assert.deepEqual(unmatched.body, { id: "evt_user", deliveries: [] });
      accepted.set("evt_user", unmatched.body);

      // Idempotency-Key: the repeat answers 200 with the first body.
      const keyed = { type: "order.paid", data: { amount: 42, currency: "EUR" } };
      const once = await post(keyed, { "Idempotency-Key": "pay-42" });
      assert.equal(once.status, 202, JSON.stringify(once.body));
      assert.match(once.body.id, /\S/);
      const twice = await post(keyed, { "Idempotency-Key": "pay-42" });
      assert.equal(twice.status, 200, JSON.stringify(twice.body));
      assert.deepEqual(twice.body, once.body);
      idempotent = once.body;
      accepted.set(once.body.id, once.body);

      // A repeated id with the same content is a duplicate; with other content, a conflict.
      const again = await post({ id: "evt_1", type: "order.created", data: { n: 1 } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body, first.body);
      const conflict = await post({ id: "evt_1", type: "order.created", data: { n: 2 } });
      assert.equal(conflict.status, 409, JSON.stringify(conflict.body));
      assert.equal(conflict.body.error.code, "conflict");
      assert.deepEqual(conflict.body.error.details, { event_id: "evt_1" });

      // A batch: two new events, a duplicate and a conflict, in request order.
      const batch = await api<BatchResult>(daemon, "POST", "/api/v1/events/batch", {
        key: key.key,
        body: {
          events: [
            { id: "evt_b1", type: "order.shipped", data: { box: 1 } },
            { id: "evt_b2", type: "order.shipped", data: { box: 2 } },
            { id: "evt_1", type: "order.created", data: { n: 1 } },
            { id: "evt_1", type: "order.created", data: { n: 3 } },
          ],
        },
      });
      assert.equal(batch.status, 202, JSON.stringify(batch.body));
      assert.deepEqual(batch.body.data.map((r) => [r.id, r.status]), [
        ["evt_b1", "created"],
        ["evt_b2", "created"],
        ["evt_1", "duplicate"],
        ["evt_1", "conflict"],
      ]);
      assert.equal(batch.body.data[3]!.error?.code, "conflict");
      for (const result of batch.body.data.slice(0, 2)) {
        assert.equal(result.deliveries?.length, 1);
        assert.equal(result.deliveries[0]!.webhook_id, webhook.id);
        accepted.set(result.id, { id: result.id, deliveries: result.deliveries });
      }
      assert.deepEqual(batch.body.data[2]!.deliveries, first.body.deliveries);

      // Reading back before the restart, with the scoped key.
      const read = await api<StoredEvent>(daemon, "GET", "/api/v1/events/evt_1", { key: key.key });
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.deepEqual(read.body.data, { n: 1 });

      assert.equal(await daemon.stop("SIGTERM"), 0);
      // Logs are JSON lines on stdout, and the daemon said it stopped.
      const logs = lines(daemon.stdout()).map((line) =>
        JSON.parse(line) as Record<string, unknown>
      );
      assert.ok(
        logs.some((entry) => Object.values(entry).includes("stopped")),
        "no 'stopped' log line",
      );
    });

    // Same database, new process: everything is still there.
    await withDaemon(await startDaemon({ dir, env }), async (daemon) => {
      const wh = await api<Webhook>(daemon, "GET", `/api/v1/webhooks/${webhook.id}`, {
        key: ADMIN_KEY,
      });
      assert.equal(wh.status, 200, JSON.stringify(wh.body));
      const { secret: _secret, ...withoutSecret } = webhook;
      assert.deepEqual(wh.body, withoutSecret);

      const list = await api<{ data: Webhook[]; next_cursor: string | null }>(
        daemon,
        "GET",
        "/api/v1/webhooks",
        { key: ADMIN_KEY },
      );
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.data.map((w) => w.id), [webhook.id]);

      assert.equal(accepted.size, 5);
      for (const [id, answer] of accepted) {
        const read = await api<StoredEvent>(daemon, "GET", `/api/v1/events/${id}`, {
          key: key.key, // the CLI-created key still works after the restart
        });
        assert.equal(read.status, 200, `${id}: ${JSON.stringify(read.body)}`);
        assert.equal(read.body.id, id);
        assert.deepEqual(
          read.body.deliveries.map((d) => [d.id, d.webhook_id, d.event_id, d.event_type]),
          answer.deliveries.map((d) => [d.id, d.webhook_id, id, read.body.type]),
        );
        for (const delivery of read.body.deliveries) assert.equal(delivery.state, "held");
      }
      const user = await api<StoredEvent>(daemon, "GET", "/api/v1/events/evt_user", {
        key: key.key,
      });
      assert.equal(user.body.type, "user.signup");
      assert.equal(user.body.tenant_id, "acme");
      assert.equal(user.body.data, null);
      const shipped = await api<StoredEvent>(daemon, "GET", "/api/v1/events/evt_b2", {
        key: key.key,
      });
      assert.deepEqual(shipped.body.data, { box: 2 });

      // Idempotency and conflicts survive the restart too.
      const repeat = await api<Accepted>(daemon, "POST", "/api/v1/events", {
        key: key.key,
        body: { type: "order.paid", data: { amount: 42, currency: "EUR" } },
        headers: { "Idempotency-Key": "pay-42" },
      });
      assert.equal(repeat.status, 200, JSON.stringify(repeat.body));
      assert.deepEqual(repeat.body, idempotent);
      const conflict = await api<ApiErrorBody>(daemon, "POST", "/api/v1/events", {
        key: key.key,
        body: { id: "evt_b1", type: "order.shipped", data: { box: 9 } },
      });
      assert.equal(conflict.status, 409);

      const missing = await api<ApiErrorBody>(daemon, "GET", "/api/v1/events/evt_nope", {
        key: key.key,
      });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, "not_found");
      const stillForbidden = await api(daemon, "GET", `/api/v1/webhooks/${webhook.id}`, {
        key: key.key,
      });
      assert.equal(stillForbidden.status, 403);

      assert.equal(await daemon.stop("SIGTERM"), 0);
    });
  });
});

Deno.test("serve runs on the embedded defaults in an empty working directory", async () => {
  await withTempDir(async (dir) => {
    // Only the port is overridden: 8787 may be taken on this machine.
    const env = { HOOKD_SERVER_LISTEN: "127.0.0.1:0" };
    await withDaemon(await startDaemon({ dir, env }), async (daemon) => {
      const stat = await Deno.stat(`${dir}/data/hookd.db`);
      assert.ok(stat.isFile, "data/hookd.db is not a file");
      const ready = await api<{ status: string; schema_version: number }>(
        daemon,
        "GET",
        "/readyz",
      );
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      assert.equal(ready.body.status, "ready");
      assert.ok(Number.isInteger(ready.body.schema_version) && ready.body.schema_version >= 1);
      const health = await api(daemon, "GET", "/healthz");
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: "ok" });
      // No admin key and no API keys: every protected route says 401.
      const protectedRoute = await api(daemon, "GET", "/api/v1/webhooks", { key: "anything" });
      assert.equal(protectedRoute.status, 401);
      assert.equal(await daemon.stop("SIGINT"), 0);
    });
  });
});

Deno.test("fatal errors print hookd: <reason> on stderr and exit non-zero", async (t) => {
  await withTempDir(async (dir) => {
    const base = { HOOKD_STORE_URL: `file:${dir}/db/hookd.db` };

    await t.step("port in use", async () => {
      const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      try {
        const listen = `127.0.0.1:${taken.addr.port}`;
        const run = await runCli({
          dir,
          args: ["serve"],
          env: { ...base, HOOKD_SERVER_LISTEN: listen },
        });
        assert.equal(run.code, 1, run.output);
        assertFatalLogLine(run);
        assert.deepEqual(
          plainLines(run.stderr),
          [`hookd: Cannot listen on ${listen}: address already in use`],
          run.output,
        );
      } finally {
        taken.close();
      }
    });

    await t.step("data directory beneath a regular file", async () => {
      await Deno.writeTextFile(`${dir}/afile`, "not a directory");
      const run = await runCli({
        dir,
        args: ["serve"],
        env: {
          HOOKD_SERVER_LISTEN: "127.0.0.1:0",
          HOOKD_STORE_URL: `file:${dir}/afile/db/hookd.db`,
        },
      });
      assert.equal(run.code, 1, run.output);
      assertFatalLogLine(run);
      const printed = plainLines(run.stderr);
      assert.equal(printed.length, 1, run.output);
      assert.ok(
        printed[0]!.startsWith(`hookd: Cannot create the data directory "${dir}/afile/db": `),
        run.output,
      );
    });

    await t.step("bad config file names FILE:LINE:COLUMN", async () => {
      const file = `${dir}/bad.toml`;
      await Deno.writeTextFile(file, '# hookd\n[server]\nlisten = "nowhere"\n');
      const run = await runCli({ dir, args: ["serve", "--config", file], env: base });
      assert.equal(run.code, 1, run.output);
      assertFatalLogLine(run);
      const printed = plainLines(run.stderr);
      assert.ok(printed[0]?.startsWith("hookd: "), run.output);
      assert.ok(
        printed.some((line) =>
          line.startsWith(`${file}:3:1: server.listen: `) && line.includes('"nowhere"')
        ),
        run.output,
      );
      // The log line carries the same problems and what to do.
      const logged = JSON.parse(run.stdout) as { problems: string[]; action: string };
      assert.ok(logged.problems.some((p) => p.startsWith(`${file}:3:1: server.listen: `)));
      assert.match(logged.action, /hookd check-config/);
    });

    await t.step("TOML syntax error names FILE:LINE:COLUMN", async () => {
      const file = `${dir}/syntax.toml`;
      await Deno.writeTextFile(file, "[server]\nlisten = \n");
      const run = await runCli({ dir, args: ["serve", "--config", file], env: base });
      assert.equal(run.code, 1, run.output);
      assert.match(run.stderr, new RegExp(`${escape(file)}:2:\\d+: invalid TOML`), run.output);
    });

    await t.step("unknown HOOKD_ variable", async () => {
      const run = await runCli({
        dir,
        args: ["serve"],
        env: { ...base, HOOKD_SERVER_LISTEN: "127.0.0.1:0", HOOKD_SERVER_LISTN: "127.0.0.1:0" },
      });
      assert.equal(run.code, 1, run.output);
      assertFatalLogLine(run);
      assert.ok(plainLines(run.stderr)[0]?.startsWith("hookd: "), run.output);
      assert.match(
        run.stderr,
        /env HOOKD_SERVER_LISTN: unknown variable; did you mean HOOKD_SERVER_LISTEN\?/,
        run.output,
      );
    });

    await t.step("missing config file", async () => {
      const run = await runCli({ dir, args: ["serve", "--config", `${dir}/nope.toml`], env: base });
      assert.equal(run.code, 1, run.output);
      assert.match(run.stderr, /nope\.toml: cannot read/, run.output);
    });

    await t.step("unknown command exits 2", async () => {
      const run = await runCli({ dir, args: ["frobnicate"], env: base });
      assert.equal(run.code, 2, run.output);
      assert.equal(run.stdout, "", run.output);
      assert.deepEqual(
        lines(run.stderr),
        ['hookd: unknown command "frobnicate" (see hookd --help)'],
        run.output,
      );
    });

    await t.step("usage errors exit 2", async () => {
      const unknownOption = await runCli({ dir, args: ["serve", "--frob"], env: base });
      assert.equal(unknownOption.code, 2, unknownOption.output);
      assert.deepEqual(
        lines(unknownOption.stderr),
        ["hookd: unknown option --frob (see hookd serve --help)"],
        unknownOption.output,
      );
      const badScope = await runCli({
        dir,
        args: ["keys", "create", "--name", "x", "--scopes", "events:write,root"],
        env: base,
      });
      assert.equal(badScope.code, 2, badScope.output);
      assert.equal(lines(badScope.stderr).length, 1, badScope.output);
      assert.match(badScope.stderr, /^hookd: unknown scope "root"/, badScope.output);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("check-config prints the resolved config with secrets redacted", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("a good file", async () => {
      const file = `${dir}/hookd.toml`;
      await Deno.writeTextFile(
        file,
        [
          "[server]",
          'listen = "127.0.0.1:9999"',
          "[store]",
          'url = "libsql://db.example.com?authToken=store-token-value"',
          'auth_token = "another-secret-token"',
          "[policies.fast]",
          'timeout = "5s"',
          'schedule = ["0s", "1s", "2s"]',
          'on_exhausted = "failed"',
          "",
        ].join("\n"),
      );
      const run = await runCli({
        dir,
        args: ["check-config", file],
        env: { HOOKD_ADMIN_KEY: ADMIN_KEY, HOOKD_LOG_LEVEL: "debug" },
      });
      assert.equal(run.code, 0, run.output);
      assert.equal(run.stderr, "", run.output);
      for (const secret of [ADMIN_KEY, "store-token-value", "another-secret-token"]) {
        assert.ok(!run.output.includes(secret), `${secret} was printed${run.output}`);
      }
      const out = lines(run.stdout);
      for (
        const expected of [
          "[server]",
          'listen = "127.0.0.1:9999"',
          "admin_key = (set)",
          "auth_token = (set)",
          'level = "debug"',
          "[policies.default]",
          "[policies.fast]",
          'timeout = "5s"',
          'schedule = ["0s", "1s", "2s"]',
          'on_exhausted = "failed"',
        ]
      ) {
        assert.ok(out.includes(expected), `missing line ${JSON.stringify(expected)}${run.output}`);
      }
      assert.ok(
        out.some((line) => line.startsWith("url = ") && line.includes("libsql://db.example.com")),
      );
    });

    await t.step("a bad file: every error with file:line:column, exit 1", async () => {
      const file = `${dir}/bad.toml`;
      await Deno.writeTextFile(
        file,
        [
          "[server]",
          'listen = "nope"',
          "",
          "[log]",
          'level = "loud"',
          "bogus = 1",
          "",
          "[policies.fast]",
          'schedule = ["0s", "soon"]',
          "",
        ].join("\n"),
      );
      const run = await runCli({
        dir,
        args: ["check-config", file],
        env: { HOOKD_ADMIN_KEY: ADMIN_KEY },
      });
      assert.equal(run.code, 1, run.output);
      assert.equal(run.stdout, "", run.output);
      assert.ok(!run.output.includes(ADMIN_KEY), run.output);
      const printed = lines(run.stderr);
      assert.ok(printed[0]?.startsWith("hookd: "), run.output);
      const issues = printed.filter((line) => line.startsWith(`${file}:`));
      const positions = issues.map((line) => /^.*?:(\d+):(\d+): ([\w.[\]]+):/.exec(line)?.slice(1));
      assert.deepEqual(
        positions.map((p) => p?.[2]).sort(),
        ["log.bogus", "log.level", "policies.fast.schedule[1]", "server.listen"].sort(),
        run.output,
      );
      const where = Object.fromEntries(positions.map((p) => [p?.[2], `${p?.[0]}:${p?.[1]}`]));
      assert.equal(where["server.listen"], "2:1", run.output);
      assert.equal(where["log.level"], "5:1", run.output);
      assert.equal(where["log.bogus"], "6:1", run.output);
      assert.match(where["policies.fast.schedule[1]"] ?? "", /^9:\d+$/, run.output);
    });

    await t.step("no FILE is a usage error", async () => {
      const run = await runCli({ dir, args: ["check-config"] });
      assert.equal(run.code, 2, run.output);
      assert.match(run.stderr, /^hookd: check-config needs a FILE/, run.output);
    });
  });
});

Deno.test("version and --help exit 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-blackbox-" });
  try {
    const version = await runCli({ dir, args: ["version"] });
    assert.equal(version.code, 0, version.output);
    assert.match(version.stdout, /^hookd \d+\.\d+\.\d+\S*\n$/, version.output);
    assert.equal(version.stderr, "", version.output);

    const help = await runCli({ dir, args: ["--help"] });
    assert.equal(help.code, 0, help.output);
    assert.equal(help.stderr, "", help.output);
    for (const word of ["Usage:", "serve", "check-config", "keys create", "version", "--config"]) {
      assert.ok(help.stdout.includes(word), `--help lacks ${JSON.stringify(word)}${help.output}`);
    }
    // The version in the help is the one `version` prints.
    assert.ok(help.stdout.startsWith(version.stdout.trim()), help.output);

    // A command's own help: its usage and options (tests/cli_test.ts covers the others).
    const subHelp = await runCli({ dir, args: ["serve", "--help"] });
    assert.equal(subHelp.code, 0, subHelp.output);
    assert.match(subHelp.stdout, /^Usage: hookd serve \[--config FILE\]\n/, subHelp.output);
    assert.ok(subHelp.stdout.includes("HOOKD_CONFIG"), subHelp.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "SIGTERM exits within server.shutdown_grace even when a client stalls mid-request",
  fn: async () => {
    await withTempDir(async (dir) => {
      const env = {
        HOOKD_SERVER_LISTEN: "127.0.0.1:0",
        HOOKD_STORE_URL: `file:${dir}/hookd.db`,
        HOOKD_ADMIN_KEY: ADMIN_KEY,
        HOOKD_SERVER_SHUTDOWN_GRACE: "1s",
      };
      await withDaemon(await startDaemon({ dir, env }), async (daemon) => {
        const url = new URL(daemon.url);
        const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
        try {
          // Headers promise 100 bytes of body; only 8 ever come.
          await conn.write(
            new TextEncoder().encode(
              "POST /api/v1/events HTTP/1.1\r\nHost: hookd\r\n" +
                `Authorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\n` +
                'Content-Length: 100\r\n\r\n{"type":',
            ),
          );
          // A full round trip on another connection: the stalled request has been seen.
          assert.equal((await api(daemon, "GET", "/healthz")).status, 200);
          // Grace 1 s; 10 s leaves ample room for a loaded machine.
          assert.equal(await daemon.stop("SIGTERM", 10_000), 0);
        } finally {
          conn.close();
        }
      });
    });
  },
});
