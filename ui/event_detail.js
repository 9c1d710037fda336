/** An event: its data as stored (as text, whatever it holds) and the deliveries it fanned out to. */
import { api } from "./api.js";
import { fields, h, route, table } from "./dom.js";
import { json, shortId, time } from "./format.js";
import { deliveryState, outcomeBadge } from "./states.js";

export function eventLookupView(ctx) {
  const id = h("input", {
    id: "event-id",
    name: "id",
    type: "text",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
  });
  const form = h(
    "form",
    { class: "filters" },
    h("div", { class: "field grow" }, h("label", { for: "event-id" }, "Event id"), id),
    h("button", { type: "submit", class: "primary" }, "Open"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (id.value.trim()) ctx.navigate(route("events", id.value.trim()));
  });
  ctx.main.append(
    h("h1", {}, "Events"),
    h(
      "p",
      { class: "muted" },
      "Open an event by its id (the producer's, or the one hookd answered with) to see its data and deliveries.",
    ),
    form,
  );
  id.focus();
}

export async function eventView(ctx, id) {
  const event = await api("GET", `/api/v1/events/${encodeURIComponent(id)}`);
  if (!ctx.alive()) return;
  ctx.main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/events" }, "Events"), " / ", shortId(event.id)),
    h("h1", {}, "Event ", h("code", {}, event.type)),
    fields([
      ["Id", h("code", {}, event.id)],
      ["Tenant", event.tenant_id],
      ["Occurred", time(event.occurred_at)],
      ["Received", time(event.received_at)],
    ]),
    h("h2", {}, "Deliveries"),
    table(
      [
        {
          label: "Delivery",
          cell: (d) => h("a", { href: route("deliveries", d.id) }, h("code", {}, shortId(d.id))),
        },
        {
          label: "Webhook",
          cell: (d) => h("a", { href: route("webhooks", d.webhook_id) }, shortId(d.webhook_id)),
        },
        { label: "State", cell: (d) => deliveryState(d.state) },
        { label: "Attempts", cell: (d) => String(d.attempt_count) },
        { label: "Last status", cell: (d) => outcomeBadge(d.last_status, d.last_error_kind) },
      ],
      event.deliveries,
      { empty: "No webhook subscribed to this event.", caption: "Deliveries" },
    ),
    h("h2", {}, "Data"),
    h("pre", { class: "payload" }, json(event.data)),
  );
}
