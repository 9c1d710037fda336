import assert from "node:assert/strict";
import { statementChunks } from "./executor.ts";
import { FileWriter, localFilePath, SqliteFileError } from "./file_writer.ts";
import { probeRowCursors } from "../testing/cursor_probe.ts";

async function withWriter(fn: (writer: FileWriter) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-file-writer-" });
  const writer = new FileWriter(`${dir}/t.db`);
  try {
    await writer.execute(
      "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT, blob BLOB)",
    );
    await fn(writer);
  } finally {
    writer.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("localFilePath: plain files only, with the path the client would open", () => {
  assert.equal(localFilePath("file:data/hookd.db"), "data/hookd.db");
  assert.equal(localFilePath("file:/var/lib/hookd/hookd.db"), "/var/lib/hookd/hookd.db");
  assert.equal(localFilePath("file:///var/lib/hookd/hookd.db"), "/var/lib/hookd/hookd.db");
  assert.equal(localFilePath("file::memory:"), undefined);
  assert.equal(localFilePath("libsql://db.example.turso.io"), undefined);
  assert.equal(localFilePath("http://127.0.0.1:8080"), undefined);
});

Deno.test("statements are prepared once and reused", async () => {
  await withWriter(async (writer) => {
    const before = writer.cachedStatements;
    for (let i = 0; i < 50; i++) {
      await writer.execute({ sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: [`id${i}`, i] });
      await writer.execute({ sql: "SELECT n FROM t WHERE id = ?", args: [`id${i}`] });
    }
    assert.equal(writer.cachedStatements, before + 2);
  });
});

Deno.test("results read like the client's: rows by column name, integers as numbers", async () => {
  await withWriter(async (writer) => {
    const inserted = await writer.execute({
      sql:
        "INSERT INTO t (id, n, note, blob) VALUES (:id, $n, @note, :blob), ('b', :yes, NULL, NULL)",
      args: {
        ":id": "a",
        "$n": 1_700_000_000_000,
        "@note": "ü",
        "blob": new Uint8Array([1, 2]),
        "yes": true,
      },
    });
    assert.equal(inserted.rowsAffected, 2);
    assert.deepEqual(inserted.rows, []);

    const selected = await writer.execute("SELECT id, n, note, blob FROM t ORDER BY id");
    assert.deepEqual(selected.columns, ["id", "n", "note", "blob"]);
    assert.equal(selected.rows.length, 2);
    const [a, b] = selected.rows;
    assert.equal(a!["id"], "a");
    assert.equal(a!["n"], 1_700_000_000_000);
    assert.equal(a!["note"], "ü");
    assert.deepEqual(new Uint8Array(a!["blob"] as ArrayBuffer), new Uint8Array([1, 2]));
    assert.equal(b!["n"], 1, "booleans are stored as 0/1");
    assert.equal(b!["note"], null);

    const returning = await writer.execute({
      sql: "UPDATE t SET n = n + 1 WHERE id = ? RETURNING id, n",
      args: ["b"],
    });
    assert.deepEqual(returning.rows.map((r) => [r["id"], r["n"]]), [["b", 2]]);
  });
});

Deno.test("bad values and unsafe integers are refused, not silently changed", async () => {
  await withWriter(async (writer) => {
    await assert.rejects(
      writer.execute({ sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: ["x", NaN] }),
      /finite numbers/,
    );
    await assert.rejects(
      writer.execute({ sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: ["x", undefined!] }),
      /undefined/,
    );
    await writer.execute({ sql: "INSERT INTO t (id, n) VALUES ('big', ?)", args: [2n ** 60n] });
    await assert.rejects(writer.execute("SELECT n FROM t WHERE id = 'big'"), /safely/);
  });
});

Deno.test("transactions commit and roll back; SQLite errors carry their code", async () => {
  await withWriter(async (writer) => {
    const committed = writer.begin();
    await committed.execute("INSERT INTO t (id, n) VALUES ('kept', 1)");
    await committed.commit();
    committed.close();

    const dropped = writer.begin();
    await dropped.execute("INSERT INTO t (id, n) VALUES ('dropped', 1)");
    await assert.rejects(dropped.execute("INSERT INTO t (id, n) VALUES ('kept', 2)"), (e) => {
      assert.ok(e instanceof SqliteFileError);
      assert.match(e.code, /^SQLITE_CONSTRAINT/);
      assert.match(e.message, /^SQLITE_CONSTRAINT\w*: UNIQUE constraint failed: t\.id/);
      return true;
    });
    await dropped.rollback();
    dropped.close();

    // close() without commit rolls back too.
    const abandoned = writer.begin();
    await abandoned.execute("INSERT INTO t (id, n) VALUES ('abandoned', 1)");
    abandoned.close();

    const ids = (await writer.execute("SELECT id FROM t ORDER BY id")).rows.map((r) => r["id"]);
    assert.deepEqual(ids, ["kept"]);
  });
});

Deno.test("statementChunks: power-of-two chunks, in order, none over the maximum", () => {
  const rows = Array.from({ length: 84 }, (_, i) => i);
  const chunks = statementChunks(rows, 100);
  assert.deepEqual(chunks.map((c) => c.length), [64, 16, 4]);
  assert.deepEqual(chunks.flat(), rows);
  assert.deepEqual(statementChunks(rows, 20).map((c) => c.length), [16, 16, 16, 16, 16, 4]);
  assert.deepEqual(statementChunks([], 8), []);
  // Every batch size from 1 to 500 uses at most 9 distinct statement shapes.
  const shapes = new Set<number>();
  for (let n = 1; n <= 500; n++) {
    for (const c of statementChunks(Array.from({ length: n }), 500)) shapes.add(c.length);
  }
  assert.deepEqual([...shapes].sort((a, b) => a - b), [1, 2, 4, 8, 16, 32, 64, 128, 256]);
});

Deno.test("queryOne reads the first row like execute, or undefined", async () => {
  await withWriter(async (writer) => {
    await writer.execute({ sql: "INSERT INTO t (id, n) VALUES ('a', 1), ('b', 2)", args: [] });
    const sql = "SELECT id, n FROM t WHERE n >= ? ORDER BY n";
    assert.deepEqual(await writer.queryOne({ sql, args: [2] }), { id: "b", n: 2 });
    assert.deepEqual(
      await writer.queryOne({ sql, args: [1] }),
      (await writer.execute({ sql, args: [1] })).rows[0],
    );
    assert.equal(await writer.queryOne({ sql, args: [3] }), undefined);
    const tx = writer.begin();
    assert.deepEqual(await tx.queryOne!({ sql, args: [2] }), { id: "b", n: 2 });
    await tx.commit();
    tx.close();
  });
});

Deno.test("queryOne never opens one of the binding's row cursors (they leak on Deno)", async () => {
  const cursors = probeRowCursors();
  try {
    await withWriter(async (writer) => {
      await writer.execute({ sql: "INSERT INTO t (id, n) VALUES ('a', 1)", args: [] });
      const statement = { sql: "SELECT n FROM t WHERE id = ?", args: ["a"] };
      const before = cursors.count();
      for (let i = 0; i < 100; i++) assert.deepEqual(await writer.queryOne(statement), { n: 1 });
      assert.equal(cursors.count(), before, "queryOne opened a row cursor");
      await writer.execute(statement);
      assert.equal(
        cursors.count(),
        before + 1,
        "execute reads rows through a cursor (the control)",
      );
    });
  } finally {
    cursors.restore();
  }
});
