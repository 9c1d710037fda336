/**
 * The webhooks: state, success rate and last status over the last hour
 * (`/api/v1/stats/webhooks`), the breaker once the API reports one, and the
 * quick actions. The figures refresh every few seconds.
 */
import { api, query } from "./api.js";
import { badge, h, route, table } from "./dom.js";
import { ago, percent } from "./format.js";
import { circuitState, outcomeBadge, webhookState } from "./states.js";
import { openWebhookForm, setWebhookState } from "./webhook_forms.js";

const REFRESH_MS = 5000;

export async function webhooksView(ctx) {
  const heading = h(
    "div",
    { class: "heading" },
    h("h1", {}, "Webhooks"),
    ctx.can("webhooks:manage")
      ? h("button", {
        type: "button",
        class: "primary",
        onclick: () =>
          openWebhookForm(ctx, null, (created) => ctx.navigate(route("webhooks", created.id))),
      }, "New webhook")
      : null,
  );
  ctx.main.append(heading);
  if (!ctx.can("webhooks:read")) {
    ctx.main.append(
      h("p", { class: "empty" }, "This key may not list webhooks (it lacks webhooks:read)."),
      h(
        "p",
        {},
        h("a", { href: "#/dead-letters" }, "Dead letters"),
        " · ",
        h("a", { href: "#/events" }, "Events"),
      ),
    );
    return;
  }
  const note = h("p", { class: "muted window-note" });
  const holder = h("div", {});
  ctx.main.append(note, holder);

  const load = async () => {
    const webhooks = [];
    let cursor;
    // Every page: the list is a few hundred webhooks at most in practice, and the figures need all.
    do {
      const page = await api("GET", `/api/v1/webhooks${query({ limit: 1000, cursor })}`);
      webhooks.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor && ctx.alive());
    const stats = ctx.can("deliveries:read") ? await api("GET", "/api/v1/stats/webhooks") : null;
    if (!ctx.alive()) return;
    const byId = new Map((stats?.data ?? []).map((s) => [s.webhook_id, s]));
    note.textContent = stats === null
      ? "Success rates need the deliveries:read scope."
      : stats.complete
      ? "Success rate and last status over the last hour."
      : `Success rate and last status since ${
        new Date(stats.since).toLocaleTimeString()
      } (the newest attempts only).`;
    holder.replaceChildren(listTable(ctx, webhooks, byId));
  };
  await load();
  ctx.every(REFRESH_MS, load);
}

function listTable(ctx, webhooks, stats) {
  const columns = [
    {
      label: "Webhook",
      cell: (w) =>
        h(
          "div",
          { class: "webhook-name" },
          h("a", { href: route("webhooks", w.id), class: "url" }, w.url),
          w.description ? h("span", { class: "muted" }, w.description) : null,
          h("span", { class: "muted small" }, w.event_types.join(", ")),
        ),
    },
    { label: "State", cell: (w) => webhookState(w) },
    {
      label: "Success (1 h)",
      cell: (w) => {
        const s = stats.get(w.id);
        if (!s) return h("span", { class: "muted" }, "no attempts");
        const tone = s.failed === 0 ? "good" : s.succeeded === 0 ? "bad" : "warn";
        return h(
          "span",
          {},
          badge(percent(s.succeeded, s.attempts), tone),
          h("span", { class: "muted small" }, ` of ${s.attempts}`),
        );
      },
    },
    {
      label: "Last status",
      cell: (w) => {
        const s = stats.get(w.id);
        if (!s) return h("span", { class: "muted" }, "—");
        return h(
          "span",
          {},
          outcomeBadge(s.last_status, s.last_error_kind),
          h("span", { class: "muted small" }, ` ${ago(s.last_attempt_at)}`),
        );
      },
    },
    {
      label: "Breaker",
      cell: (w) => {
        const circuit = circuitState(w);
        const concurrency = typeof w.effective_concurrency === "number"
          ? h("span", { class: "muted small" }, ` concurrency ${w.effective_concurrency}`)
          : null;
        return circuit || concurrency
          ? h("span", {}, circuit, concurrency)
          : h("span", { class: "muted" }, "—");
      },
    },
  ];
  if (ctx.can("webhooks:manage")) {
    columns.push({
      label: "Actions",
      cell: (w) => {
        const [label, state] = w.state === "enabled"
          ? ["Pause", "paused"]
          : [w.state === "paused" ? "Resume" : "Enable", "enabled"];
        return h(
          "div",
          { class: "actions" },
          h("button", { type: "button", onclick: () => setWebhookState(ctx, w, state) }, label),
        );
      },
    });
  }
  return table(
    columns,
    webhooks.map((w) => ({ value: w, attributes: { "data-webhook": w.id } })),
    { empty: "No webhooks yet.", caption: "Webhooks" },
  );
}
