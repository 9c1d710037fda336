import assert from "node:assert/strict";
import { statementChunks } from "./executor.ts";
import { createClient } from "@libsql/client";
import {
  FileConnection,
  localFilePath,
  readRows,
  rowsAsJsonSql,
  SqliteFileError,
} from "./file_connection.ts";
import { probeRowCursors } from "../testing/cursor_probe.ts";

async function withWriter(fn: (writer: FileConnection) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-file-writer-" });
  const writer = new FileConnection(`${dir}/t.db`);
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

Deno.test("a full statement cache drops the statement unused longest, not the busy ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-file-writer-" });
  const connection = new FileConnection(`${dir}/t.db`, { maxStatements: 8 });
  try {
    await connection.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)");
    await connection.execute({ sql: "INSERT INTO t (id, n) VALUES (?, ?)", args: ["a", 1] });
    const before = connection.preparedTotal;
    // One statement every transaction runs, between 100 one-off shapes: each
    // dropped statement leaks on Deno 2.9.6, so the busy one must stay kept.
    for (let i = 0; i < 100; i++) {
      await connection.execute({ sql: "SELECT n FROM t WHERE id = ?", args: ["a"] });
      await connection.execute({ sql: `SELECT n + ${i} AS m FROM t WHERE id = ?`, args: ["a"] });
    }
    assert.ok(connection.cachedStatements <= 8, `${connection.cachedStatements} kept`);
    assert.equal(connection.preparedTotal - before, 1 + 100);
  } finally {
    connection.close();
    await Deno.remove(dir, { recursive: true });
  }
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
      await writer.execute({ sql: "UPDATE t SET n = n WHERE id = ? RETURNING n", args: ["a"] });
      assert.equal(
        cursors.count(),
        before + 1,
        "RETURNING reads its rows through a cursor (the control)",
      );
    });
  } finally {
    cursors.restore();
  }
});

Deno.test("queries read their rows without a cursor, exactly as the client reads them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-file-connection-" });
  const path = `${dir}/t.db`;
  const connection = new FileConnection(path);
  const client = createClient({ url: `file:${path}` });
  const cursors = probeRowCursors();
  try {
    await connection.execute(
      "CREATE TABLE v (k INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, o INTEGER)",
    );
    const odd = [
      [1, 0, 0.1, "", new Uint8Array([0, 255, 16])],
      [2, -(2 ** 53) + 1, 1 / 3, 'quote " backslash \\ newline \n tab \t nul-free ü € 😀', null],
      [3, 2 ** 53 - 1, 1e300, '{"looks":"like json"}', new Uint8Array([])],
      [4, null, -2.5e-308, "[1,2]", null],
      [5, 42, 0.30000000000000004, "\u0001\u001f control", null],
      [6, 7, 5e-324, "null", null],
    ];
    for (const [k, i, r, s, b] of odd) {
      await connection.execute({
        sql: "INSERT INTO v (k, i, r, s, b, o) VALUES (?, ?, ?, ?, ?, ?)",
        args: [k, i, r, s, b, (Number(k) * 7919) % 13],
      } as never);
    }
    for (let k = 100; k < 2_100; k++) {
      await connection.execute({
        sql: "INSERT INTO v (k, i, r, s, o) VALUES (?, ?, ?, ?, ?)",
        args: [k, k * 3, k / 7, `row ${k}`, (k * 7919) % 2_003],
      });
    }
    const queries = [
      { sql: "SELECT k, i, r, s, b FROM v WHERE k < 100 ORDER BY k", args: [] },
      // A scrambled order, descending, over many rows: the aggregate keeps it.
      { sql: "SELECT k, s FROM v ORDER BY o DESC, k", args: [] },
      { sql: "SELECT k, r FROM v WHERE k >= ? ORDER BY k DESC LIMIT ?", args: [150, 500] },
      // Text made by JSON functions stays text; duplicate names; expressions.
      {
        sql:
          "SELECT json(s) AS s, json_object('k', k) AS s2, k AS x, i AS x, count(*) OVER () AS n, " +
          "0.1 + 0.2 AS sum FROM v WHERE k IN (3, 4) ORDER BY k",
        args: [],
      },
      {
        sql: "WITH recent AS (SELECT k, r FROM v WHERE k > :from) " +
          "SELECT count(*) AS n, max(k) AS top, avg(r) AS mean FROM recent -- trailing comment",
        args: { from: 1_000 },
      },
      { sql: "SELECT k FROM v WHERE k = ?;", args: [2] },
      { sql: "SELECT k FROM v WHERE k < 0", args: [] },
      { sql: "VALUES (1, 'a'), (2, NULL)", args: [] },
      { sql: "SELECT 1e999 AS inf, -1e999 AS ninf, 1.5 AS r", args: [] },
    ];
    for (const query of queries) {
      const before = cursors.count();
      const mine = await connection.execute(query as never);
      assert.equal(cursors.count(), before, `a cursor for ${query.sql}`);
      const theirs = await client.execute(query as never);
      assert.deepEqual(mine.columns, theirs.columns, query.sql);
      assert.deepEqual(
        mine.rows.map((row) => mine.columns.map((c) => row[c])),
        theirs.rows.map((row) => theirs.columns.map((c) => row[c])),
        query.sql,
      );
    }
    // The same inside a write transaction.
    const tx = connection.begin();
    const before = cursors.count();
    const inTx = await tx.execute("SELECT count(*) AS n FROM v");
    assert.equal(inTx.rows[0]!["n"], 2_006);
    assert.equal(cursors.count(), before);
    await tx.rollback();
    tx.close();
  } finally {
    cursors.restore();
    client.close();
    connection.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rowsAsJsonSql: statements that are not queries do not prepare", async () => {
  await withWriter(async (writer) => {
    for (const sql of ["UPDATE t SET n = 1 RETURNING id", "PRAGMA table_info(t)"]) {
      await assert.rejects(
        writer.execute(rowsAsJsonSql(sql, 1)),
        SqliteFileError,
        `${sql} wrapped`,
      );
    }
    // Unwrapped, both still work (by cursor).
    assert.deepEqual((await writer.execute("PRAGMA table_info(t)")).rows.length, 4);
  });
});

Deno.test("readRows: the cursor is the fallback when the JSON form fails, never for a bad value", () => {
  const columns = ["a", "b"];
  let cursorReads = 0;
  const cursor = () => {
    cursorReads++;
    return [[1n, "x"]];
  };
  assert.deepEqual(readRows(() => '[[1,"x"]]', cursor, columns), [{ a: 1, b: "x" }]);
  assert.equal(cursorReads, 0);
  // Too big for one SQLite string, say: the same rows come from the cursor.
  const tooBig = () => {
    throw new SqliteFileError("SQLITE_TOOBIG", "string or blob too big");
  };
  assert.deepEqual(readRows(tooBig, cursor, columns), [{ a: 1, b: "x" }]);
  assert.equal(cursorReads, 1);
  assert.deepEqual(readRows(null, cursor, columns), [{ a: 1, b: "x" }]);
  assert.equal(cursorReads, 2);
  // An integer JavaScript cannot hold is refused, as the cursor's would be.
  assert.throws(() => readRows(() => "[[9007199254740993,null]]", cursor, columns), /safely/);
  assert.equal(cursorReads, 2);
  // Reals and blobs as rowsAsJsonSql tags them.
  const [row] = readRows(() => '[[["0.30000000000000004"],{"b":"00FF"}]]', cursor, columns);
  assert.equal(row!["a"], 0.1 + 0.2);
  assert.deepEqual(new Uint8Array(row!["b"] as ArrayBuffer), new Uint8Array([0, 255]));
});
