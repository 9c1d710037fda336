import assert from "node:assert/strict";
import { createLogger } from "./log.ts";

Deno.test("json logs carry level, message and fields; lower levels are dropped", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    format: "json",
    write: (l) => lines.push(l),
    now: () => 0,
  });
  log.debug("hidden");
  log.info("listening", { port: 8787 });
  log.error("failed", { error: new TypeError("boom") });
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [
    { time: "1970-01-01T00:00:00.000Z", level: "info", msg: "listening", port: 8787 },
    {
      time: "1970-01-01T00:00:00.000Z",
      level: "error",
      msg: "failed",
      error: { name: "TypeError", message: "boom" },
    },
  ]);
});

Deno.test("text logs are one readable line", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    format: "text",
    write: (l) => lines.push(l),
    now: () => 0,
  });
  log.warn("slow", { ms: 12, route: "/x" });
  assert.deepEqual(lines, ['1970-01-01T00:00:00.000Z WARN slow ms=12 route="/x"']);
});

Deno.test("enabled says which levels are written", () => {
  const log = createLogger({ level: "warn", format: "json", write: () => {} });
  assert.deepEqual(
    (["debug", "info", "warn", "error"] as const).map((level) => log.enabled(level)),
    [false, false, true, true],
  );
});
