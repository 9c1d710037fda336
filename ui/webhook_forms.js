/** Creating and editing a webhook, changing its state, rotating its secret. */
import { api } from "./api.js";
import { confirmAction, openDialog, showSecret } from "./dialog.js";
import { h } from "./dom.js";

function field(id, label, input, help) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    help ? h("p", { class: "muted small", id: `${id}-help` }, help) : null,
  );
}

function patterns(text) {
  return text.split(/[\s,]+/).map((p) => p.trim()).filter((p) => p !== "");
}

/**
 * The create form (`webhook` null) or the edit form. An edit sends only the
 * fields that changed. `saved` gets the API's answer.
 */
export function openWebhookForm(ctx, webhook, saved) {
  const url = h("input", {
    id: "wh-url",
    name: "url",
    type: "url",
    required: true,
    value: webhook?.url ?? "",
    placeholder: "https://example.com/hooks",
    autocomplete: "off",
  });
  const types = h("input", {
    id: "wh-types",
    name: "event_types",
    type: "text",
    value: (webhook?.event_types ?? ["*"]).join(", "),
    "aria-describedby": "wh-types-help",
  });
  const description = h("input", {
    id: "wh-description",
    name: "description",
    type: "text",
    value: webhook?.description ?? "",
  });
  const policy = h("input", {
    id: "wh-policy",
    name: "policy",
    type: "text",
    value: webhook?.policy ?? "default",
    "aria-describedby": "wh-policy-help",
  });
  const content = h(
    "div",
    {},
    field("wh-url", "URL", url),
    field(
      "wh-types",
      "Event types",
      types,
      "Patterns, comma-separated: order.created, invoice.*, or * for all.",
    ),
    field("wh-description", "Description", description),
    field("wh-policy", "Retry policy", policy, "A policy name from the daemon's configuration."),
  );
  const done = openDialog({
    title: webhook ? "Edit webhook" : "New webhook",
    content,
    submitLabel: webhook ? "Save" : "Create",
    onSubmit: async () => {
      const values = {
        url: url.value.trim(),
        event_types: patterns(types.value),
        description: description.value,
        policy: policy.value.trim() || "default",
      };
      if (webhook === null) {
        const created = await api("POST", "/api/v1/webhooks", { body: values });
        ctx.toast("Webhook created.");
        // After this dialog closes, show the secret in its own.
        queueMicrotask(async () => {
          await done;
          if (created.secret) await showSecret("Signing secret", created.secret);
          saved(created);
        });
        return;
      }
      const changed = Object.fromEntries(
        Object.entries(values).filter(([name, value]) =>
          JSON.stringify(value) !== JSON.stringify(webhook[name])
        ),
      );
      if (Object.keys(changed).length === 0) return;
      saved(
        await api("PATCH", `/api/v1/webhooks/${encodeURIComponent(webhook.id)}`, { body: changed }),
      );
      ctx.toast("Webhook saved.");
    },
  });
  url.focus();
  return done;
}

const STATE_CHANGES = {
  paused: { done: "Paused: deliveries are held until you resume." },
  enabled: { done: "Active: deliveries resume, held ones included." },
  disabled: { done: "Disabled: new events skip it; pending deliveries are held." },
};

/** Pauses, resumes, enables or (after a confirmation) disables a webhook, then re-renders. */
export async function setWebhookState(ctx, webhook, state) {
  if (state === "disabled") {
    const sure = await confirmAction({
      title: "Disable this webhook?",
      message:
        "Events that arrive while it is disabled are never delivered to it. What is pending " +
        "is held until you enable it again. Pause instead to keep every event.",
      confirmLabel: "Disable",
    });
    if (!sure) return;
  }
  try {
    await api("PATCH", `/api/v1/webhooks/${encodeURIComponent(webhook.id)}`, { body: { state } });
    ctx.toast(STATE_CHANGES[state].done);
  } catch (error) {
    ctx.toast(error.message, "bad");
  }
  ctx.rerender();
}

/** Drops what a paused or disabled webhook holds, after a confirmation. */
export async function cancelHeld(ctx, webhook) {
  const sure = await confirmAction({
    title: "Cancel the held deliveries?",
    message: "Every delivery this webhook holds is cancelled and never sent, not even by a replay.",
    confirmLabel: "Cancel them",
  });
  if (!sure) return;
  try {
    const { cancelled } = await api(
      "POST",
      `/api/v1/webhooks/${encodeURIComponent(webhook.id)}/cancel-held`,
    );
    ctx.toast(`Cancelled ${cancelled} held ${cancelled === 1 ? "delivery" : "deliveries"}.`);
  } catch (error) {
    ctx.toast(error.message, "bad");
  }
  ctx.rerender();
}

export async function rotateSecret(ctx, webhook) {
  const sure = await confirmAction({
    title: "Rotate the signing secret?",
    message:
      "A new secret signs from now on; the old one also signs for 24 hours, so receivers can switch over.",
    confirmLabel: "Rotate",
    tone: "primary",
  });
  if (!sure) return;
  try {
    const rotated = await api(
      "POST",
      `/api/v1/webhooks/${encodeURIComponent(webhook.id)}/rotate-secret`,
    );
    // An ed25519 key's private half is never shown; its public half is on the page.
    if (rotated.secret === null) {
      ctx.toast("New ed25519 key; receivers find it in the webhook's jwks.json.");
      ctx.rerender();
    } else await showSecret("New signing secret", rotated.secret);
  } catch (error) {
    ctx.toast(error.message, "bad");
  }
}
