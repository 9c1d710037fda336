/**
 * The filter form of a delivery list (a webhook's history, the dead
 * letters): one control of the view's own first, then event type and a time
 * window. `values()` reads them as the API's query parameters.
 */
import { h } from "./dom.js";
import { fromLocalInput } from "./format.js";

/**
 * @param {{ prefix: string, label: string, first: { label: string, control: HTMLElement } }} options
 *   `first.control` must carry the id `${prefix}-first`.
 */
export function deliveryFilters({ prefix, label, first }) {
  const eventType = h("input", {
    id: `${prefix}-type`,
    name: "event_type",
    type: "text",
    placeholder: "order.created",
  });
  const range = ["since", "until"].map((name) =>
    h("input", { id: `${prefix}-${name}`, name, type: "datetime-local", step: "1" })
  );
  const field = (id, text, control) =>
    h("div", { class: "field" }, h("label", { for: id }, text), control);
  const form = h(
    "form",
    { class: "filters", "aria-label": label },
    field(`${prefix}-first`, first.label, first.control),
    field(`${prefix}-type`, "Event type", eventType),
    field(`${prefix}-since`, "Since", range[0]),
    field(`${prefix}-until`, "Until", range[1]),
    h("button", { type: "submit" }, "Apply"),
  );
  const values = () => ({
    event_type: eventType.value.trim() || undefined,
    since: fromLocalInput(range[0].value),
    until: fromLocalInput(range[1].value),
  });
  return { form, values };
}
