/**
 * The dashboard at `/ui`: static files from the repository's `ui/` folder
 * (plain ES modules and CSS, no build step), read from beside this module
 * so `deno compile --include ui` embeds them. The files hold no data: every
 * figure the page shows comes from the public API with the signed-in key, so
 * `/ui` itself needs none.
 *
 * Every answer under `/ui`, errors included, carries a Content-Security-Policy
 * that allows scripts, styles and requests from this origin only: payloads
 * and receiver responses that the page shows are hostile input, and if
 * anything ever slipped past the page's escaping, no inline script could run
 * and nothing could be sent elsewhere.
 *
 * @module
 */

const UI_DIR = new URL("../../ui/", import.meta.url);

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": UI_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
};

/**
 * A file name the folder may hold: one segment, no dot-files, a known
 * extension. Anything else (`..`, encoded slashes, sub-folders) is not looked
 * up at all, so no path can reach outside `ui/`.
 */
const FILE_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.([a-z]+)$/;

interface UiFile {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly etag: string;
}

/** Whether `pathname` belongs to the dashboard rather than the API. */
export function isUiPath(pathname: string): boolean {
  return pathname === "/ui" || pathname.startsWith("/ui/");
}

/**
 * Serves the dashboard's files. Files are read once and kept: there are a
 * handful, and in a compiled binary they cannot change. Browsers revalidate
 * each load (`no-cache` with an ETag), so an upgraded daemon's page is never
 * mixed with an old script.
 */
export class UiFiles {
  readonly #dir: URL;
  readonly #cache = new Map<string, Promise<UiFile | null>>();

  constructor(dir: URL = UI_DIR) {
    this.#dir = dir;
  }

  async serve(request: Request): Promise<Response> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return answer(405, "Method not allowed\n", { allow: "GET, HEAD" });
    }
    const { pathname } = new URL(request.url);
    const name = pathname === "/ui" || pathname === "/ui/" ? "index.html" : pathname.slice(4);
    const file = await this.#file(name);
    if (file === null) return answer(404, "Not found\n");
    const headers = { "content-type": file.type, "cache-control": "no-cache", etag: file.etag };
    if (request.headers.get("if-none-match") === file.etag) return answer(304, null, headers);
    return answer(200, request.method === "HEAD" ? null : file.body, headers);
  }

  #file(name: string): Promise<UiFile | null> {
    const extension = FILE_NAME.exec(name)?.[1];
    const type = extension === undefined ? undefined : CONTENT_TYPES[extension];
    if (type === undefined) return Promise.resolve(null);
    let file = this.#cache.get(name);
    if (file === undefined) {
      file = this.#read(name, type);
      // Only files that exist are kept, so probing names cannot grow memory.
      file.then(
        (found) => found === null && this.#cache.delete(name),
        () => this.#cache.delete(name),
      );
      this.#cache.set(name, file);
    }
    return file;
  }

  async #read(name: string, type: string): Promise<UiFile | null> {
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = await Deno.readFile(new URL(name, this.#dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) {
        return null;
      }
      throw error;
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    const etag = `"${
      Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")
    }"`;
    return { body, type, etag };
  }
}

function answer(
  status: number,
  body: BodyInit | null,
  headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" },
): Response {
  return new Response(body, { status, headers: { ...headers, ...SECURITY_HEADERS } });
}

type Handler = (request: Request) => Response | Promise<Response>;

/** `api` with the dashboard in front of it: `/ui` and `/ui/…` go to the files, the rest on. */
export function withUi(api: Handler, files = new UiFiles()): Handler {
  return (request) => {
    // The path starts after the scheme and authority; checked without parsing
    // the URL, because every API request (ingest included) passes here.
    const url = request.url;
    const path = url.indexOf("/", url.indexOf("//") + 2);
    if (path !== -1 && url.startsWith("/ui", path)) {
      const pathname = new URL(url).pathname;
      if (isUiPath(pathname)) return files.serve(request);
    }
    return api(request);
  };
}
