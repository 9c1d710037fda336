import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { systemClock } from "../clock.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { startReceiver } from "../testing/receiver.ts";

// The webhook API accepts only "standard" as a profile name for now, so this
// overrides the built-in profile itself.
const CONFIG = `
[policies.twice]
timeout = "300ms"
schedule = ["0s", "100ms"]
jitter = 0
on_exhausted = "failed"

[profiles.standard]
headers = { "X-Attempt-Id" = "{attempt_id}", "X-Attempt" = "{attempt_number}", "X-Delivery-Id" = "{delivery_id}", "X-Team" = "from-profile" }
body = { delivery_id = "{delivery_id}", tenant_id = "{tenant_id}", data = "{data}" }
signature = { scheme = "hmac-sha256", header = "X-Signature", content = "{attempt_id}.{body}" }
`;

Deno.test("the dispatcher renders the webhook's profile; header ids match the stored attempts", async () => {
  await using receiver = await startReceiver();
  receiver.script([{ status: 503 }, { status: 200 }]);
  await withEngine({ clock: systemClock, configToml: CONFIG }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", {
      url: `${receiver.url}/x`,
      policy: "twice",
      headers: { "x-team": "custom", "X-Custom": "c" },
    });
    assert.equal(hook.status, 201);
    const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: { n: 1 } });
    const id: string = event.body.deliveries[0].id;
    let delivery: { state: string; attempts: { id: string; number: number }[] } | undefined;
    await h.until(async () => {
      delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
      return delivery!.state === "succeeded";
    });
    const attempts = delivery!.attempts;
    assert.equal(receiver.requests.length, 2);
    receiver.requests.forEach((request, i) => {
      const attempt = attempts.find((a) => a.number === i + 1);
      assert.ok(attempt);
      assert.equal(request.headers["x-attempt-id"], attempt.id);
      assert.equal(request.headers["x-attempt"], String(i + 1));
      assert.equal(request.headers["x-delivery-id"], id);
      assert.equal(request.headers["x-team"], "from-profile");
      assert.equal(request.headers["x-custom"], "c");
      assert.equal(request.body, `{"delivery_id":"${id}","tenant_id":null,"data":{"n":1}}`);
      assert.equal(
        request.headers["x-signature"],
        createHmac("sha256", hook.body.secret).update(`${attempt.id}.${request.body}`)
          .digest("hex"),
      );
    });
    assert.notEqual(attempts[0]!.id, attempts[1]!.id);
  });
});
