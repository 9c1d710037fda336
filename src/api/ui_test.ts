import assert from "node:assert/strict";
import { UI_CSP, UiFiles, withUi } from "./ui.ts";

const UI_DIR = new URL("../../ui/", import.meta.url);
const files = new UiFiles();
const toApi = () => new Response("api", { status: 299 });
const handler = withUi(toApi, files);

function get(path: string, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(handler(new Request(`http://127.0.0.1:8787${path}`, init)));
}

function assertUiHeaders(response: Response, what: string): void {
  assert.equal(response.headers.get("content-security-policy"), UI_CSP, what);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(response.headers.get("referrer-policy"), "no-referrer", what);
}

Deno.test("the dashboard's files are served with their types, revalidated, under a strict CSP", async () => {
  for (
    const [path, type] of [
      ["/ui", "text/html; charset=utf-8"],
      ["/ui/", "text/html; charset=utf-8"],
      ["/ui/index.html", "text/html; charset=utf-8"],
      ["/ui/app.js", "text/javascript; charset=utf-8"],
      ["/ui/style.css", "text/css; charset=utf-8"],
    ] as const
  ) {
    const response = await get(path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type, path);
    assert.equal(response.headers.get("cache-control"), "no-cache", path);
    assertUiHeaders(response, path);
    const body = await response.text();
    const name = path.length > 4 ? path.slice(4) : "index.html";
    const onDisk = await Deno.readTextFile(new URL(name, UI_DIR));
    assert.equal(body, onDisk, path);
  }
  assert.equal(UI_CSP.includes("'unsafe-inline'"), false);
  assert.match(UI_CSP, /default-src 'none'/);
  assert.match(UI_CSP, /frame-ancestors 'none'/);
});

Deno.test("an unchanged file answers 304; HEAD has no body; other methods 405", async () => {
  const first = await get("/ui/app.js");
  await first.body?.cancel();
  const etag = first.headers.get("etag")!;
  assert.match(etag, /^"[0-9a-f]{24}"$/);
  const again = await get("/ui/app.js", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assertUiHeaders(again, "304");
  const head = await get("/ui/app.js", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const post = await get("/ui/app.js", { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assertUiHeaders(post, "405");
});

Deno.test("no path leaves the ui folder; unknown files are 404 with the same headers", async () => {
  for (
    const path of [
      "/ui/nope.js",
      "/ui/..%2fdeno.json",
      "/ui/%2e%2e%2fdeno.json",
      "/ui/..%5cdeno.json",
      "/ui/.hidden.css",
      "/ui/sub/app.js",
      "/ui/app.js/",
      "/ui/app.ts",
      "/ui//etc/passwd",
      "/ui/README",
    ]
  ) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    assert.equal(await response.text(), "Not found\n", path);
    assertUiHeaders(response, path);
  }
  // A literal `..` is resolved by the URL parser before any handler sees it:
  // `/ui/../deno.json` is `/deno.json`, an API path (the API has no such route: 404).
  // `%2e%2e` is a dot-dot segment to the parser too.
  for (const path of ["/ui/../deno.json", "/ui/%2e%2e/deno.json", "/ui/./../deno.json"]) {
    assert.equal((await get(path)).status, 299, path);
  }
});

Deno.test("everything but /ui and /ui/... goes to the API untouched", async () => {
  for (const path of ["/api/v1/webhooks", "/uix", "/ui.js", "/healthz", "/openapi.json?ui=1"]) {
    assert.equal((await get(path)).status, 299, path);
  }
});

Deno.test("the page needs nothing the CSP forbids: no inline script, style or handler", async () => {
  const html = await Deno.readTextFile(new URL("index.html", UI_DIR));
  for (const tag of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) {
    assert.match(tag[0], /\bsrc="\/ui\/[\w.-]+\.js"/, tag[0]);
    assert.equal(tag[1]!.trim(), "", "inline script");
  }
  assert.doesNotMatch(html, /<style\b/i);
  assert.doesNotMatch(html, /\sstyle=/i);
  assert.doesNotMatch(html, /\son[a-z]+=/i);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, "nothing from another origin");
  let scripts = 0;
  for await (const entry of Deno.readDir(UI_DIR)) {
    if (!entry.name.endsWith(".js")) continue;
    scripts++;
    const script = await Deno.readTextFile(new URL(entry.name, UI_DIR));
    // Data goes into the page as text: nothing is ever parsed as HTML or run as code.
    assert.doesNotMatch(
      script,
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
      entry.name,
    );
    assert.doesNotMatch(
      script,
      /\beval\(|new Function\(|\.style\.|setAttribute\("style"/,
      entry.name,
    );
  }
  assert.ok(scripts >= 2, "the ui folder's scripts were not found");
});
