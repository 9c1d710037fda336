/**
 * Modal dialogs on the native <dialog>: focus moves in and back, Esc closes,
 * and a form inside submits on Enter.
 */
import { h } from "./dom.js";

/**
 * Opens a modal with `content`; `onSubmit(form)` runs when its form is
 * submitted and closes it unless it throws (its message is shown). Resolves
 * when the dialog closes.
 */
export function openDialog(
  { title, content, submitLabel, submitTone = "primary", onSubmit, cancelLabel = "Cancel" },
) {
  const problem = h("p", { class: "error", role: "alert" });
  const submit = submitLabel
    ? h("button", { type: "submit", class: submitTone }, submitLabel)
    : null;
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", { id: "dialog-title" }, title),
    content,
    problem,
    h(
      "div",
      { class: "dialog-actions" },
      h(
        "button",
        { type: "button", class: "quiet", onclick: () => dialog.close() },
        submit ? cancelLabel : "Close",
      ),
      submit,
    ),
  );
  const dialog = h("dialog", { "aria-labelledby": "dialog-title" }, form);
  const opener = document.activeElement;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!onSubmit) return dialog.close();
    problem.textContent = "";
    if (submit) submit.disabled = true;
    try {
      await onSubmit(form);
      dialog.close();
    } catch (error) {
      problem.textContent = error.message;
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  document.body.append(dialog);
  const closed = new Promise((resolve) =>
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve();
    })
  );
  dialog.showModal();
  return closed;
}

/** A yes/no question; resolves true when confirmed. */
export async function confirmAction({ title, message, confirmLabel, tone = "danger" }) {
  let confirmed = false;
  await openDialog({
    title,
    content: h("p", {}, message),
    submitLabel: confirmLabel,
    submitTone: tone,
    onSubmit: () => {
      confirmed = true;
    },
  });
  return confirmed;
}

/** Shows a secret once, selectable, with a reminder that it will not be shown again. */
export function showSecret(title, secret) {
  const field = h("input", {
    type: "text",
    readonly: true,
    value: secret,
    class: "secret",
    "aria-label": "Secret",
    spellcheck: "false",
  });
  const done = openDialog({
    title,
    content: h(
      "div",
      {},
      h("p", {}, "Copy it now: it is shown only this once."),
      field,
    ),
  });
  field.focus();
  field.select();
  return done;
}
