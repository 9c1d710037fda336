/**
 * `deno task bench:compare -- --before <git rev> [--rounds N] [--only ingest|latency|delivery] [--quick]`:
 * the benchmark of an earlier revision and of this tree, in one run,
 * alternating (before, after, before, after, ...) so that the machine's
 * drift (±30% minute to minute on the shared build VM) falls on both sides
 * alike. The earlier revision is checked out into a temporary git worktree
 * and runs its own bench; this tree runs from a copy at a temporary path
 * too (snapshot.ts: where a daemon starts from shows in its RSS), taken
 * when the compare starts. Figures are matched by name. Prints, per figure,
 * the median of each side over the rounds, every round's value, and the
 * ratio after / before; figures measured against a reference also show the
 * median of their ratios, which cancels most of the drift.
 */
import { formatNumber, type Row } from "./report.ts";
import { median } from "./median.ts";
import { snapshotTree } from "./snapshot.ts";

const USAGE =
  "usage: deno task bench:compare --before <git rev> [--rounds N] [--only ingest|latency|delivery] [--quick]";

interface Options {
  readonly before: string;
  readonly rounds: number;
  readonly passThrough: string[];
}

function parseArgs(args: readonly string[]): Options {
  let before: string | undefined;
  let rounds = 3;
  const passThrough: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? args[++i];
    if (name === "--before") before = value();
    else if (name === "--rounds") rounds = Number(value());
    else if (name === "--only") passThrough.push("--only", value() ?? "");
    else if (name === "--quick") passThrough.push("--quick");
    else if (name === "--help") {
      console.log(USAGE);
      Deno.exit(0);
    } else {
      console.error(`bench:compare: unknown flag ${args[i]}; ${USAGE}`);
      Deno.exit(2);
    }
  }
  if (!before) {
    console.error(`bench:compare: --before is required; ${USAGE}`);
    Deno.exit(2);
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`bench:compare: --rounds must be a whole number ≥ 1, got ${rounds}`);
    Deno.exit(2);
  }
  return { before, rounds, passThrough };
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stderr: "inherit" }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** Runs one checkout's bench and returns its rows. */
async function bench(root: string, passThrough: string[]): Promise<Row[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "bench/run.ts", "--json", ...passThrough],
    cwd: root,
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`the bench in ${root} failed:\n${text.slice(-2000)}`);
  // The JSON document follows the table, starting on a line of its own.
  return JSON.parse(text.slice(text.indexOf("\n{") + 1)).rows as Row[];
}

const options = parseArgs(Deno.args);
const here = new URL("..", import.meta.url).pathname;
const rev = await git(here, "rev-parse", "--short", options.before);
const worktree = await Deno.makeTempDir({ prefix: "hookd-bench-before-" });
const snapshot = await Deno.makeTempDir({ prefix: "hookd-bench-after-" });
await git(here, "worktree", "add", "--detach", worktree, rev);
try {
  await snapshotTree(here, snapshot);
  // Both checkouts use the same pinned toolchain as this one.
  for (const checkout of [worktree, snapshot]) {
    await Deno.mkdir(`${checkout}/.toolchain`, { recursive: true });
    await Deno.symlink(`${here}.toolchain/node_modules`, `${checkout}/.toolchain/node_modules`)
      .catch(() => {});
  }
  const sides = { before: [] as Row[][], after: [] as Row[][] };
  for (let round = 1; round <= options.rounds; round++) {
    console.error(`bench:compare: round ${round}/${options.rounds}: before (${rev})`);
    sides.before.push(await bench(worktree, options.passThrough));
    console.error(`bench:compare: round ${round}/${options.rounds}: after (this tree)`);
    sides.after.push(await bench(snapshot, options.passThrough));
  }
  const figures = [...new Set(sides.after.flat().map((r) => r.figure))];
  console.log(`\nbench:compare: before = ${rev}, after = this tree, ${options.rounds} rounds\n`);
  for (const figure of figures) {
    const pick = (runs: Row[][]) =>
      runs.map((rows) => rows.find((r) => r.figure === figure)).filter((r) => r !== undefined);
    const before = pick(sides.before);
    const after = pick(sides.after);
    if (before.length === 0 || after.length === 0) continue;
    const unit = after[0]!.unit;
    const b = median(before.map((r) => r.value));
    const a = median(after.map((r) => r.value));
    const list = (rows: Row[]) => rows.map((r) => formatNumber(r.value, unit)).join(", ");
    let line = `${figure}\n  before ${formatNumber(b, unit)} (${list(before)})\n  after  ${
      formatNumber(a, unit)
    } (${list(after)})\n  after/before ${(a / b).toFixed(2)}`;
    if (after[0]!.reference && before[0]!.reference) {
      const ratio = (rows: Row[]) => median(rows.map((r) => r.value / r.reference!.value));
      line += `; against its reference: before ${ratio(before).toFixed(2)}x, after ${
        ratio(after).toFixed(2)
      }x`;
    }
    console.log(line);
  }
} finally {
  await git(here, "worktree", "remove", "--force", worktree).catch(() => {});
  await Deno.remove(snapshot, { recursive: true }).catch(() => {});
}
