/**
 * Puts a fixture database on disk before a measurement. Fixtures are built
 * with `synchronous=OFF`, so their pages sit dirty in the page cache; left
 * so, the daemon's first WAL checkpoint would fsync the whole file (about a
 * second for the purge bench's 940 MB) and charge that to whatever it
 * measures. A database hookd has been running on was synced commit by
 * commit, so the bench starts from the same state.
 */
export async function syncFile(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    await file.sync();
  } finally {
    file.close();
  }
}
