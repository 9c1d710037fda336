/**
 * Where a JSON text first goes wrong. V8's `JSON.parse` messages do not always
 * carry a position ("Unexpected token '}', ... is not valid JSON"), so on the
 * error path this small scanner finds the offset itself, to tell the client
 * exactly where to look. It only validates; it builds nothing.
 */
export interface JsonErrorPosition {
  /** Zero-based character offset. */
  readonly offset: number;
  readonly line: number;
  readonly column: number;
  readonly reason: string;
}

export function jsonErrorPosition(text: string): JsonErrorPosition | undefined {
  let i = 0;
  const fail = (reason: string): never => {
    throw new ScanError(i, reason);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`invalid literal, expected ${word}`);
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) return void i++;
      if (ch < 0x20) fail("control character in string");
      if (ch === 0x5c) {
        const next = text[i + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("invalid \\u escape");
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else fail("invalid escape");
      } else i++;
    }
    fail("unterminated string");
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match || match[0] === "" || match[0] === "-") fail("invalid number");
    i += match![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 10_000) fail("nested too deeply");
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a property name in double quotes");
        string();
        ws();
        if (text[i] !== ":") fail("expected ':' after property name");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail("expected ',' or '}' after property value");
      }
    } else if (ch === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail("expected ',' or ']' after array element");
      }
    } else if (ch === '"') string();
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) number();
    else {fail(
        ch === undefined ? "unexpected end of input" : `unexpected character ${JSON.stringify(ch)}`,
      );}
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail("unexpected content after the JSON value");
    return undefined;
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split("\n").length;
    const column = error.offset - before.lastIndexOf("\n");
    return { offset: error.offset, line, column, reason: error.reason };
  }
}

class ScanError extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(reason);
  }
}
