/**
 * The dashboard's entry point: the session (who is signed in, with which
 * scopes), hash routing (`#/webhooks/ID`), and what each view gets to work
 * with. Views render into <main> and may poll; leaving a view stops its
 * polls and drops its late answers.
 */
import { api, ApiError, forgetKey, storedKey } from "./api.js";
import { append, h } from "./dom.js";
import { deadLettersView } from "./dead_letters.js";
import { deliveryView } from "./delivery_detail.js";
import { eventLookupView, eventView } from "./event_detail.js";
import { liveView } from "./live.js";
import { signInView } from "./sign_in.js";
import { webhookView } from "./webhook_detail.js";
import { webhooksView } from "./webhook_list.js";

const ROUTES = [
  [/^#\/webhooks$/, webhooksView],
  [/^#\/webhooks\/([^/]+)$/, webhookView],
  [/^#\/deliveries\/([^/]+)$/, deliveryView],
  [/^#\/events$/, eventLookupView],
  [/^#\/events\/([^/]+)$/, eventView],
  [/^#\/dead-letters$/, deadLettersView],
  [/^#\/live$/, liveView],
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const whoName = document.getElementById("who-name");
const toastBox = document.getElementById("toast");

/** The signed-in key's `{key_id, name, scopes}`, or null. */
let identity = null;
/** The view on screen: its timers, and whether it is still the current one. */
let current = { timers: [], alive: false };

function toast(message, tone = "good") {
  toastBox.replaceChildren(h("p", { class: `toast-message ${tone}` }, message));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => toastBox.replaceChildren(), 6000);
}

function leaveView() {
  current.alive = false;
  for (const timer of current.timers) clearInterval(timer);
}

/** What a view works with. */
function context() {
  const view = { timers: [], alive: true };
  current = view;
  const scopes = new Set(identity?.scopes ?? []);
  return {
    main,
    identity,
    can: (scope) => scopes.has(scope),
    alive: () => view.alive,
    /** Runs `poll` every `ms` while the view is on screen; one poll at a time. */
    every(ms, poll) {
      let running = false;
      view.timers.push(setInterval(async () => {
        if (running || !view.alive || document.hidden) return;
        running = true;
        try {
          await poll();
        } catch (error) {
          if (view.alive) toast(messageOf(error), "bad");
        } finally {
          running = false;
        }
      }, ms));
    },
    toast,
    navigate: (hash) => (location.hash = hash),
    rerender: () => render(),
  };
}

export function messageOf(error) {
  return error instanceof ApiError ? error.message : String(error?.message ?? error);
}

async function render() {
  leaveView();
  if (!storedKey() || identity === null) {
    showChrome(false);
    const ctx = context();
    main.replaceChildren();
    signInView(ctx, async (me) => {
      identity = me;
      if (!location.hash || location.hash === "#/sign-in") location.hash = "#/webhooks";
      else await render();
    });
    return;
  }
  showChrome(true);
  const hash = location.hash || "#/webhooks";
  const section = hash.split("/")[1];
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const match = ROUTES.map(([pattern, view]) => [pattern.exec(hash), view]).find(([m]) => m);
  const ctx = context();
  main.replaceChildren();
  if (!match) {
    append(main, [
      h("h1", {}, "Not found"),
      h("p", {}, h("a", { href: "#/webhooks" }, "Webhooks")),
    ]);
    return;
  }
  const [found, view] = match;
  try {
    await view(ctx, ...found.slice(1).map(decodeURIComponent));
  } catch (error) {
    if (!ctx.alive()) return;
    main.replaceChildren(
      h("h1", {}, "Something went wrong"),
      h("p", { class: "error", role: "alert" }, messageOf(error)),
    );
  }
  // Screen readers and keyboards start at the new content, unless a view focused something.
  if (ctx.alive() && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

function showChrome(signedIn) {
  nav.hidden = !signedIn;
  who.hidden = !signedIn;
  whoName.textContent = signedIn ? identity.name : "";
  whoName.title = signedIn ? identity.scopes.join(", ") : "";
}

function signOut(message) {
  forgetKey();
  identity = null;
  render();
  if (message) toast(message, "bad");
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  toast("Signed out.");
});
addEventListener("hookd:unauthorized", () => signOut("The API refused the key; sign in again."));
addEventListener("hashchange", () => render());

// A reload keeps the session: ask who the stored key belongs to.
if (storedKey()) {
  try {
    identity = await api("GET", "/api/v1/whoami");
  } catch {
    identity = null;
  }
}
render();
