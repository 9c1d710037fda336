import assert from "node:assert/strict";
import { compileArgs } from "./compile.ts";

// `deno compile` itself needs the internet (it downloads `denort`), so it is
// not run here; what is checked is the command it would run.
Deno.test("compile names the binary for its platform and embeds the store worker and the UI", () => {
  const args = compileArgs("aarch64-unknown-linux-gnu");
  assert.equal(args[0], "compile");
  assert.equal(args.at(-1), "main.ts");
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(value("--target"), "aarch64-unknown-linux-gnu");
  assert.equal(value("--output"), "dist/hookd-aarch64-unknown-linux-gnu");
  const included = args.flatMap((a, i) => (args[i - 1] === "--include" ? [a] : []));
  assert.deepEqual(included, ["src/store/worker.ts", "ui"]);
  assert.ok(args.includes("--frozen-lockfile"), args.join(" "));
});

Deno.test("the store worker that compile embeds is the file the store starts", async () => {
  const client = await Deno.readTextFile(new URL("../src/store/client.ts", import.meta.url));
  assert.match(client, /new Worker\(new URL\("\.\/worker\.ts", import\.meta\.url\)/);
  const include = compileArgs("x86_64-unknown-linux-gnu").find((a) => a.endsWith("worker.ts"))!;
  await Deno.stat(new URL(`../${include}`, import.meta.url));
});

Deno.test("the UI folder that compile embeds is the one the daemon serves", async () => {
  const ui = await Deno.readTextFile(new URL("../src/api/ui.ts", import.meta.url));
  assert.match(ui, /new URL\("\.\.\/\.\.\/ui\/", import\.meta\.url\)/);
  const args = compileArgs("x86_64-unknown-linux-gnu");
  const folder = args[args.lastIndexOf("--include") + 1];
  assert.equal((await Deno.stat(new URL(`../${folder}/index.html`, import.meta.url))).isFile, true);
});
