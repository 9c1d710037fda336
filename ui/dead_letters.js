/**
 * Dead letters: deliveries that ran out of attempts. Replay one (it gets a
 * manual attempt now) or every one matching the filter (each starts its
 * schedule over).
 */
import { api, query } from "./api.js";
import { confirmAction } from "./dialog.js";
import { h, route, table } from "./dom.js";
import { deliveryFilters } from "./filters.js";
import { shortId, time } from "./format.js";
import { outcomeBadge } from "./states.js";

const PAGE = 100;

export async function deadLettersView(ctx) {
  ctx.main.append(h("h1", {}, "Dead letters"));
  if (!ctx.can("deliveries:read")) {
    ctx.main.append(
      h("p", { class: "empty" }, "This key may not read deliveries (it lacks deliveries:read)."),
    );
    return;
  }
  const webhooks = ctx.can("webhooks:read")
    ? (await api("GET", "/api/v1/webhooks?limit=1000")).data
    : [];
  if (!ctx.alive()) return;
  const urls = new Map(webhooks.map((w) => [w.id, w.url]));
  const webhook = webhooks.length > 0
    ? h(
      "select",
      { id: "d-first", name: "webhook_id" },
      h("option", { value: "" }, "any"),
      webhooks.map((w) => h("option", { value: w.id }, w.url)),
    )
    : h("input", { id: "d-first", name: "webhook_id", type: "text", placeholder: "webhook id" });
  const { form: filters, values } = deliveryFilters({
    prefix: "d",
    label: "Filter dead letters",
    first: { label: "Webhook", control: webhook },
  });
  const filter = () => ({ webhook_id: webhook.value.trim() || undefined, ...values() });
  const replayAll = ctx.can("deliveries:replay")
    ? h("button", {
      type: "button",
      class: "primary",
      onclick: () => replayMatching(ctx, filter(), load),
    }, "Replay all matching")
    : null;
  const results = h("div", { "aria-live": "polite" });
  const more = h("div", {});
  ctx.main.append(filters, h("div", { class: "actions spaced" }, replayAll), results, more);

  let rows = [];
  const load = async (cursor) => {
    const page = await api(
      "GET",
      `/api/v1/dead-letters${query({ limit: PAGE, cursor, ...filter() })}`,
    );
    if (!ctx.alive()) return;
    rows = cursor ? rows.concat(page.data) : page.data;
    results.replaceChildren(deadTable(ctx, rows, urls, () => load()));
    more.replaceChildren(
      page.next_cursor
        ? h("button", { type: "button", onclick: () => load(page.next_cursor) }, "Load more")
        : null,
    );
  };
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch((error) => ctx.toast(error.message, "bad"));
  });
  await load();
}

async function replayMatching(ctx, filter, reload) {
  const described = [
    filter.webhook_id ? `webhook ${shortId(filter.webhook_id)}` : null,
    filter.event_type ? `type ${filter.event_type}` : null,
    filter.since ? `since ${time(filter.since)}` : null,
    filter.until ? `until ${time(filter.until)}` : null,
  ].filter(Boolean);
  const sure = await confirmAction({
    title: "Replay dead letters?",
    message:
      `Every dead delivery matching ${
        described.length ? described.join(", ") : "no filter (all of them)"
      } ` +
      "starts its retry schedule over, due now.",
    confirmLabel: "Replay",
    tone: "primary",
  });
  if (!sure) return;
  try {
    const { replayed } = await api("POST", "/api/v1/dead-letters/replay", { body: filter });
    ctx.toast(`Replayed ${replayed} ${replayed === 1 ? "delivery" : "deliveries"}.`);
  } catch (error) {
    ctx.toast(error.message, "bad");
  }
  await reload();
}

function deadTable(ctx, rows, urls, reload) {
  const columns = [
    {
      label: "Delivery",
      cell: (d) => h("a", { href: route("deliveries", d.id) }, h("code", {}, shortId(d.id))),
    },
    {
      label: "Webhook",
      cell: (d) =>
        h(
          "a",
          { href: route("webhooks", d.webhook_id), class: "url" },
          urls.get(d.webhook_id) ?? shortId(d.webhook_id),
        ),
    },
    {
      label: "Event type",
      cell: (d) => h("a", { href: route("events", d.event_id) }, d.event_type),
    },
    { label: "Attempts", cell: (d) => String(d.attempt_count) },
    { label: "Last status", cell: (d) => outcomeBadge(d.last_status, d.last_error_kind) },
    { label: "Dead since", cell: (d) => time(d.updated_at) },
  ];
  if (ctx.can("deliveries:replay")) {
    columns.push({
      label: "Actions",
      cell: (d) =>
        h("button", {
          type: "button",
          onclick: async () => {
            try {
              await api("POST", `/api/v1/deliveries/${encodeURIComponent(d.id)}/retry`);
              ctx.toast("Replayed: sending now.");
            } catch (error) {
              ctx.toast(error.message, "bad");
            }
            await reload();
          },
        }, "Replay"),
    });
  }
  return table(columns, rows.map((d) => ({ value: d, attributes: { "data-delivery": d.id } })), {
    empty: "No dead letters match.",
    caption: "Dead letters",
  });
}
