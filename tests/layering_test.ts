/**
 * Layering: nothing in a lower layer imports an upper one. Reads every
 * import of `main.ts` and `src/**\/*.ts` with Deno's own parser (static
 * `import` and `export … from`, `import type`, dynamic `import()`, and
 * `new URL("…", import.meta.url)` worker entry points), maps both ends to
 * their layer, and fails naming `from → to` for each import that goes up or
 * sideways.
 *
 * The layers, top to bottom (DESIGN.md, "Where each concept lives"):
 *
 * - `main.ts`, `src/daemon.ts`: the CLI and the wiring; they know every part.
 * - `src/api/` and `src/cli/`: siblings. The HTTP edge; and the operator
 *   commands, which reach a daemon only over HTTP (never its store or api
 *   code) and take defaults from config.
 * - `src/ingest/` and `src/delivery/`: siblings, neither imports the other;
 *   the daemon hands ingest's claims to delivery.
 * - `src/scheduler/`: the timer wheel and the windowed loader over the store.
 * - `src/store/`: client, writer worker, schema.
 * - `src/fanout/`: pure subscription rules. Fan-out runs inside the store's
 *   transaction, so the worker must reach them without importing upward:
 *   they sit below the store and are their one home.
 * - `src/config/`: the frozen `Config` the store, delivery and api read.
 * - `src/ops/`: logs and metrics. Config and ops import neither each other
 *   nor anything above; ops goes below config so that config may log.
 * - `src/net/`: HTTP/1.1 client and head reader, IP parsing and ranges, the
 *   SSRF guard. Below config, which parses `allow_cidrs` with `net/ip.ts`;
 *   below ops because it returns its errors instead of logging them.
 * - `src/clock.ts`, `src/ids.ts`, `src/version.ts`: root utilities with no
 *   imports of their own.
 *
 * `src/testing/` is test-only: harnesses, `FakeClock`, the seeded RNG. Only
 * test files (`*_test.ts`) and other `src/testing/` files may import it (and
 * `tests/`, `bench/`, which are not checked here); a testing file may import
 * anything. A test file may import its own layer and the ones below, plus
 * `src/testing/` and the black-box helpers in `tests/`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A unit of the layering: files that may import each other freely. */
interface Unit {
  readonly name: string;
  /** Repository paths: a folder ends with `/`, anything else is one file. */
  readonly paths: readonly string[];
}

/** Ranks, top first; units on the same rank are siblings and may not import each other. */
const LAYERS: readonly (readonly Unit[])[] = [
  [{ name: "entry", paths: ["main.ts", "src/daemon.ts"] }],
  [{ name: "api", paths: ["src/api/"] }, { name: "cli", paths: ["src/cli/"] }],
  [{ name: "ingest", paths: ["src/ingest/"] }, { name: "delivery", paths: ["src/delivery/"] }],
  [{ name: "scheduler", paths: ["src/scheduler/"] }],
  [{ name: "store", paths: ["src/store/"] }],
  [{ name: "fanout", paths: ["src/fanout/"] }],
  [{ name: "config", paths: ["src/config/"] }],
  [{ name: "ops", paths: ["src/ops/"] }],
  [{ name: "net", paths: ["src/net/"] }],
  [{ name: "root", paths: ["src/clock.ts", "src/ids.ts", "src/version.ts"] }],
];

/** Test-only code: importable from test files and from each other, never from production. */
const TEST_ONLY = ["src/testing/", "tests/"];

/** One import: repository paths of both ends, and how it was written. */
interface Import {
  readonly from: string;
  readonly to: string;
  readonly how: "import" | "import type" | "export from" | "import()" | "new URL";
}

type Place =
  | { readonly kind: "layer"; readonly rank: number; readonly unit: string }
  | { readonly kind: "test-only" }
  | { readonly kind: "external" }
  | { readonly kind: "unknown" };

