/**
 * Summarizes the V8 `.cpuprofile` files `--cpu-prof` writes: self time by
 * area (hono, zod, hookd's files, Deno's runtime, GC, idle) and the inclusive
 * time of the hot path's main steps, so a missed target points at a cause.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Functions whose inclusive time is worth seeing on the ingest and delivery paths. */
const STEPS = [
  "#attempt",
  "#claim",
  "#flushClaims",
  "#send",
  "renderRequest",
  "signStandardWebhooks",
  "send",
  "decideNext",
  "#load",
  "#pump",
  "authenticate",
  "sha256Hex",
  "readJsonBody",
  "validate",
  "toNewEvent",
  "eventFingerprint",
  "canonicalJson",
  "write",
  "#call",
  "#commit",
  "json",
  "dispatch",
];

function area(url: string, name: string): string {
  if (name === "(idle)" || name === "(garbage collector)" || name === "(program)") return name;
  if (url.includes("/hono@") || url.includes("/hono/")) return "hono";
  if (url.includes("/zod@") || url.includes("/zod/")) return "zod";
  if (url.includes("libsql")) return "libsql";
  const src = /\/(src\/.+\.ts|main\.ts)$/.exec(url);
  if (src) return `hookd ${src[1]}`;
  if (url.startsWith("ext:")) return `deno ${url.slice(4).split("/")[0]}`;
  if (url === "") return "(native)";
  return url;
}

export function summarizeProfile(profile: Profile, top = 14): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + delta);
    total += delta;
  });
  const inclusive = new Map<number, number>();
  const visit = (id: number): number => {
    const node = byId.get(id)!;
    let sum = self.get(id) ?? 0;
    for (const child of node.children ?? []) sum += visit(child);
    inclusive.set(id, sum);
    return sum;
  };
  visit(profile.nodes[0]!.id);

  const areas = new Map<string, number>();
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame;
    const key = area(frame.url, frame.functionName);
    areas.set(key, (areas.get(key) ?? 0) + time);
  }
  const idle = areas.get("(idle)") ?? 0;
  const busy = total - idle;
  const pct = (time: number) => `${((100 * time) / busy).toFixed(1)}%`.padStart(6);
  const lines = [
    `  busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s sampled` +
    ` (percentages below are of busy time)`,
    "  self time by area:",
  ];
  for (
    const [key, time] of [...areas].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1])
      .slice(0, top)
  ) {
    lines.push(`    ${pct(time)}  ${key}`);
  }
  // Inclusive time per step: only the outermost frame of a name counts, so recursion is not doubled.
  const steps = new Map<string, number>();
  const walk = (id: number, open: ReadonlySet<string>) => {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    let next = open;
    if (
      STEPS.includes(name) && !open.has(name) && area(node.callFrame.url, name).startsWith("hookd")
    ) {
      steps.set(name, (steps.get(name) ?? 0) + (inclusive.get(id) ?? 0));
      next = new Set([...open, name]);
    }
    for (const child of node.children ?? []) walk(child, next);
  };
  walk(profile.nodes[0]!.id, new Set());
  lines.push("  inclusive time of hookd steps:");
  for (const [name, time] of [...steps].sort((a, b) => b[1] - a[1])) {
    lines.push(`    ${pct(time)}  ${name}`);
  }
  return lines.join("\n");
}

/** One summary per `.cpuprofile` in `dir`. */
export async function summarizeProfiles(dir: string): Promise<string> {
  const parts: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".cpuprofile")) continue;
    const profile = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)) as Profile;
    parts.push(`${entry.name}\n${summarizeProfile(profile)}`);
  }
  return parts.length > 0 ? parts.sort().join("\n") : "  (no .cpuprofile files were written)";
}

if (import.meta.main) {
  const dir = Deno.args[0];
  if (!dir) {
    console.error("usage: deno run -A bench/profile_summary.ts DIR");
    Deno.exit(2);
  }
  console.log(await summarizeProfiles(dir));
}
