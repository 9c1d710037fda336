import assert from "node:assert/strict";
import { spawnDurableFloor } from "./durable_floor_child.ts";

const root = new URL("../", import.meta.url).pathname;

/** A receiver on loopback that records each delivery's `webhook-id` and body. */
function receiver() {
  const got: { id: string; body: string }[] = [];
  let arrived: () => void = () => {};
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    got.push({ id: r.headers.get("webhook-id") ?? "", body: await r.text() });
    arrived();
    return new Response(null, { status: 204 });
  });
  /** Resolves once `count` deliveries have arrived; fails if they have not within 10 s. */
  const until = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${got.length} of ${count} deliveries arrived within 10 s`)),
        10_000,
      );
      const check = () => {
        if (got.length < count) return void (arrived = check);
        clearTimeout(timer);
        resolve();
      };
      check();
    });
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, got, until, server };
}

Deno.test("the durable floor stores each event before its 202, then delivers it under its id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-floor-" });
  const hook = receiver();
  const floor = await spawnDurableFloor({
    name: "durable floor (test)",
    root,
    dbPath: `${dir}/floor.db`,
    receiverUrl: hook.url,
  });
  try {
    const post = (body: string) =>
      fetch(`${floor.origin}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });

    const one = await post('{"type":"order.created","data":{"n":1}}');
    assert.equal(one.status, 202);
    const { id } = await one.json() as { id: string };
    const batch = await post('{"events":[{"type":"a","data":2},{"type":"b","data":{"n":3}}]}');
    assert.equal(batch.status, 202);
    const { ids } = await batch.json() as { ids: string[] };
    assert.equal(ids.length, 2);

    const bad = await post('{"data":{}}');
    assert.equal(bad.status, 422);
    await bad.body?.cancel();

    await hook.until(3);
    const byId = new Map(hook.got.map((d) => [d.id, d.body]));
    assert.deepEqual(
      [byId.get(id), byId.get(ids[0]!), byId.get(ids[1]!)],
      ['{"n":1}', "2", '{"n":3}'],
    );
  } finally {
    await floor.stop();
    await hook.server.shutdown();
  }
  // Acknowledged means committed: the rows are in the file once the floor is gone.
  const rows = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import Database from "libsql"; const db = new Database(${
        JSON.stringify(`${dir}/floor.db`)
      }); console.log(db.prepare("SELECT count(*) AS n FROM events").get().n);`,
    ],
    cwd: root,
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(rows.stdout).trim(), "3");
  await Deno.remove(dir, { recursive: true });
});
