/**
 * A store that cannot take writes (a full disk: a tiny tmpfs filled up) makes
 * ingest answer 503 and acknowledge nothing it did not store; once space is
 * back, the same daemon recovers without a restart. Needs root to mount the
 * tmpfs (as CI has); skipped, saying so, where mounting is not allowed.
 */
import assert from "node:assert/strict";
import { api, type RunningDaemon, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "fault-test-admin-key-0123456789";

async function tryMount(dir: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=8m", "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

async function fill(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    if (!(error instanceof Error) || !/No space|ENOSPC|os error 28/i.test(String(error))) {
      throw error;
    }
  } finally {
    file.close();
  }
}

const root = await Deno.makeTempDir({ prefix: "hookd-fault-" });
const mounted = await tryMount(root);
if (!mounted) {
  console.log("store fault test skipped: mounting a tmpfs is not allowed here");
  await Deno.remove(root, { recursive: true });
}

Deno.test({
  name: "a full disk: ingest answers 503, stores nothing, and recovers when space is back",
  ignore: !mounted,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "hookd-fault-cwd-" });
    let daemon: RunningDaemon | undefined;
    try {
      daemon = await startDaemon({
        dir: work,
        env: {
          HOOKD_SERVER_LISTEN: "127.0.0.1:0",
          HOOKD_STORE_URL: `file:${root}/hookd.db`,
          HOOKD_ADMIN_KEY: ADMIN_KEY,
          HOOKD_LOG_LEVEL: "error",
        },
      });
      const post = (id: string, size: number) =>
        api<{ error?: { code: string } }>(daemon!, "POST", "/api/v1/events", {
          key: ADMIN_KEY,
          body: { id, type: "fault.test", data: { pad: "x".repeat(size) } },
        });
      assert.equal((await post("before", 100)).status, 202);

      await fill(`${root}/filler`);
      const refused = await post("during", 200_000);
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.code, "store_unavailable");
      // Not acknowledged, and not stored either.
      await Deno.remove(`${root}/filler`);
      const missing = await api(daemon, "GET", "/api/v1/events/during", { key: ADMIN_KEY });
      assert.equal(missing.status, 404);

      // Space is back: the same process takes writes again.
      assert.equal((await post("after", 200_000)).status, 202);
      assert.equal((await api(daemon, "GET", "/readyz")).status, 200);
      const before = await api(daemon, "GET", "/api/v1/events/before", { key: ADMIN_KEY });
      assert.equal(before.status, 200);
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } catch (error) {
      if (error instanceof Error && daemon) error.message += daemon.output();
      throw error;
    } finally {
      await daemon?.kill();
      await new Deno.Command("umount", { args: [root] }).output();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(work, { recursive: true });
    }
  },
});
