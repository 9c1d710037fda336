/**
 * A store that cannot take writes (a full disk: a tiny tmpfs filled up; a
 * read-only database: writes refused through the daemon's open descriptors)
 * makes ingest answer 503 and acknowledge nothing it did not store; once the
 * fault clears, the same daemon recovers without a restart. Needs root to
 * mount file systems (as CI has); each test is skipped, saying so, where its
 * fault cannot be made.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client/node";
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

Deno.test({
  name: "a full disk: ingest answers 503, stores nothing, and recovers when space is back",
  fn: async () => {
    // Mounted here, not when the file loads, so a run that filters this test
    // out leaves no tmpfs behind.
    const root = await Deno.makeTempDir({ prefix: "hookd-fault-" });
    if (!(await tryMount(root))) {
      console.log("full-disk fault test skipped: mounting a tmpfs is not allowed here");
      await Deno.remove(root, { recursive: true });
      return;
    }
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
      // Not ready while writes fail, and it says why.
      const unready = await api<{ reason?: string }>(daemon, "GET", "/readyz");
      assert.equal(unready.status, 503);
      assert.match(unready.body.reason ?? "", /does not take writes: .*SQLITE_FULL/);
      // Not acknowledged, and not stored either.
      await Deno.remove(`${root}/filler`);
      const missing = await api(daemon, "GET", "/api/v1/events/during", { key: ADMIN_KEY });
      assert.equal(missing.status, 404);

      // Space is back: ready again on its own (readiness commits a probe),
      // and the same process takes writes again.
      assert.equal((await api(daemon, "GET", "/readyz")).status, 200);
      assert.equal((await post("after", 200_000)).status, 202);
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

// ---------------------------------------------------------------------------
// A read-only store. The daemon keeps its database open, so the fault has to
// reach writes through descriptors it already holds. Remounting read-only is
// refused while a file is open for writing (EBUSY, for the file system and a
// bind mount alike); a read-only bind mount elsewhere leaves the daemon's own
// descriptors writable; RLIMIT_FSIZE (prlimit) kills the daemon with SIGXFSZ;
// ext4's errors=remount-ro makes writes fail but stays read-only until
// unmounted. What works and clears: the immutable attribute on ext4, which
// ext4 checks on every write (EPERM), open descriptor or not, and `chattr -i`
// lifts. tmpfs accepts the attribute but does not check it on open files, so
// this needs an ext4 image on a loop device.

async function run(command: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const result = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const decoder = new TextDecoder();
    return {
      ok: result.success,
      output: `${decoder.decode(result.stdout)}${decoder.decode(result.stderr)}`.trim(),
    };
  } catch (error) {
    return { ok: false, output: String(error) };
  }
}

/**
 * Mounts a fresh ext4 image at a new directory and checks that `chattr +i`
 * refuses a write through a descriptor opened before it. Returns the mount
 * point, or why the fault cannot be made here.
 */
async function mountImmutableCapableStore(): Promise<
  { mountPoint: string; image: string } | { skip: string }
> {
  const image = await Deno.makeTempFile({ prefix: "hookd-ro-", suffix: ".img" });
  const mountPoint = await Deno.makeTempDir({ prefix: "hookd-ro-" });
  const giveUp = async (skip: string) => {
    await run("umount", [mountPoint]);
    await Deno.remove(mountPoint, { recursive: true }).catch(() => {});
    await Deno.remove(image).catch(() => {});
    return { skip };
  };
  await Deno.truncate(image, 32 * 1024 * 1024);
  const mkfs = await run("mkfs.ext4", ["-q", "-F", image]);
  if (!mkfs.ok) return await giveUp(`mkfs.ext4 failed: ${mkfs.output}`);
  const mount = await run("mount", ["-o", "loop", image, mountPoint]);
  if (!mount.ok) return await giveUp(`mounting an ext4 image on a loop device: ${mount.output}`);
  const probe = `${mountPoint}/probe`;
  const file = await Deno.open(probe, { write: true, create: true });
  const chattr = await run("chattr", ["+i", probe]);
  const refused = chattr.ok && await file.write(new Uint8Array(1)).then(() => false, () => true);
  if (chattr.ok) await run("chattr", ["-i", probe]);
  file.close();
  if (!chattr.ok) return await giveUp(`chattr +i failed: ${chattr.output}`);
  if (!refused) return await giveUp("chattr +i does not stop writes through open descriptors");
  await Deno.remove(probe);
  return { mountPoint, image };
}

const readOnlyStore = await mountImmutableCapableStore();
if ("skip" in readOnlyStore) {
  console.log(`read-only store test skipped: ${readOnlyStore.skip}`);
}

