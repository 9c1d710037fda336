/**
 * One webhook: its settings and state, the actions the key may take, and its
 * delivery history as seed 004 describes it (each delivery's latest attempt:
 * number, status, response time), filtered by state, event type and time.
 */
import { api, query } from "./api.js";
import { fields, h, route, table } from "./dom.js";
import { deliveryFilters } from "./filters.js";
import { duration, shortId, time } from "./format.js";
import {
  circuitState,
  DELIVERY_STATES,
  deliveryState,
  outcomeBadge,
  webhookState,
} from "./states.js";
import { cancelHeld, openWebhookForm, rotateSecret, setWebhookState } from "./webhook_forms.js";

const PAGE = 50;

export async function webhookView(ctx, id) {
  const path = `/api/v1/webhooks/${encodeURIComponent(id)}`;
  const webhook = ctx.can("webhooks:read") ? await api("GET", path) : null;
  if (!ctx.alive()) return;
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/webhooks" }, "Webhooks"), " / ", shortId(id)),
  );
  if (webhook) {
    ctx.main.append(
      h("div", { class: "heading" }, h("h1", { class: "url" }, webhook.url), actions(ctx, webhook)),
      fields([
        ["State", webhookState(webhook)],
        ["Breaker", circuitState(webhook)],
        ["Event types", webhook.event_types.join(", ")],
        ["Description", webhook.description],
        ["Policy", webhook.policy],
        ["Profile", webhook.profile],
        ["Signing", webhook.signing],
        ["Public key", webhook.public_key ? h("code", {}, webhook.public_key) : undefined],
        ["Receiver auth", receiverAuth(webhook)],
        ["Proxy", proxy(webhook.proxy)],
        ["Disabled at", webhook.disabled_at ? time(webhook.disabled_at) : undefined],
        ["Id", h("code", {}, webhook.id)],
        ["Created", time(webhook.created_at)],
      ].filter(([label, value]) => !(label === "Breaker" && value === null))),
    );
  } else {
    ctx.main.append(h("h1", {}, `Webhook ${shortId(id)}`));
  }
  if (ctx.can("deliveries:read")) history(ctx, id);
}

/** How hookd authenticates to the receiver, without its secrets; undefined: it does not. */
function receiverAuth(webhook) {
  if (webhook.oauth2) {
    return `OAuth2, client ${webhook.oauth2.client_id} at ${webhook.oauth2.token_url}`;
  }
  if (webhook.basic_auth) return `Basic, user ${webhook.basic_auth.username}`;
  return undefined;
}

/** null: whatever `[delivery] proxy` says; "direct": none; else a proxy named in `[delivery.proxies]`. */
function proxy(name) {
  if (name === null) return "default ([delivery] proxy)";
  if (name === "direct") return "none (direct)";
  return name;
}

function actions(ctx, webhook) {
  if (!ctx.can("webhooks:manage")) return null;
  const button = (label, onclick, tone = "") =>
    h("button", { type: "button", class: tone, onclick }, label);
  const toState = (state) => () => setWebhookState(ctx, webhook, state);
  const enabled = webhook.state === "enabled";
  return h(
    "div",
    { class: "actions" },
    enabled
      ? button("Pause", toState("paused"))
      : button(webhook.state === "paused" ? "Resume" : "Enable", toState("enabled")),
    button("Edit", () => openWebhookForm(ctx, webhook, () => ctx.rerender())),
    button("Rotate secret", () => rotateSecret(ctx, webhook)),
    // Paused and disabled webhooks hold their pending deliveries; this drops them.
    enabled ? null : button("Cancel held", () => cancelHeld(ctx, webhook), "danger"),
    webhook.state === "disabled" ? null : button("Disable", toState("disabled"), "danger"),
  );
}

function history(ctx, id) {
  const state = h(
    "select",
    { id: "f-first", name: "state" },
    h("option", { value: "" }, "any"),
    DELIVERY_STATES.map((s) => h("option", { value: s }, s)),
  );
  const { form: filters, values } = deliveryFilters({
    prefix: "f",
    label: "Filter deliveries",
    first: { label: "State", control: state },
  });
  const results = h("div", { "aria-live": "polite" });
  const more = h("div", {});
  ctx.main.append(
    h("h2", {}, "Deliveries"),
    h("p", { class: "muted small" }, "Oldest first; each with its latest attempt."),
    filters,
    results,
    more,
  );

  let rows = [];
  const load = async (cursor) => {
    const page = await api(
      "GET",
      `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries${
        query({
          limit: PAGE,
          cursor,
          state: state.value,
          ...values(),
        })
      }`,
    );
    if (!ctx.alive()) return;
    rows = cursor ? rows.concat(page.data) : page.data;
    results.replaceChildren(historyTable(rows));
    more.replaceChildren(
      page.next_cursor
        ? h("button", {
          type: "button",
          onclick: () => load(page.next_cursor).catch((e) => ctx.toast(e.message, "bad")),
        }, "Load more")
        : null,
    );
  };
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch((error) => ctx.toast(error.message, "bad"));
  });
  return load();
}

function historyTable(rows) {
  return table(
    [
      {
        label: "Delivery",
        cell: (d) => h("a", { href: route("deliveries", d.id) }, h("code", {}, shortId(d.id))),
      },
      {
        label: "Event type",
        cell: (d) => h("a", { href: route("events", d.event_id) }, d.event_type),
      },
      { label: "State", cell: (d) => deliveryState(d.state) },
      { label: "Attempt", cell: (d) => d.latest_attempt ? `#${d.latest_attempt.number}` : "—" },
      {
        label: "Status",
        cell: (d) =>
          d.latest_attempt
            ? outcomeBadge(d.latest_attempt.response_status, d.latest_attempt.error_kind)
            : outcomeBadge(d.last_status, d.last_error_kind),
      },
      { label: "Response time", cell: (d) => duration(d.latest_attempt?.duration_ms) },
      { label: "Created", cell: (d) => time(d.created_at) },
    ],
    rows.map((d) => ({ value: d, attributes: { "data-delivery": d.id } })),
    { empty: "No deliveries match.", caption: "Deliveries" },
  );
}
