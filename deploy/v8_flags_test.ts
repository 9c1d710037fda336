import assert from "node:assert/strict";
import { compileArgs } from "./compile.ts";
import { V8_FLAGS, V8_FLAGS_ARG } from "./v8_flags.ts";

Deno.test("deno task start, the compiled binary and the bench run hookd with the same V8 flags", async () => {
  const root = new URL("../", import.meta.url);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  const start = (tasks.start as string).split(" ");
  assert.ok(start.includes(V8_FLAGS_ARG), `deno task start: ${tasks.start}`);
  // Before the script: after it they would be the script's arguments.
  assert.ok(start.indexOf(V8_FLAGS_ARG) < start.indexOf("main.ts"), tasks.start);
  const compile = compileArgs("x86_64-unknown-linux-gnu");
  assert.ok(compile.indexOf(V8_FLAGS_ARG) > 0, compile.join(" "));
  assert.ok(compile.indexOf(V8_FLAGS_ARG) < compile.indexOf("main.ts"), compile.join(" "));
  const bench = await Deno.readTextFile(new URL("bench/hookd.ts", root));
  assert.match(bench, /"run", "-A", V8_FLAGS_ARG,/);
});

Deno.test("the V8 flags are ones this Deno accepts", async () => {
  // Deno refuses to start on a flag V8 does not know ("V8 did not recognize flag").
  assert.ok(V8_FLAGS.length > 0);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", V8_FLAGS_ARG, "console.log('started')"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, out);
  assert.match(out, /started/);
});
