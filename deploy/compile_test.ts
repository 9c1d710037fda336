import assert from "node:assert/strict";
import { compileArgs } from "./compile.ts";

// `deno compile` itself needs the internet (it downloads `denort`), so it is
// not run here; what is checked is the command it would run.
Deno.test("compile names the binary for its platform and embeds the store worker", () => {
  const args = compileArgs("aarch64-unknown-linux-gnu");
  assert.equal(args[0], "compile");
  assert.equal(args.at(-1), "main.ts");
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(value("--target"), "aarch64-unknown-linux-gnu");
  assert.equal(value("--output"), "dist/hookd-aarch64-unknown-linux-gnu");
  assert.equal(value("--include"), "src/store/worker.ts");
  assert.ok(args.includes("--frozen-lockfile"), args.join(" "));
});

Deno.test("the store worker that compile embeds is the file the store starts", async () => {
  const client = await Deno.readTextFile(new URL("../src/store/client.ts", import.meta.url));
  assert.match(client, /new Worker\(new URL\("\.\/worker\.ts", import\.meta\.url\)/);
  const include = compileArgs("x86_64-unknown-linux-gnu").find((a) => a.endsWith("worker.ts"))!;
  await Deno.stat(new URL(`../${include}`, import.meta.url));
});
