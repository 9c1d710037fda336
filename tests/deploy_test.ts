/**
 * The files in deploy/ checked with what runs here: the systemd unit with
 * `systemd-analyze` (Debian's systemd package), the Dockerfile with a
 * Dockerfile parser and linter, the compose file with a YAML parser, the
 * production config with the real `check-config`. `docker build` and
 * `deno compile` need a Docker engine and the internet, which this machine
 * does not have; they are not run.
 */
import assert from "node:assert/strict";
import { DockerfileParser } from "dockerfile-ast";
import { validate as lintDockerfile } from "dockerfile-utils";
import { parseDocument } from "yaml";
import { parseDuration } from "../src/config/duration.ts";
import { loadConfig } from "../src/config/load_config.ts";
import { runCli, startDaemon } from "./_daemon.ts";

const REPO = new URL("../", import.meta.url);
const path = (relative: string) => new URL(relative, REPO).pathname;
const read = (relative: string) => Deno.readTextFileSync(path(relative));

// --- systemd ---------------------------------------------------------------

/** `Key=value` lines of a unit file per section; a key set twice keeps both values. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const [key, value] = line.split(/=(.*)/s, 2) as [string, string];
    assert.ok(current, `a key before any section: ${line}`);
    current.set(key, [...(current.get(key) ?? []), value]);
  }
  return sections;
}

const UNIT = read("deploy/hookd.service");
const service = parseUnit(UNIT).get("Service")!;
const one = (key: string) => {
  const values = service.get(key);
  assert.equal(values?.length, 1, `[Service] ${key}= should be set once, got ${values}`);
  return values![0]!;
};

async function hasSystemdAnalyze(): Promise<boolean> {
  try {
    return (await new Deno.Command("systemd-analyze", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
}

const SYSTEMD_ANALYZE = await hasSystemdAnalyze();
// CI installs it (.ci/run); elsewhere the check is skipped, saying so.
const SKIP_SYSTEMD = !SYSTEMD_ANALYZE && Deno.env.get("CI") !== "true";
if (SKIP_SYSTEMD) {
  console.log(
    "tests/deploy_test.ts: systemd-analyze is not installed (apt-get install systemd): " +
      "skipping the systemd unit's verification",
  );
}

/**
 * A copy of the unit in a temp dir whose ExecStart runs an executable that
 * exists there: `systemd-analyze verify` refuses a unit whose binary is
 * missing, and /usr/local/bin/hookd is not installed here.
 */
async function unitCopy(dir: string, edit: (unit: string) => string = (u) => u): Promise<string> {
  await Deno.writeTextFile(`${dir}/hookd`, "#!/bin/sh\n", { mode: 0o755 });
  const unit = edit(UNIT.replaceAll("ExecStart=/usr/local/bin/hookd ", `ExecStart=${dir}/hookd `));
  await Deno.writeTextFile(`${dir}/hookd.service`, unit);
  return `${dir}/hookd.service`;
}

