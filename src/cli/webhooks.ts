/** `hookd webhooks`: lists webhooks, oldest first, as a table or as JSON lines. */
import { ApiClient } from "./api_client.ts";
import { API_HELP, API_OPTIONS, apiTarget } from "./api_target.ts";
import type { Command } from "./command.ts";
import { EXIT, EXIT_CODES_HELP } from "./exit_codes.ts";
import { type Column, formatTable } from "./table.ts";
import { jsonLine, limitOption, noOperands } from "./_util.ts";

const NAME = "webhooks";
const DEFAULT_LIMIT = 100;

/** A webhook as the API renders it (the fields this command shows). */
export interface Webhook {
  readonly id: string;
  readonly url: string;
  readonly state: string;
  readonly event_types: string[];
  readonly policy: string;
  readonly profile: string;
}

/** Query parameter → the flag that sets it. */
const FLAGS = { state: "--state", tenant_id: "--tenant" } as const;

const COLUMNS: Column<Webhook>[] = [
  { header: "id", cell: (w) => w.id },
  { header: "state", cell: (w) => w.state },
  { header: "policy", cell: (w) => w.policy },
  { header: "profile", cell: (w) => w.profile },
  { header: "event types", cell: (w) => w.event_types.join(",") },
  { header: "url", cell: (w) => w.url },
];

export const webhooksCommand: Command = {
  name: NAME,
  summary: "list webhooks",
  usage: "[options]",
  description: "Lists webhooks oldest first. At most --limit are printed; a note on stderr " +
    "says when more match. The key needs the webhooks:read scope (webhooks:manage implies it).",
  options: [
    {
      name: "state",
      value: "STATE",
      help: "only webhooks in this state: enabled, paused or disabled",
    },
    { name: "tenant", value: "ID", help: "only this tenant's webhooks" },
    { name: "limit", value: "N", help: `print at most N webhooks (default ${DEFAULT_LIMIT})` },
    { name: "json", help: "print one JSON object per line, as the API renders it" },
    ...API_OPTIONS,
  ],
  footer: `${API_HELP}\n\n${EXIT_CODES_HELP}`,
  async run({ args, io }) {
    noOperands(args, NAME);
    const limit = limitOption(args, NAME, DEFAULT_LIMIT);
    const client = new ApiClient(apiTarget(args, io.env, NAME), io.fetch, NAME);
    const json = args.flag("json");
    const rows: Webhook[] = [];
    const query = { state: args.string("state"), tenant_id: args.string("tenant") };
    const { more } = await client.list<Webhook>(
      "api/v1/webhooks",
      { query, flags: FLAGS, limit },
      (page) => {
        if (json) io.stdout(page.map(jsonLine).join(""));
        else rows.push(...page);
      },
    );
    if (!json) io.stdout(formatTable(COLUMNS, rows));
    if (rows.length === 0 && !json) io.stderr("hookd: no webhooks match\n");
    if (more) io.stderr(`hookd: more webhooks match than the ${limit} shown; see --limit\n`);
    return EXIT.ok;
  },
};