function placeOf(path: string): Place {
  if (TEST_ONLY.some((prefix) => path.startsWith(prefix))) return { kind: "test-only" };
  for (const [rank, units] of LAYERS.entries()) {
    for (const unit of units) {
      // A file's own test (`clock_test.ts` beside `clock.ts`) is in its layer.
      const inside = unit.paths.some((p) =>
        p.endsWith("/") ? path.startsWith(p) : path === p || path === p.replace(/\.ts$/, "_test.ts")
      );
      if (inside) return { kind: "layer", rank, unit: unit.name };
    }
  }
  return path.startsWith("src/") || path === "main.ts" ? { kind: "unknown" } : { kind: "external" };
}

const isTestFile = (path: string) => path.endsWith("_test.ts");

/** Every import that breaks the layering, as `from → to (why)`. */
function violations(imports: readonly Import[]): string[] {
  const found: string[] = [];
  for (const { from, to, how } of imports) {
    const source = placeOf(from);
    const target = placeOf(to);
    const edge = `${from} → ${to}`;
    if (source.kind === "unknown") {
      found.push(`${from} (${how} ${to}): ${from} is in no layer; add it to LAYERS`);
      continue;
    }
    if (source.kind === "test-only" || source.kind === "external") continue;
    if (target.kind === "unknown") {
      found.push(`${edge}: ${to} is in no layer; add it to LAYERS`);
    } else if (target.kind === "external") {
      found.push(`${edge}: src/ imports a file outside src/`);
    } else if (target.kind === "test-only") {
      if (!isTestFile(from)) found.push(`${edge}: production code imports test-only code`);
    } else if (target.unit === source.unit) {
      continue;
    } else if (target.rank === source.rank) {
      found.push(`${edge}: ${source.unit} and ${target.unit} are siblings`);
    } else if (target.rank < source.rank) {
      found.push(`${edge}: ${source.unit} imports ${target.unit}, which is above it`);
    }
  }
  return found;
}

/**
 * The imports of one file, found by Deno's parser (comments and strings that
 * look like imports are not imports). A dynamic import or worker URL must be
 * a string literal or a `const` bound to one; anything else cannot be checked
 * and is reported as such.
 */
function importsOf(path: string, source: string): { imports: Import[]; unreadable: string[] } {
  const imports: Import[] = [];
  const unreadable: string[] = [];
  /** `const NAME = "literal"` anywhere in the file. */
  const constants = new Map<string, string>();
  const computed: { name: string; how: Import["how"] }[] = [];
  const add = (specifier: unknown, how: Import["how"]) => {
    if (typeof specifier !== "string") {
      unreadable.push(`${path}: ${how} of something other than a string literal`);
    } else if (specifier.startsWith("./") || specifier.startsWith("../")) {
      const to = relative(ROOT, resolve(ROOT, path, "..", specifier));
      imports.push({ from: path, to, how });
    }
    // Bare, npm: and node: specifiers are packages, not layers.
  };
  const plugin: Deno.lint.Plugin = {
    name: "layering",
    rules: {
      imports: {
        create() {
          return {
            ImportDeclaration(node) {
              add(node.source.value, node.importKind === "type" ? "import type" : "import");
            },
            ExportNamedDeclaration(node) {
              if (node.source) add(node.source.value, "export from");
            },
            ExportAllDeclaration(node) {
              add(node.source.value, "export from");
            },
            VariableDeclaration(node) {
              if (node.kind !== "const") return;
              for (const d of node.declarations) {
                if (d.id.type === "Identifier" && d.init?.type === "Literal") {
                  if (typeof d.init.value === "string") constants.set(d.id.name, d.init.value);
                }
              }
            },
            ImportExpression(node) {
              if (node.source.type === "Identifier") {
                computed.push({ name: node.source.name, how: "import()" });
              } else {
                add(node.source.type === "Literal" ? node.source.value : undefined, "import()");
              }
            },
            NewExpression(node) {
              const [first, second] = node.arguments;
              const isModuleUrl = node.callee.type === "Identifier" && node.callee.name === "URL" &&
                second?.type === "MemberExpression" && second.object.type === "MetaProperty" &&
                second.property.type === "Identifier" && second.property.name === "url";
              if (!isModuleUrl) return;
              const target = first?.type === "Literal" ? first.value : undefined;
              // Data files next to the code (default.toml, the UI's assets) are not imports.
              if (typeof target === "string" && !/\.[jt]s$/.test(target)) return;
              add(target, "new URL");
            },
          };
        },
      },
    },
  };
  Deno.lint.runPlugin(plugin, path, source);
  for (const { name, how } of computed) add(constants.get(name), how);
  return { imports, unreadable };
}

