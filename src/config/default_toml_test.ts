import assert from "node:assert/strict";
import { DEFAULT_TOML } from "./default_toml.ts";

Deno.test("DEFAULT_TOML is the text of default.toml", () => {
  const file = Deno.readTextFileSync(new URL("./default.toml", import.meta.url));
  assert.equal(DEFAULT_TOML, file);
  assert.match(DEFAULT_TOML, /^\[server\]\n# [^\n]*\n# [^\n]*\nlisten = "127\.0\.0\.1:8787"$/m);
});
