/**
 * One delivery and every attempt at it: what was sent (request headers) and
 * what came back (status, latency, response headers, the body excerpt).
 * Receivers' answers are shown as text, whatever they contain.
 */
import { api } from "./api.js";
import { fields, h, headerTable, route } from "./dom.js";
import { ago, duration, shortId, time } from "./format.js";
import { deliveryState, outcomeBadge } from "./states.js";

const RETRYABLE = new Set(["failed", "dead", "pending"]);

export async function deliveryView(ctx, id) {
  const delivery = await api("GET", `/api/v1/deliveries/${encodeURIComponent(id)}`);
  if (!ctx.alive()) return;
  const retry = ctx.can("deliveries:replay") && RETRYABLE.has(delivery.state)
    ? h("button", {
      type: "button",
      class: "primary",
      onclick: async () => {
        try {
          await api("POST", `/api/v1/deliveries/${encodeURIComponent(id)}/retry`);
          ctx.toast("Retry scheduled: sending now.");
          ctx.rerender();
        } catch (error) {
          ctx.toast(error.message, "bad");
        }
      },
    }, delivery.state === "dead" ? "Replay" : "Retry now")
    : null;
  ctx.main.append(
    h(
      "p",
      { class: "crumbs" },
      h(
        "a",
        { href: route("webhooks", delivery.webhook_id) },
        `Webhook ${shortId(delivery.webhook_id)}`,
      ),
      " / delivery",
    ),
    h(
      "div",
      { class: "heading" },
      h("h1", {}, "Delivery ", h("code", {}, shortId(delivery.id))),
      retry,
    ),
    fields([
      ["State", deliveryState(delivery.state)],
      [
        "Event",
        h(
          "a",
          { href: route("events", delivery.event_id) },
          `${delivery.event_type} · ${shortId(delivery.event_id)}`,
        ),
      ],
      ["Attempts", String(delivery.attempt_count)],
      [
        "Next attempt",
        delivery.next_attempt_at
          ? `${time(delivery.next_attempt_at)} (${ago(delivery.next_attempt_at)})`
          : null,
      ],
      ["Created", time(delivery.created_at)],
      ["Id", h("code", {}, delivery.id)],
    ]),
    h("h2", {}, "Attempts"),
  );
  if (delivery.attempts.length === 0) {
    ctx.main.append(h("p", { class: "empty" }, "No attempt yet."));
    return;
  }
  // Newest first: the one being debugged is usually the last.
  for (const attempt of [...delivery.attempts].reverse()) ctx.main.append(attemptCard(attempt));
}

function attemptCard(attempt) {
  return h(
    "section",
    {
      class: "attempt card",
      "aria-label": `Attempt ${attempt.number}`,
      "data-attempt": attempt.number,
    },
    h(
      "h3",
      {},
      `Attempt #${attempt.number} `,
      outcomeBadge(attempt.response_status, attempt.error_kind),
      h(
        "span",
        { class: "muted small" },
        ` ${duration(attempt.duration_ms)} · ${time(attempt.started_at)} · ${attempt.trigger}`,
      ),
    ),
    attempt.error_message
      ? h("p", { class: "error-detail" }, `${attempt.error_kind}: ${attempt.error_message}`)
      : null,
    h(
      "div",
      { class: "two" },
      headerTable(attempt.request_headers, "Request headers"),
      attempt.response_headers === null
        ? h("p", { class: "muted" }, "No response.")
        : headerTable(attempt.response_headers, "Response headers"),
    ),
    attempt.response_body === null || attempt.response_body === ""
      ? h("p", { class: "muted small" }, "No response body.")
      : h(
        "figure",
        { class: "body" },
        h("figcaption", {}, "Response body (excerpt)"),
        h("pre", { class: "response-body" }, attempt.response_body),
      ),
  );
}