let readOnlyStoreReleased = false;
/** Unmounts and deletes the image; idempotent, and also run at unload for a filtered-out test. */
function releaseReadOnlyStore(): void {
  if ("skip" in readOnlyStore || readOnlyStoreReleased) return;
  readOnlyStoreReleased = true;
  const { mountPoint, image } = readOnlyStore;
  // Lazily: libSQL lets go of a reader's file only when the reader is collected.
  new Deno.Command("umount", { args: ["--lazy", mountPoint], stderr: "null" }).outputSync();
  Deno.removeSync(mountPoint, { recursive: true });
  Deno.removeSync(image);
}
globalThis.addEventListener("unload", releaseReadOnlyStore);

Deno.test({
  name: "a read-only store: ingest answers 503, reads go on, and ingest resumes when it clears",
  ignore: "skip" in readOnlyStore,
  fn: async () => {
    if ("skip" in readOnlyStore) return;
    const { mountPoint } = readOnlyStore;
    const database = `${mountPoint}/hookd.db`;
    // The WAL first: every commit writes it before it could checkpoint into the database.
    const storeFiles = [`${database}-wal`, database];
    const work = await Deno.makeTempDir({ prefix: "hookd-fault-cwd-" });
    let daemon: RunningDaemon | undefined;
    try {
      daemon = await startDaemon({
        dir: work,
        env: {
          HOOKD_SERVER_LISTEN: "127.0.0.1:0",
          HOOKD_STORE_URL: `file:${database}`,
          HOOKD_ADMIN_KEY: ADMIN_KEY,
          HOOKD_LOG_LEVEL: "error",
        },
      });
      const running = daemon;
      /** Every ingest answer by event id, and the statuses in the order they came. */
      const answers = new Map<string, number>();
      const inOrder: number[] = [];
      const post = async (id: string) => {
        const answer = await api<{ error?: { code: string; message: string } }>(
          running,
          "POST",
          "/api/v1/events",
          { key: ADMIN_KEY, body: { id, type: "fault.readonly", data: { id } } },
        );
        answers.set(id, answer.status);
        inOrder.push(answer.status);
        return answer;
      };
      for (let i = 0; i < 5; i++) assert.equal((await post(`before-${i}`)).status, 202);

      // Producers keep ingesting while the store turns read-only and back, so
      // acknowledgements straddle both edges of the fault. Readers read alongside:
      // a read during a write opens a connection of its own, and SQLite opens one
      // read-only for good while the file is unwritable; writes must never land on it.
      const failures: string[] = [];
      let producing = true;
      let reading = false;
      let sent = 0;
      const readStatuses: number[] = [];
      const loop = (body: () => Promise<void>, more: () => boolean) =>
        (async () => {
          try {
            while (more()) await body();
          } catch (error) {
            failures.push(String(error));
            producing = reading = false;
          }
        })();
      const producers = Array.from(
        { length: 4 },
        (_, producer) => loop(() => post(`p${producer}-${sent++}`).then(() => {}), () => producing),
      );
      const waitFor = async (what: string, done: () => boolean) => {
        const deadline = Date.now() + 10_000;
        while (!done()) {
          if (failures.length > 0) throw new Error(`A client failed: ${failures.join("; ")}`);
          if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };

      const chattrOn = await run("chattr", ["+i", ...storeFiles]);
      assert.ok(chattrOn.ok, chattrOn.output);
      const faultStart = inOrder.length;
      await waitFor("a 503 from the read-only store", () => inOrder.includes(503, faultStart));
      reading = true;
      const readers = Array.from({ length: 8 }, (_, reader) =>
        loop(async () => {
          const path = reader % 2 === 0
            ? `/api/v1/events/before-${reader % 5}`
            : "/api/v1/webhooks";
          readStatuses.push((await api(running, "GET", path, { key: ADMIN_KEY })).status);
        }, () => reading));

      const refused = await post("during");
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.code, "store_unavailable");
      assert.match(refused.body.error?.message ?? "", /nothing was stored/);
      // The answer stays generic; the log names what is wrong with the store
      // (on stdout, buffered: it arrives within the flush delay).
      await waitFor(
        "the store-unavailable log line",
        () => /"msg":"store unavailable".*SQLITE_(IOERR|READONLY|PERM)/.test(running.stdout()),
      );
      await waitFor("reads during the fault", () => readStatuses.length >= 200);
      reading = false;
      await Promise.all(readers);
      assert.deepEqual([...new Set(readStatuses)], [200], "a read failed during the fault");
      assert.equal((await api(running, "GET", "/healthz")).status, 200);
      const unready = await api<{ reason?: string }>(running, "GET", "/readyz");
      assert.equal(unready.status, 503, "not ready while the store refuses writes");
      assert.match(unready.body.reason ?? "", /does not take writes/);

      const chattrOff = await run("chattr", ["-i", ...storeFiles]);
      assert.ok(chattrOff.ok, chattrOff.output);
      const clearedAt = inOrder.length;
      await waitFor(
        "ingest to resume",
        () => inOrder.slice(clearedAt).filter((status) => status === 202).length >= 20,
      );
      // At once: only writes already on their way when the fault cleared may still fail.
      const refusedAfterClearing = inOrder.indexOf(202, clearedAt) - clearedAt;
      assert.ok(
        refusedAfterClearing <= 8,
        `${refusedAfterClearing} refusals after the fault cleared`,
      );
      producing = false;
      await Promise.all(producers);
      assert.equal((await post("after")).status, 202);

      // Every answer was a 202 or a 503: never a 500, never a dropped connection.
      assert.deepEqual([...new Set(inOrder)].sort(), [202, 503]);
      const acknowledged = [...answers].filter(([, status]) => status === 202).map(([id]) => id);
      const refusedCount = inOrder.filter((status) => status === 503).length;
      assert.equal((await api(running, "GET", "/readyz")).status, 200);
      assert.equal(await running.stop("SIGTERM"), 0);

      // Exactly what was acknowledged is stored: nothing lost, nothing refused kept.
      const reader = createClient({ url: `file:${database}` });
      try {
        const integrity = await reader.execute("PRAGMA integrity_check");
        assert.equal(integrity.rows[0]?.integrity_check, "ok");
        const stored = (await reader.execute("SELECT id FROM events")).rows.map((row) =>
          String(row.id)
        );
        assert.deepEqual(stored.sort(), acknowledged.sort());
        console.log(
          `read-only store: ${acknowledged.length} events acknowledged and stored, ` +
            `${refusedCount} refused with 503 and not stored, ${readStatuses.length} reads ` +
            "answered during the fault",
        );
      } finally {
        reader.close();
      }
    } catch (error) {
      if (error instanceof Error && daemon) error.message += daemon.output();
      throw error;
    } finally {
      await daemon?.kill();
      await run("chattr", ["-i", ...storeFiles]);
      releaseReadOnlyStore();
      await Deno.remove(work, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------
// A file-size limit (RLIMIT_FSIZE, e.g. systemd's LimitFSIZE=) lowered on the
// running daemon with prlimit: every write past the limit fails (EFBIG). The
// kernel also sends SIGXFSZ, which would kill an unprepared process. Only the
// soft limit is lowered, so it can be raised again without CAP_SYS_RESOURCE.

const prlimit = await run("prlimit", ["--version"]);

Deno.test({
  name: "a file-size limit: the daemon survives SIGXFSZ, answers 503 and recovers",
  ignore: !prlimit.ok,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "hookd-fsize-" });
    let daemon: RunningDaemon | undefined;
    try {
      daemon = await startDaemon({
        dir: work,
        env: {
          HOOKD_SERVER_LISTEN: "127.0.0.1:0",
          HOOKD_STORE_URL: `file:${work}/hookd.db`,
          HOOKD_ADMIN_KEY: ADMIN_KEY,
          HOOKD_LOG_LEVEL: "error",
        },
      });
      const post = (id: string) =>
        api<{ error?: { code: string } }>(daemon!, "POST", "/api/v1/events", {
          key: ADMIN_KEY,
          body: { id, type: "fault.test", data: { pad: "x".repeat(300_000) } },
        });
      assert.equal((await post("before")).status, 202);

      const pid = String(daemon.process.pid);
      const limited = await run("prlimit", ["--pid", pid, "--fsize=4096:"]);
      if (!limited.ok) {
        console.log(`file-size fault skipped: prlimit cannot limit the daemon (${limited.output})`);
        assert.equal(await daemon.stop("SIGTERM"), 0);
        return;
      }
      const refused = await post("during");
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.code, "store_unavailable");
      assert.equal((await api(daemon, "GET", "/healthz")).status, 200, "still alive");

      const lifted = await run("prlimit", ["--pid", pid, "--fsize=unlimited:"]);
      assert.ok(lifted.ok, lifted.output);
      assert.equal((await post("after")).status, 202);
      const expected: [string, number][] = [["before", 200], ["during", 404], ["after", 200]];
      for (const [id, status] of expected) {
        const got: { status: number } = await api(daemon, "GET", `/api/v1/events/${id}`, {
          key: ADMIN_KEY,
        });
        assert.equal(got.status, status, id);
      }
      assert.equal(await daemon.stop("SIGTERM"), 0);
      const db = createClient({ url: `file:${work}/hookd.db` });
      try {
        const check = await db.execute("PRAGMA integrity_check");
        assert.equal(check.rows[0]?.[0], "ok");
      } finally {
        db.close();
      }
    } catch (error) {
      if (error instanceof Error && daemon) error.message += daemon.output();
      throw error;
    } finally {
      await daemon?.kill();
      await Deno.remove(work, { recursive: true });
    }
  },
});
