/**
 * The private directory the API's Unix socket lives in while the front door
 * is in use (see serve_api.ts). Its name carries the daemon's pid, so a
 * daemon that was killed (SIGKILL, OOM) and could not remove its directory
 * has it removed by the next one that starts on the machine.
 *
 * @module
 */

const PREFIX = "hookd-api-";

/** Creates the directory (mode 0700, like every `makeTempDir`). */
export async function makeSocketDir(): Promise<string> {
  await removeStaleSocketDirs();
  return await Deno.makeTempDir({ prefix: `${PREFIX}${Deno.pid}-` });
}

/**
 * Removes socket directories of daemons that are no longer running, judged
 * by `/proc/<pid>`; where there is no `/proc` nothing is removed. Returns the
 * paths removed. Never throws: this is tidying, not a reason to fail a start.
 */
export async function removeStaleSocketDirs(
  tempDir = tempDirectory(),
  isRunning: (pid: number) => boolean = processIsRunning,
): Promise<string[]> {
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(tempDir)) {
      const pid = entry.isDirectory ? pidOf(entry.name) : undefined;
      if (pid === undefined || pid === Deno.pid || isRunning(pid)) continue;
      const path = `${tempDir}/${entry.name}`;
      try {
        await Deno.remove(path, { recursive: true });
        removed.push(path);
      } catch { /* another user's, or gone already */ }
    }
  } catch { /* no temp dir to read */ }
  return removed;
}

/** The pid in a socket directory's name (`hookd-api-<pid>-<random>`), if it is one. */
function pidOf(name: string): number | undefined {
  const match = /^hookd-api-(\d{1,10})-[^/]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function tempDirectory(): string {
  try {
    return Deno.env.get("TMPDIR") || "/tmp";
  } catch {
    return "/tmp";
  }
}

/** Whether a process with `pid` exists; true when that cannot be told (no /proc). */
function processIsRunning(pid: number): boolean {
  try {
    Deno.statSync("/proc/self");
  } catch {
    return true;
  }
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
