/**
 * Black-box tests of the operator commands (`replay`, `deliveries`,
 * `webhooks`): a real daemon with a one-attempt policy that dead-letters, a
 * local receiver that fails and then recovers, and `main.ts` run as the
 * operator would run it, judged by exit codes and what it prints.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import {
  api,
  type CliResult,
  daemonEnv,
  runCli,
  type RunningDaemon,
  startDaemon,
} from "./_daemon.ts";
import { CLOSED_PORT } from "../src/testing/closed_port.ts";

const ADMIN_KEY = "test-admin-key-cli-0123456789abcdef";

interface Delivery {
  id: string;
  webhook_id: string;
  event_type: string;
  state: string;
  attempt_count: number;
  last_status: number | null;
}

interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Lines of `text` without the trailing empty one. */
function lines(text: string): string[] {
  return text.split("\n").filter((line, i, all) => !(i === all.length - 1 && line === ""));
}

/** Waits for `condition`, checking every 25 ms, at most `ms`. */
async function until(what: string, condition: () => Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function deliveriesOf(daemon: RunningDaemon, webhookId: string): Promise<Delivery[]> {
  const page = await api<Page<Delivery>>(
    daemon,
    "GET",
    `/api/v1/webhooks/${webhookId}/deliveries?limit=1000`,
    { key: ADMIN_KEY },
  );
  assert.equal(page.status, 200, JSON.stringify(page.body));
  return page.body.data;
}

Deno.test("operator commands list, replay and report errors against a running daemon", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-cli-" });
  await using receiver = await startReceiver({ respond: () => ({ status: 500 }) });
  await Deno.writeTextFile(
    `${dir}/hookd.toml`,
    ["[policies.once]", 'schedule = ["0s"]', 'on_exhausted = "dead"', ""].join("\n"),
  );
  const daemon = await startDaemon({
    dir,
    args: ["--config", `${dir}/hookd.toml`],
    env: daemonEnv(dir, ADMIN_KEY),
  });
  /** Runs `hookd ARGS` against the daemon with the key in HOOKD_KEY (unless `env` says otherwise). */
  const hookd = (args: string[], env: Record<string, string> = { HOOKD_KEY: ADMIN_KEY }) =>
    runCli({ dir, args, env: { HOOKD_URL: daemon.url, ...env } });
  const everything: CliResult[] = [];
  const run = async (args: string[], env?: Record<string, string>) => {
    const result = await hookd(args, env);
    everything.push(result);
    return result;
  };
  try {
    const created = await api<{ id: string }>(daemon, "POST", "/api/v1/webhooks", {
      key: ADMIN_KEY,
      body: { url: `${receiver.url}/hook`, event_types: ["order.*"], policy: "once" },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const hook = created.body.id;
    const pausedHook = await api<{ id: string }>(daemon, "POST", "/api/v1/webhooks", {
      key: ADMIN_KEY,
      body: { url: `${receiver.url}/other`, event_types: ["user.*"], state: "paused" },
    });
    assert.equal(pausedHook.status, 201, JSON.stringify(pausedHook.body));
    const paused = pausedHook.body.id;

    const accepted: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const event = await api<{ deliveries: { id: string }[] }>(daemon, "POST", "/api/v1/events", {
        key: ADMIN_KEY,
        body: { type: "order.created", data: { n } },
      });
      assert.equal(event.status, 202, JSON.stringify(event.body));
      accepted.push(event.body.deliveries[0]!.id);
    }
    await receiver.waitForRequests(3, 20_000);
    await until(
      "three dead deliveries",
      async () => (await deliveriesOf(daemon, hook)).every((d) => d.state === "dead"),
    );

    await t.step("deliveries --state dead --json lists the dead letters", async () => {
      // The root key's variable works too, as in the shell that started the daemon.
      const listed = await run(["deliveries", "--state", "dead", "--json"], {
        HOOKD_ADMIN_KEY: ADMIN_KEY,
      });
      assert.equal(listed.code, 0, listed.output);
      assert.equal(listed.stderr, "", listed.output);
      const dead = lines(listed.stdout).map((line) => JSON.parse(line) as Delivery);
      assert.deepEqual(dead.map((d) => d.id), accepted, listed.output);
      for (const delivery of dead) {
        assert.equal(delivery.state, "dead");
        assert.equal(delivery.webhook_id, hook);
        assert.equal(delivery.event_type, "order.created");
        assert.equal(delivery.attempt_count, 1);
        assert.equal(delivery.last_status, 500);
      }
    });

    await t.step(
      "deliveries --webhook prints a table up to --limit and says more match",
      async () => {
        const table = await run([
          "deliveries",
          "--webhook",
          hook,
          "--limit",
          "2",
          "--key",
          ADMIN_KEY,
        ], {});
        assert.equal(table.code, 0, table.output);
        const [header, ...rows] = lines(table.stdout);
        assert.match(
          header!,
          /^ID +STATE +EVENT TYPE +ATTEMPTS +LAST STATUS +UPDATED$/,
          table.output,
        );
        assert.equal(rows.length, 2, table.output);
        for (const [i, row] of rows.entries()) {
          assert.match(
            row,
            new RegExp(
              `^${accepted[i]} +dead +order\\.created +1 +500 +\\d{4}-\\d\\d-\\d\\dT\\S+Z$`,
            ),
            table.output,
          );
        }
        assert.deepEqual(
          lines(table.stderr),
          ["hookd: more deliveries match than the 2 shown; see --limit"],
          table.output,
        );
      },
    );

    await t.step("replay --webhook replays them and they succeed", async () => {
      receiver.respond(() => ({ status: 200 }));
      const replayed = await run(["replay", "--webhook", hook]);
      assert.equal(replayed.code, 0, replayed.output);
      assert.equal(replayed.stdout, "replayed 3 dead deliveries\n", replayed.output);
      // Not a terminal: no progress line.
      assert.equal(replayed.stderr, "", replayed.output);
      await receiver.waitForRequests(6, 20_000);
      await until(
        "three succeeded deliveries",
        async () => (await deliveriesOf(daemon, hook)).every((d) => d.state === "succeeded"),
      );
      const after = await deliveriesOf(daemon, hook);
      assert.deepEqual(after.map((d) => [d.id, d.attempt_count]), accepted.map((id) => [id, 2]));

      const again = await run(["replay", "--all", "--json"]);
      assert.equal(again.code, 0, again.output);
      assert.deepEqual(JSON.parse(again.stdout), { replayed: 0 }, again.output);
    });

    await t.step("webhooks prints a table of the webhooks; --state filters", async () => {
      const table = await run(["webhooks"]);
      assert.equal(table.code, 0, table.output);
      const [header, ...rows] = lines(table.stdout);
      assert.match(header!, /^ID +STATE +POLICY +PROFILE +EVENT TYPES +URL$/, table.output);
      assert.equal(rows.length, 2, table.output);
      assert.match(
        rows[0]!,
        new RegExp(`^${hook} +enabled +once +standard +order\\.\\* +${receiver.url}/hook$`),
      );
      assert.match(
        rows[1]!,
        new RegExp(`^${paused} +paused +default +standard +user\\.\\* +${receiver.url}/other$`),
      );

      const json = await run(["webhooks", "--state", "paused", "--json"]);
      assert.equal(json.code, 0, json.output);
      assert.deepEqual(lines(json.stdout).map((l) => JSON.parse(l).id), [paused], json.output);
    });

    await t.step("usage errors exit 2 naming the flag and what is allowed", async () => {
      const cases: [string[], RegExp, Record<string, string>?][] = [
        [
          ["replay"],
          /^hookd: replay needs a filter \(--webhook, --event-type, --since, --until\), or --all/,
        ],
        [["replay", "--webhook", hook, "--all"], /^hookd: --all replays everything/],
        // Checked by the daemon, reported against the flag.
        [
          ["deliveries", "--state", "dead", "--since", "yesterday"],
          /^hookd: --since: must be an RFC 3339 timestamp such as "2026-01-22T06:40:00Z", got "yesterday" \(see hookd deliveries --help\)$/,
        ],
        [
          ["webhooks", "--state", "asleep"],
          /^hookd: --state: must be "enabled", "paused" or "disabled"/,
        ],
        [["deliveries", "--state", "failed"], /^hookd: deliveries needs --webhook ID/],
        [["webhooks", "--limit", "0"], /^hookd: --limit must be a whole number from 1 up, got "0"/],
        [
          ["webhooks", "--limt", "5"],
          /^hookd: unknown option --limt; did you mean --limit\? \(see hookd webhooks --help\)$/,
        ],
        [["deliveries", "--webhook"], /^hookd: --webhook needs a value \(ID\)/],
        [["webhooks", "extra"], /^hookd: unexpected argument "extra"/],
        [
          ["webhooks", "--url", "localhost:8787"],
          /^hookd: --url must be an http:\/\/ or https:\/\/ URL/,
        ],
        [["webhooks"], /^hookd: no API key: pass --key KEY or set HOOKD_KEY/, {}],
      ];
      const results = await Promise.all(cases.map(([args, , env]) => run(args, env)));
      for (const [i, [args, message]] of cases.entries()) {
        const result = results[i]!;
        assert.equal(result.code, 2, `${args.join(" ")}${result.output}`);
        assert.equal(result.stdout, "", result.output);
        assert.equal(lines(result.stderr).length, 1, result.output);
        assert.match(result.stderr.trimEnd(), message, result.output);
      }
    });

    await t.step("a bad key exits 1 with the API's message", async () => {
      const wrong = "hkd_0123456789abcdef0123456789abcdef_" + "W".repeat(43);
      const result = await run(["webhooks"], { HOOKD_KEY: wrong });
      assert.equal(result.code, 1, result.output);
      assert.equal(result.stdout, "", result.output);
      assert.deepEqual(lines(result.stderr), ["hookd: Invalid or revoked API key"], result.output);
      assert.ok(!result.output.includes(wrong), result.output);
    });

    await t.step("an unreachable daemon exits 3", async () => {
      const port = CLOSED_PORT;
      const result = await run(["replay", "--all", "--url", `http://127.0.0.1:${port}`]);
      assert.equal(result.code, 3, result.output);
      assert.equal(result.stdout, "", result.output);
      assert.match(
        result.stderr,
        new RegExp(`^hookd: cannot reach the daemon at http://127\\.0\\.0\\.1:${port}/: .*refused`),
        result.output,
      );
    });

    // No command printed the key, whichever way it was given.
    for (const result of everything) assert.ok(!result.output.includes(ADMIN_KEY), result.output);
  } catch (error) {
    if (error instanceof Error) error.message += daemon.output();
    throw error;
  } finally {
    await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help lists every command and the exit codes; each command has its own help", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-cli-" });
  try {
    const top = await runCli({ dir, args: ["--help"] });
    assert.equal(top.code, 0, top.output);
    for (
      const command of [
        "serve",
        "check-config",
        "keys",
        "replay",
        "deliveries",
        "webhooks",
        "version",
      ]
    ) {
      assert.match(top.stdout, new RegExp(`^  ${command} +\\S`, "m"), `no ${command}${top.output}`);
    }
    assert.match(
      top.stdout,
      /^Exit codes:\n {2}0 .*\n {2}1 .*\n(?: .*\n)* {2}2 .*usage.*\n {2}3 .*reached/m,
      top.output,
    );
    for (const alias of [["-h"], ["help"]]) {
      const same = await runCli({ dir, args: alias });
      assert.equal(same.code, 0, same.output);
      assert.equal(same.stdout, top.stdout, alias.join(" "));
    }

    const replay = await runCli({ dir, args: ["replay", "--help"] });
    assert.equal(replay.code, 0, replay.output);
    assert.equal(replay.stderr, "", replay.output);
    assert.match(replay.stdout, /^Usage: hookd replay /, replay.output);
    for (
      const flag of [
        "--webhook ID",
        "--event-type TYPE",
        "--since RFC3339",
        "--until RFC3339",
        "--all",
        "--json",
        "--url URL",
        "--key KEY",
        "-h, --help",
        "Exit codes:",
        "HOOKD_URL",
        "HOOKD_KEY",
      ]
    ) {
      assert.ok(replay.stdout.includes(flag), `replay --help lacks ${flag}${replay.output}`);
    }
    const viaHelp = await runCli({ dir, args: ["help", "replay"] });
    assert.equal(viaHelp.stdout, replay.stdout);
    for (const command of ["deliveries", "webhooks"]) {
      const help = await runCli({ dir, args: [command, "-h"] });
      assert.equal(help.code, 0, help.output);
      assert.match(help.stdout, new RegExp(`^Usage: hookd ${command} `), help.output);
      assert.ok(help.stdout.includes("--limit N"), help.output);
    }

    for (const flag of ["--version", "-V"]) {
      const version = await runCli({ dir, args: [flag] });
      assert.equal(version.code, 0, version.output);
      assert.match(version.stdout, /^hookd \d+\.\d+\.\d+\S*\n$/, version.output);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
