import assert from "node:assert/strict";
import { type IndexedWebhook, WebhookIndex } from "./webhook_index.ts";

function hook(id: string, eventTypes: string[], extra: Partial<IndexedWebhook> = {}) {
  return { id, eventTypes, state: "enabled", tenantId: null, ...extra } as IndexedWebhook;
}

const ids = (hooks: IndexedWebhook[]) => hooks.map((h) => h.id);

Deno.test("fan-out matching table", () => {
  const index = new WebhookIndex();
  index.put(hook("a", ["order.created"]));
  index.put(hook("b", ["order.*"]));
  index.put(hook("c", ["*"]));
  index.put(hook("d", ["order.created", "order.*"]));
  index.put(hook("e", ["invoice.paid"], { state: "disabled" }));
  index.put(hook("f", ["invoice.*"], { state: "paused" }));
  index.put(hook("g", ["invoice.paid"], { tenantId: "t1" }));

  const table: [string, string | null, string[]][] = [
    ["order.created", null, ["a", "b", "c", "d"]],
    ["order.updated", null, ["b", "c", "d"]],
    ["orders.created", null, ["c"]],
    ["invoice.paid", null, ["c", "f"]],
    ["invoice.paid", "t1", ["c", "f", "g"]],
    ["invoice.paid", "t2", ["c", "f"]],
    ["user.created", "t1", ["c"]],
  ];
  for (const [type, tenant, expected] of table) {
    assert.deepEqual(ids(index.subscribers(type, tenant)), expected, `${type} / ${tenant}`);
  }
});

Deno.test("put replaces and remove forgets a webhook", () => {
  const index = new WebhookIndex();
  index.put(hook("a", ["x.y"]));
  assert.deepEqual(ids(index.subscribers("x.y", null)), ["a"]);
  index.put(hook("a", ["x.*"]));
  assert.deepEqual(ids(index.subscribers("x.z", null)), ["a"]);
  assert.deepEqual(ids(index.subscribers("q", null)), []);
  index.remove("a");
  assert.deepEqual(ids(index.subscribers("x.z", null)), []);
  assert.equal(index.size, 0);
});