async function sourceFiles(): Promise<string[]> {
  const files = ["main.ts"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && path.endsWith(".ts")) files.push(path);
    }
  };
  await walk("src");
  return files.sort();
}

Deno.test("no file in src/ imports a layer above its own, a sibling, or test-only code", async () => {
  const all: Import[] = [];
  const unreadable: string[] = [];
  for (const path of await sourceFiles()) {
    const found = importsOf(path, await Deno.readTextFile(`${ROOT}/${path}`));
    all.push(...found.imports);
    unreadable.push(...found.unreadable);
  }
  assert.ok(all.length > 500, `only ${all.length} imports found: is the reader broken?`);
  assert.ok(all.some((i) => i.how === "new URL"), "the store's worker entry point was not found");
  assert.deepEqual(unreadable, [], "imports the layering cannot follow");
  const found = violations(all);
  assert.deepEqual(found, [], `imports against the layering:\n  ${found.join("\n  ")}`);
});

Deno.test("the checker reports an upward, a sibling and a test-only import, and reads every import form", () => {
  const source = `
// import { x } from "../api/commented.ts";
import { a } from "../store/client.ts";
import type { B } from "../api/deps.ts";
export { c } from "../ingest/intake.ts";
export * from "./same.ts";
const text = "import { e } from '../api/in_a_string.ts'";
const worker = new URL("../daemon.ts", import.meta.url);
const data = new URL("./default.toml", import.meta.url);
const later = await import("../testing/fake_clock.ts");
import { z } from "zod";
const NAMED = "../scheduler/loader.ts";
const named = await import(NAMED);
`;
  const { imports, unreadable } = importsOf("src/delivery/sample.ts", source);
  assert.deepEqual(unreadable, []);
  assert.deepEqual(imports.map((i) => `${i.how} ${i.to}`), [
    "import src/store/client.ts",
    "import type src/api/deps.ts",
    "export from src/ingest/intake.ts",
    "export from src/delivery/same.ts",
    "new URL src/daemon.ts",
    "import() src/testing/fake_clock.ts",
    "import() src/scheduler/loader.ts",
  ]);
  assert.deepEqual(violations(imports), [
    "src/delivery/sample.ts → src/api/deps.ts: delivery imports api, which is above it",
    "src/delivery/sample.ts → src/ingest/intake.ts: delivery and ingest are siblings",
    "src/delivery/sample.ts → src/daemon.ts: delivery imports entry, which is above it",
    "src/delivery/sample.ts → src/testing/fake_clock.ts: production code imports test-only code",
  ]);
  // The same imports from a test file: test-only code is allowed, going up is not.
  const fromTest = imports.map((i) => ({ ...i, from: "src/delivery/sample_test.ts" }));
  assert.deepEqual(violations(fromTest).map((v) => v.split(": ")[1]), [
    "delivery imports api, which is above it",
    "delivery and ingest are siblings",
    "delivery imports entry, which is above it",
  ]);
  // A file outside every layer is reported, and so is a non-literal dynamic import.
  assert.match(
    violations([{ from: "src/new_area/x.ts", to: "src/clock.ts", how: "import" }])[0]!,
    /src\/new_area\/x\.ts is in no layer/,
  );
  const dynamic = importsOf("src/api/x.ts", "const m = await import(`./${name}.ts`);");
  assert.equal(dynamic.unreadable.length, 1);
});
