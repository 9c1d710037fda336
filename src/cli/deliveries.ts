/**
 * `hookd deliveries`: lists deliveries, oldest first, as a table or as JSON
 * lines. The API lists deliveries per webhook (`/api/v1/webhooks/{id}/
 * deliveries`, any state) and dead letters across webhooks
 * (`/api/v1/dead-letters`); so `--webhook` is needed unless `--state dead`.
 */
import { ApiClient } from "./api_client.ts";
import { API_HELP, API_OPTIONS, apiTarget } from "./api_target.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP } from "./exit_codes.ts";
import { type Column, formatTable } from "./table.ts";
import { jsonLine, limitOption, noOperands } from "./_util.ts";

const NAME = "deliveries";
const DEFAULT_LIMIT = 100;

/** A delivery as the API renders it (the fields this command shows). */
export interface Delivery {
  readonly id: string;
  readonly webhook_id: string;
  readonly event_type: string;
  readonly state: string;
  readonly attempt_count: number;
  readonly last_status: number | null;
  readonly last_error_kind: string | null;
  readonly updated_at: string;
}

/** Query parameter → the flag that sets it. */
const FLAGS = {
  webhook_id: "--webhook",
  state: "--state",
  event_type: "--event-type",
  since: "--since",
  until: "--until",
} as const;

function columns(withWebhook: boolean): Column<Delivery>[] {
  return [
    { header: "id", cell: (d) => d.id },
    ...(withWebhook ? [{ header: "webhook", cell: (d: Delivery) => d.webhook_id }] : []),
    { header: "state", cell: (d) => d.state },
    { header: "event type", cell: (d) => d.event_type },
    { header: "attempts", cell: (d) => String(d.attempt_count) },
    // The receiver's status, or why there was none (timeout, dns, blocked, ...).
    { header: "last status", cell: (d) => String(d.last_status ?? d.last_error_kind ?? "-") },
    { header: "updated", cell: (d) => d.updated_at },
  ];
}

export const deliveriesCommand: Command = {
  name: NAME,
  summary: "list deliveries: a webhook's history, or dead letters",
  usage: "(--webhook ID | --state dead) [options]",
  description: "Lists deliveries oldest first: one webhook's (--webhook ID, in any state), " +
    "or the dead letters of every webhook (--state dead). Filters combine. At most --limit " +
    "are printed; a note on stderr says when more match.",
  options: [
    { name: "webhook", value: "ID", help: "the webhook whose deliveries to list" },
    {
      name: "state",
      value: "STATE",
      help: "only deliveries in this state (pending, failed, dead, ...)",
    },
    { name: "event-type", value: "TYPE", help: "only deliveries of this event type" },
    {
      name: "since",
      value: "RFC3339",
      help: "only deliveries created at or after then (2026-01-22T06:40:00Z)",
    },
    { name: "until", value: "RFC3339", help: "only deliveries created before then" },
    { name: "limit", value: "N", help: `print at most N deliveries (default ${DEFAULT_LIMIT})` },
    { name: "json", help: "print one JSON object per line, as the API renders it" },
    ...API_OPTIONS,
  ],
  footer: `${API_HELP}\n\n${EXIT_CODES_HELP}`,
  async run({ args, io }) {
    noOperands(args, NAME);
    const limit = limitOption(args, NAME, DEFAULT_LIMIT);
    const webhook = args.string("webhook");
    const state = args.string("state");
    if (webhook === undefined && state !== "dead") {
      throw new UsageError(
        "deliveries needs --webhook ID (one webhook's history), " +
          "or --state dead (the dead letters of every webhook)",
        NAME,
      );
    }
    const filter = {
      event_type: args.string("event-type"),
      since: args.string("since"),
      until: args.string("until"),
    };
    // A webhook's history answers 404 for an unknown id, where the dead-letter
    // list would quietly answer nothing: prefer it whenever there is an id.
    const [path, query] = webhook !== undefined
      ? [`api/v1/webhooks/${encodeURIComponent(webhook)}/deliveries`, { ...filter, state }]
      : ["api/v1/dead-letters", filter];
    const client = new ApiClient(apiTarget(args, io.env, NAME), io.fetch, NAME);
    const json = args.flag("json");
    const rows: Delivery[] = [];
    const { more } = await client.list<Delivery>(path, { query, flags: FLAGS, limit }, (page) => {
      if (json) io.stdout(page.map(jsonLine).join(""));
      else rows.push(...page);
    });
    if (!json) io.stdout(formatTable(columns(webhook === undefined), rows));
    if (rows.length === 0 && !json) io.stderr("hookd: no deliveries match\n");
    if (more) io.stderr(`hookd: more deliveries match than the ${limit} shown; see --limit\n`);
    return EXIT.ok;
  },
};
