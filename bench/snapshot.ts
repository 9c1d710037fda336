/**
 * A copy of a git working tree as it is now, at a path of its own: tracked
 * files with their uncommitted changes, and untracked files git does not
 * ignore. `bench:compare` runs "after" from such a copy, as it runs
 * "before" from a fresh worktree, because where a daemon starts from shows
 * in its RSS: `deno run` maps its own dependency-analysis cache, and from a
 * checkout edited for days that mapped 2.4 MB more (2.5 MB against 0.1 MB,
 * file-backed) than from a fresh path holding the very same code.
 */
export async function snapshotTree(root: string, into: string): Promise<number> {
  const from = root.replace(/\/+$/, "");
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: from,
    stderr: "inherit",
  }).output();
  if (!listed.success) throw new Error(`git ls-files failed in ${from}`);
  const files = new TextDecoder().decode(listed.stdout).split("\0").filter((f) => f !== "");
  let copied = 0;
  for (const file of files) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(`${from}/${file}`);
    } catch (error) {
      // Deleted in the tree but still in the index: the tree is what runs.
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (!info.isFile) continue;
    const target = `${into}/${file}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${from}/${file}`, target);
    copied++;
  }
  return copied;
}
