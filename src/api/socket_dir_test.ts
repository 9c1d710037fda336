import assert from "node:assert/strict";
import { makeSocketDir, removeStaleSocketDirs } from "./socket_dir.ts";

Deno.test("socket directories of daemons no longer running are removed, others kept", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "hookd-socket-dirs-" });
  try {
    const make = async (name: string) => {
      await Deno.mkdir(`${tmp}/${name}`);
      await Deno.writeTextFile(`${tmp}/${name}/api.sock`, "");
    };
    await make("hookd-api-4000001-abc"); // dead
    await make("hookd-api-4000002-def"); // running
    await make(`hookd-api-${Deno.pid}-ghi`); // this process
    await make("hookd-api-xyz"); // an old unnamed one: not ours to judge
    await make("other-4000001-abc");
    const removed = await removeStaleSocketDirs(tmp, (pid) => pid === 4000002);
    assert.deepEqual(removed, [`${tmp}/hookd-api-4000001-abc`]);
    const left = [];
    for await (const entry of Deno.readDir(tmp)) left.push(entry.name);
    // Both sides sorted: where this process's directory falls depends on its pid.
    assert.deepEqual(
      left.sort(),
      [`hookd-api-${Deno.pid}-ghi`, "hookd-api-4000002-def", "hookd-api-xyz", "other-4000001-abc"]
        .sort(),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a socket directory is named after this process", async () => {
  const dir = await makeSocketDir();
  try {
    assert.match(dir, new RegExp(`/hookd-api-${Deno.pid}-[^/]+$`));
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