async function systemdAnalyze(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command("systemd-analyze", {
    args,
    env: { SYSTEMD_PAGER: "", SYSTEMD_COLORS: "0" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, output: decode(stdout) + decode(stderr) };
}

Deno.test({
  name: "hookd.service passes systemd-analyze verify, which does catch a broken unit",
  ignore: SKIP_SYSTEMD,
  fn: async () => {
    assert.ok(
      SYSTEMD_ANALYZE,
      "systemd-analyze is missing: install Debian's systemd package (.ci/run does)",
    );
    const dir = await Deno.makeTempDir({ prefix: "hookd-unit-" });
    try {
      // verify exits 0 even for unknown keys and bad values: it only warns.
      // So the unit must verify silently.
      const good = await systemdAnalyze("verify", await unitCopy(dir));
      assert.equal(good.code, 0, good.output);
      assert.equal(good.output, "", "systemd-analyze verify should print nothing");

      const broken = await unitCopy(
        dir,
        (unit) =>
          unit.replace("ProtectClock=yes", "ProtectClok=yes").replace(
            "RestartSec=2s",
            "RestartSec=two",
          ),
      );
      const bad = await systemdAnalyze("verify", broken);
      assert.match(bad.output, /Unknown key 'ProtectClok'/, bad.output);
      assert.match(bad.output, /Failed to parse sec value.*two/, bad.output);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "hookd.service is hardened: systemd-analyze security rates its exposure 2.0 or less",
  ignore: SKIP_SYSTEMD,
  fn: async () => {
    assert.ok(
      SYSTEMD_ANALYZE,
      "systemd-analyze is missing: install Debian's systemd package (.ci/run does)",
    );
    const dir = await Deno.makeTempDir({ prefix: "hookd-unit-" });
    try {
      // On a 0-10 scale (an unhardened service rates 9.6); --threshold is in tenths.
      const rated = await systemdAnalyze(
        "security",
        "--offline=yes",
        "--threshold=20",
        await unitCopy(dir),
      );
      const level = /Overall exposure level for hookd\.service: ([\d.]+)/.exec(rated.output);
      assert.ok(level, rated.output);
      assert.equal(rated.code, 0, `exposure ${level[1]} is above 2.0:\n${rated.output}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("hookd.service runs the installed binary on /etc/hookd, as a dynamic user", () => {
  assert.equal(one("Type"), "simple"); // hookd does not implement sd_notify
  assert.equal(one("ExecStart"), "/usr/local/bin/hookd serve --config /etc/hookd/hookd.toml");
  assert.equal(one("DynamicUser"), "yes");
  assert.equal(one("StateDirectory"), "hookd");
  assert.equal(one("Restart"), "on-failure");
  // Secrets come from a root-only file, never from the unit itself.
  assert.equal(one("EnvironmentFile"), "-/etc/hookd/hookd.env");
  assert.equal(service.get("Environment"), undefined);
  assert.doesNotMatch(UNIT, /^[^#]*HOOKD_ADMIN_KEY/m);
  // V8's JIT needs writable and executable memory.
  assert.equal(service.get("MemoryDenyWriteExecute"), undefined);
  assert.equal(one("NoNewPrivileges"), "yes");
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("CapabilityBoundingSet"), "");
  assert.equal(one("RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX");
  assert.deepEqual(service.get("SystemCallFilter"), ["@system-service", "~@privileged"]);
});

Deno.test("hookd.service outwaits the config's shutdown grace, and its store is the StateDirectory", () => {
  const config = loadConfig({ file: path("deploy/hookd.toml"), env: {} });
  const stopMs = parseDuration(one("TimeoutStopSec"));
  assert.ok(
    stopMs > config.server.shutdownGraceMs,
    `TimeoutStopSec=${
      one("TimeoutStopSec")
    } must exceed shutdown_grace (${config.server.shutdownGraceMs} ms)`,
  );
  assert.equal(config.store.url, `file:/var/lib/${one("StateDirectory")}/hookd.db`);
});

// --- the production config -------------------------------------------------

Deno.test("deploy/hookd.toml passes check-config, and so does its commented example policy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-deploy-config-" });
  try {
    const run = await runCli({ dir, args: ["check-config", path("deploy/hookd.toml")] });
    assert.equal(run.code, 0, run.output);
    assert.match(run.stdout, /^url = "file:\/var\/lib\/hookd\/hookd\.db"$/m, run.output);
    assert.match(run.stdout, /^listen = "127\.0\.0\.1:8787"$/m, run.output);
    assert.match(run.stdout, /^require_https = true$/m, run.output);

    // The example at the end, uncommented, is a valid policy too.
    const text = read("deploy/hookd.toml");
    const example = text.slice(text.indexOf("# [policies."));
    assert.notEqual(text.indexOf("# [policies."), -1, "the example policy is gone");
    const uncommented = `${dir}/uncommented.toml`;
    await Deno.writeTextFile(uncommented, text + "\n" + example.replace(/^# ?/gm, ""));
    const withExample = await runCli({ dir, args: ["check-config", uncommented] });
    assert.equal(withExample.code, 0, withExample.output);
    assert.match(withExample.stdout, /^\[policies\.patient\]$/m, withExample.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy/hookd.env.example sets only variables hookd knows", async () => {
  const env = Object.fromEntries(
    read("deploy/hookd.env.example").split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"))
      .map((line) => line.split(/=(.*)/s, 2) as [string, string]),
  );
  assert.deepEqual(Object.keys(env), ["HOOKD_ADMIN_KEY", "HOOKD_STORE_AUTH_TOKEN"]);
  // Unknown HOOKD_* variables are errors, so a misspelt one fails here.
  const dir = await Deno.makeTempDir({ prefix: "hookd-deploy-env-" });
  try {
    const run = await runCli({ dir, args: ["check-config", path("deploy/hookd.toml")], env });
    assert.equal(run.code, 0, run.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Docker ----------------------------------------------------------------

const DOCKERFILE = read("deploy/Dockerfile");
const dockerfile = DockerfileParser.parse(DOCKERFILE);
const instructions = dockerfile.getInstructions();
const froms = dockerfile.getFROMs();
/** The runtime stage: every instruction after the last FROM. */
const runtime = instructions.slice(instructions.indexOf(froms.at(-1)!) + 1);
const runtimeArgs = (keyword: string) =>
  runtime.filter((i) => i.getKeyword() === keyword).map((i) => i.getArgumentsContent() ?? "");
/** HEALTHCHECK's command, from its exec form. */
function healthcheckCommand(): string[] {
  const [healthcheck] = runtimeArgs("HEALTHCHECK");
  const exec = /^CMD\s+(\[.*\])$/s.exec(healthcheck ?? "");
  assert.ok(exec, `HEALTHCHECK should run CMD ["...", ...], got ${healthcheck}`);
  return JSON.parse(exec[1]!);
}
/** The runtime stage's ENV as name -> value. */
function runtimeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of runtime) {
    if (i.getKeyword() !== "ENV") continue;
    for (const p of (i as unknown as { getProperties(): PropertyLike[] }).getProperties()) {
      env[p.getName()] = p.getValue() ?? "";
    }
  }
  return env;
}
interface PropertyLike {
  getName(): string;
  getValue(): string | null;
}

Deno.test("deploy/Dockerfile lints clean", () => {
  const problems = lintDockerfile(DOCKERFILE).map((d) =>
    `deploy/Dockerfile:${d.range.start.line + 1}: ${d.message}`
  );
  assert.deepEqual(problems, []);
  // The linter is not a no-op: it sees what the real builder would refuse.
  const broken = DOCKERFILE.replace("--interval=10s", "--interval=10").replace(
    "EXPOSE 8787",
    "EXPOS 8787",
  );
  assert.equal(lintDockerfile(broken).length, 2);
});

Deno.test("deploy/Dockerfile compiles with the pinned Deno and runs hookd as non-root on /data", () => {
  // Two stages: the official Deno image at the project's pinned version compiles.
  assert.equal(froms.length, 2);
  assert.equal(froms[0]!.getImage(), "denoland/deno:${DENO_VERSION}");
  const pinned = JSON.parse(read(".toolchain/package.json")).devDependencies.deno;
  assert.match(DOCKERFILE, new RegExp(`^ARG DENO_VERSION=${pinned.replaceAll(".", "\\.")}$`, "m"));
  // Through the compile task, the one home of the compile flags.
  assert.match(DOCKERFILE, /^RUN deno task compile /m);
  assert.match(read("deno.json"), /"compile": "deno run [^"]* deploy\/compile\.ts"/);

  const [user] = runtimeArgs("USER");
  assert.ok(user !== undefined && !/^(0|root)(:|$)/.test(user), `USER ${user} must not be root`);
  assert.deepEqual(runtimeArgs("VOLUME"), ['["/data"]']);
  assert.deepEqual(runtimeArgs("EXPOSE"), ["8787"]);
  const env = runtimeEnv();
  assert.equal(env.HOOKD_SERVER_LISTEN, "0.0.0.0:8787");
  assert.match(env.HOOKD_STORE_URL ?? "", /^file:\/data\//);
  // The binary on PATH probes itself: there is no curl in the image.
  assert.deepEqual(healthcheckCommand(), ["hookd", "healthcheck"]);
  const copies = dockerfile.getCOPYs().filter((copy) => runtime.includes(copy));
  assert.deepEqual(
    copies.map((copy) => [copy.getFromFlag()?.getValue(), copy.getArgumentsContent()]),
    [["build", "/out/hookd /usr/local/bin/hookd"]],
  );
  assert.deepEqual(runtimeArgs("ENTRYPOINT"), ['["hookd"]']);
});

Deno.test("deploy/Dockerfile copies only files that exist and that .dockerignore lets in", async () => {
  const allowed = read(".dockerignore").split("\n")
    .filter((line) => line.startsWith("!"))
    .map((line) => line.slice(1).replace(/\/$/, ""));
  const sources = dockerfile.getCOPYs()
    .filter((copy) => copy.getFromFlag() === null)
    .flatMap((copy) => copy.getArguments().slice(0, -1).map((a) => a.getValue()));
  assert.ok(sources.length > 0);
  for (const source of sources) {
    const name = source.replace(/\/$/, "");
    assert.ok(allowed.includes(name), `.dockerignore keeps ${name} out of the build context`);
    await Deno.stat(path(name));
  }
});

Deno.test("the Dockerfile's HEALTHCHECK, with the image's environment, passes against a ready daemon", async () => {
  // The image's HOOKD_SERVER_LISTEN is 0.0.0.0:8787; here the daemon listens
  // on loopback at a free port, and the probe is told 0.0.0.0 and that port.
  const dir = await Deno.makeTempDir({ prefix: "hookd-deploy-health-" });
  const env = runtimeEnv();
  const [binary, ...args] = healthcheckCommand();
  assert.equal(binary, "hookd");
  const daemon = await startDaemon({
    dir,
    env: { HOOKD_SERVER_LISTEN: "127.0.0.1:0", HOOKD_STORE_URL: `file:${dir}/hookd.db` },
  });
  try {
    const port = new URL(daemon.url).port;
    const listen = env.HOOKD_SERVER_LISTEN!.replace(/:\d+$/, `:${port}`);
    const run = await runCli({
      dir,
      args,
      env: { ...env, HOOKD_SERVER_LISTEN: listen, HOOKD_STORE_URL: `file:${dir}/hookd.db` },
    });
    assert.equal(run.code, 0, run.output);
  } finally {
    await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

// --- compose -----------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  env_file?: string | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  networks?: string[];
  ports?: unknown;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

function parseCompose(): {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  networks: Record<string, unknown>;
} {
  const document = parseDocument(read("deploy/compose.yaml"), { uniqueKeys: true });
  assert.deepEqual(document.errors.map(String), []);
  assert.deepEqual(document.warnings.map(String), []);
  return document.toJS();
}

Deno.test("deploy/compose.yaml runs hookd as a sidecar: private network, named volume, env file", () => {
  const { services, volumes, networks } = parseCompose();
  assert.deepEqual(Object.keys(services).sort(), ["app", "hookd"]);
  const { app, hookd } = services as { app: ComposeService; hookd: ComposeService };

  // Built from this repository's Dockerfile.
  assert.deepEqual(hookd.build, { context: "..", dockerfile: "deploy/Dockerfile" });
  Deno.statSync(path(`deploy/../${hookd.build!.dockerfile}`));
  // Its API is published nowhere; only containers on the shared network reach it.
  assert.equal(hookd.ports, undefined);
  assert.deepEqual(hookd.networks, app.networks);
  assert.deepEqual(Object.keys(networks), hookd.networks);
  assert.equal(app.environment?.HOOKD_URL, "http://hookd:8787");
  // The database on a named volume at the image's /data.
  assert.deepEqual(hookd.volumes, ["hookd-data:/data"]);
  assert.ok("hookd-data" in volumes);
  // The admin key from a file, never inline.
  assert.equal(hookd.env_file, "hookd.env");
  assert.ok(!Object.keys(hookd.environment ?? {}).some((name) => name === "HOOKD_ADMIN_KEY"));
  assert.match(read(".gitignore"), /^deploy\/hookd\.env$/m);
  // The same probe as the image's, and the app waits for it.
  assert.deepEqual(hookd.healthcheck?.test, ["CMD", ...healthcheckCommand()]);
  assert.equal(app.depends_on?.hookd?.condition, "service_healthy");
  // Longer than shutdown_grace, so docker does not SIGKILL mid-shutdown.
  const { shutdownGraceMs } = loadConfig({ env: {} }).server;
  assert.ok(parseDuration(hookd.stop_grace_period ?? "0s") > shutdownGraceMs);
});
