import assert from "node:assert/strict";
import { snapshotTree } from "./snapshot.ts";

async function git(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

Deno.test("snapshotTree copies the working tree as it is: changes and new files, not ignored or deleted ones", async () => {
  const repo = await Deno.makeTempDir({ prefix: "hookd-snapshot-repo-" });
  const into = await Deno.makeTempDir({ prefix: "hookd-snapshot-copy-" });
  try {
    await git(repo, "init", "-q");
    await Deno.writeTextFile(`${repo}/.gitignore`, "*.log\n");
    await Deno.writeTextFile(`${repo}/changed.ts`, "committed");
    await Deno.writeTextFile(`${repo}/deleted.ts`, "committed");
    await git(repo, "add", ".");
    await git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first");
    await Deno.writeTextFile(`${repo}/changed.ts`, "edited, not committed");
    await Deno.remove(`${repo}/deleted.ts`);
    await Deno.mkdir(`${repo}/src/deep`, { recursive: true });
    await Deno.writeTextFile(`${repo}/src/deep/new.ts`, "untracked");
    await Deno.writeTextFile(`${repo}/debug.log`, "ignored");

    assert.equal(await snapshotTree(`${repo}/`, into), 3);
    assert.equal(await Deno.readTextFile(`${into}/changed.ts`), "edited, not committed");
    assert.equal(await Deno.readTextFile(`${into}/src/deep/new.ts`), "untracked");
    assert.equal(await Deno.readTextFile(`${into}/.gitignore`), "*.log\n");
    for (const absent of ["deleted.ts", "debug.log", ".git"]) {
      await assert.rejects(Deno.lstat(`${into}/${absent}`), Deno.errors.NotFound, absent);
    }
  } finally {
    await Deno.remove(repo, { recursive: true });
    await Deno.remove(into, { recursive: true });
  }
});
