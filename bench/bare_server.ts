/**
 * The "bare server" reference: a `Deno.serve` that reads the body and answers
 * 202 with a small JSON object, nothing else. Driven by the same load
 * generator as the daemon, it is the ceiling for HTTP on these cores, so
 * hookd's overhead shows as the ratio between the two.
 */
const BODY = JSON.stringify({
  id: "01900000-0000-7000-8000-000000000000",
  deliveries: [{ id: "01900000-0000-7000-8000-000000000001", webhook_id: "w", state: "pending" }],
});

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) => console.log(`bare listening on http://${hostname}:${port}`),
}, async (request) => {
  await request.arrayBuffer();
  return new Response(BODY, { status: 202, headers: { "content-type": "application/json" } });
});
