/** Signing in with an API key; the key is checked against the API before it is kept. */
import { api, storeKey } from "./api.js";
import { h } from "./dom.js";

export function signInView(ctx, signedIn) {
  const key = h("input", {
    id: "api-key",
    name: "key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "key-help",
  });
  const problem = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { class: "sign-in card", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("label", { for: "api-key" }, "API key"),
    key,
    h(
      "p",
      { id: "key-help", class: "muted" },
      "An hookd API key, or the root key (HOOKD_ADMIN_KEY). It stays in this tab only.",
    ),
    problem,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const value = key.value.trim();
    try {
      const me = await api("GET", "/api/v1/whoami", { key: value });
      storeKey(value);
      await signedIn(me);
    } catch (error) {
      problem.textContent = error.status === 401
        ? "That key was refused: check it, or ask for a new one."
        : error.message;
      key.select();
    }
  });
  ctx.main.append(form);
  key.focus();
}
