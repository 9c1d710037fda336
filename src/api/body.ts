/**
 * Reading a JSON request body safely: a content type check (415), a size cap
 * enforced while streaming, not after (413), strict UTF-8 and a parse error
 * that names the position (400).
 */
import { ApiError } from "./errors.ts";
import { jsonErrorPosition } from "./json_position.ts";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
/** Stateless without `stream: true`, so one serves every request. */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const contentType = request.headers.get("content-type");
  const mediaType = contentType?.split(";")[0]?.trim() ?? "";
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Expected Content-Type: application/json, got ${
        contentType === null ? "no Content-Type" : JSON.stringify(contentType)
      }`,
    );
  }
  const charset = /charset=([^;]+)/i.exec(contentType ?? "")?.[1]?.trim().replace(/"/g, "");
  if (charset !== undefined && charset.toLowerCase() !== "utf-8") {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Expected charset=utf-8, got ${JSON.stringify(charset)}`,
    );
  }
  const bytes = await readLimited(request, limit);
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_json", "Request body is not valid UTF-8");
  }
  if (text.trim() === "") {
    throw new ApiError(400, "invalid_json", "Request body is empty; expected JSON");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = jsonErrorPosition(text);
    throw new ApiError(
      400,
      "invalid_json",
      at
        ? `Request body is not valid JSON: ${at.reason} at position ${at.offset} (line ${at.line}, column ${at.column})`
        : `Request body is not valid JSON: ${(error as Error).message}`,
      at && { position: at.offset, line: at.line, column: at.column },
    );
  }
}

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new ApiError(413, "payload_too_large", `Request body exceeds the limit of ${limit} bytes`, {
      limit,
    });
  const declaredHeader = request.headers.get("content-length");
  const declared = declaredHeader === null ? NaN : Number(declaredHeader);
  if (Number.isFinite(declared)) {
    if (declared > limit) {
      await request.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    // A declared length within the limit is the whole body: the HTTP server
    // frames the request by it, so the one native read needs no count. And
    // `request.body` stays untouched: that getter builds a ReadableStream the
    // read then drains, 5-7 µs of a bare server's 18-27 µs per request
    // (scratch measurement, 2026-12-07).
    return await request.bytes();
  }
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) (out.set(chunk, offset), offset += chunk.byteLength);
  return out;
}
