/** A 1-based position in a TOML source. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A key path: table and key names, and array indexes. */
export type KeyPath = readonly (string | number)[];

const BARE_KEY = /[A-Za-z0-9_-]/;
const ESCAPES: Readonly<Record<string, string>> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  e: "\x1b",
  '"': '"',
  "\\": "\\",
};

/**
 * Finds where `path` is written in a TOML document: the key of
 * `[server]\nlisten = …`, of `server.listen = …`, of a key inside an inline
 * table (`schedule = { first = "5m" }` for `policies.x.schedule.first`), or an
 * element of an array (`policies.x.schedule[2]`). When the exact path is not
 * written (a default inherited by the user's policy, say), the position of the
 * closest enclosing key or table header is returned; `undefined` when not even
 * the first segment appears.
 *
 * smol-toml returns plain values without positions, so this re-reads the
 * source with a small scanner that understands keys, headers, strings, arrays
 * and inline tables — enough for documents that smol-toml already accepted.
 */
export function locate(source: string, path: KeyPath): Position | undefined {
  const offsets = keyOffsets(source);
  for (let length = path.length; length > 0; length--) {
    const offset = offsets.get(encode(path.slice(0, length)));
    if (offset !== undefined) return toPosition(source, offset);
  }
  return undefined;
}

function encode(path: KeyPath): string {
  return JSON.stringify(path);
}

function toPosition(source: string, offset: number): Position {
  const before = source.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/** Offset of the first place each key path (and each of its prefixes) is written. */
function keyOffsets(src: string): Map<string, number> {
  const out = new Map<string, number>();
  let i = 0;

  const record = (path: KeyPath, offset: number) => {
    for (let k = 1; k <= path.length; k++) {
      const key = encode(path.slice(0, k));
      if (!out.has(key)) out.set(key, offset);
    }
  };
  const skipSpaces = () => {
    while (src[i] === " " || src[i] === "\t") i++;
  };
  const skipBlank = () => {
    for (;;) {
      const c = src[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else if (c === "#") { while (i < src.length && src[i] !== "\n") i++; }
      else return;
    }
  };
  const skipLine = () => {
    while (i < src.length && src[i] !== "\n") i++;
  };

  const readString = (): string => {
    const quote = src[i] ?? "";
    const triple = src.startsWith(quote.repeat(3), i);
    i += triple ? 3 : 1;
    let text = "";
    while (i < src.length) {
      const c = src[i] ?? "";
      if (triple ? src.startsWith(quote.repeat(3), i) : c === quote) {
        i += triple ? 3 : 1;
        // A closing triple quote may be followed by up to two more quotes.
        while (triple && src[i] === quote) i++;
        return text;
      }
      if (!triple && c === "\n") return text;
      if (quote === '"' && c === "\\") {
        const next = src[i + 1] ?? "";
        text += ESCAPES[next] ?? next;
        i += 2;
        continue;
      }
      text += c;
      i++;
    }
    return text;
  };

  const readKey = (): string[] | undefined => {
    const segments: string[] = [];
    for (;;) {
      skipSpaces();
      const c = src[i] ?? "";
      if (c === '"' || c === "'") {
        segments.push(readString());
      } else {
        const start = i;
        while (BARE_KEY.test(src[i] ?? "")) i++;
        if (i === start) return undefined;
        segments.push(src.slice(start, i));
      }
      skipSpaces();
      if (src[i] !== ".") return segments;
      i++;
    }
  };

  const skipValue = (path: KeyPath): void => {
    skipSpaces();
    const c = src[i];
    if (c === '"' || c === "'") {
      readString();
    } else if (c === "[") {
      i++;
      for (let index = 0;; index++) {
        skipBlank();
        if (src[i] === "]" || i >= src.length) break;
        record([...path, index], i);
        const before = i;
        skipValue([...path, index]);
        skipBlank();
        if (src[i] === ",") i++;
        else if (i === before) break;
      }
      i++;
    } else if (c === "{") {
      i++;
      for (;;) {
        skipBlank();
        if (src[i] === "}" || i >= src.length) break;
        const start = i;
        const key = readKey();
        if (key === undefined) break;
        record([...path, ...key], start);
        skipSpaces();
        if (src[i] === "=") i++;
        skipValue([...path, ...key]);
        skipBlank();
        if (src[i] === ",") i++;
      }
      i++;
    } else {
      while (i < src.length && !",]}\n#".includes(src[i] ?? "")) i++;
    }
  };

  let table: string[] = [];
  while (i < src.length) {
    skipBlank();
    if (i >= src.length) break;
    const start = i;
    if (src[i] === "[") {
      i += src[i + 1] === "[" ? 2 : 1;
      table = readKey() ?? [];
      record(table, start);
      skipLine();
      continue;
    }
    const key = readKey();
    if (key === undefined) {
      skipLine();
      continue;
    }
    const path = [...table, ...key];
    record(path, start);
    skipSpaces();
    if (src[i] === "=") i++;
    skipValue(path);
    skipLine();
  }
  return out;
}
