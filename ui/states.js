/** How webhook and delivery states, breaker states and outcomes look. */
import { badge, h } from "./dom.js";
import { outcome } from "./format.js";

const WEBHOOK_STATES = {
  enabled: ["active", "good"],
  paused: ["paused", "warn"],
  disabled: ["disabled", "off"],
};

/** The webhook's state, with why it was disabled when the API says. */
export function webhookState(webhook) {
  const [label, tone] = WEBHOOK_STATES[webhook.state] ?? [webhook.state, "off"];
  return h(
    "span",
    { class: "state" },
    badge(label, tone),
    webhook.state === "disabled" && webhook.disabled_reason
      ? h("span", { class: "reason" }, webhook.disabled_reason)
      : null,
  );
}

const CIRCUIT_TONES = { closed: "good", half_open: "warn", "half-open": "warn", open: "bad" };

/**
 * The circuit breaker's state, once the API has one (`circuit`); null
 * before, so the column stays empty rather than guessing.
 */
export function circuitState(webhook) {
  const circuit = webhook.circuit;
  if (!circuit || typeof circuit !== "object" || !circuit.state) return null;
  return badge(
    `circuit ${String(circuit.state).replace("_", "-")}`,
    CIRCUIT_TONES[circuit.state] ?? "info",
  );
}

const DELIVERY_TONES = {
  succeeded: "good",
  pending: "info",
  sending: "info",
  held: "warn",
  failed: "bad",
  dead: "bad",
  cancelled: "off",
};

export function deliveryState(state) {
  return badge(state, DELIVERY_TONES[state] ?? "off");
}

/** A status code or error kind, coloured by what it means. */
export function outcomeBadge(status, errorKind) {
  const text = outcome(status, errorKind);
  if (text === "—") return h("span", { class: "muted" }, text);
  const tone = errorKind ? "bad" : status >= 200 && status < 300 ? "good" : "info";
  return badge(text, tone);
}

export const DELIVERY_STATES = [
  "pending",
  "sending",
  "succeeded",
  "failed",
  "dead",
  "cancelled",
  "held",
];
