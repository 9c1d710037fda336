/**
 * `hookd replay`: puts the dead deliveries that match a filter back in the
 * queue, due now, through `POST /api/v1/dead-letters/replay`. The daemon
 * replays everything that matches in one request (in small transactions of
 * its own, with no cap), so there is nothing to page here; a long replay is
 * one long wait, shown as a progress line on a terminal.
 */
import { ApiClient } from "./api_client.ts";
import { API_HELP, API_OPTIONS, apiTarget } from "./api_target.ts";
import type { Command } from "./command.ts";
import { UsageError } from "./errors.ts";
import { EXIT, EXIT_CODES_HELP } from "./exit_codes.ts";
import { withProgress } from "./progress.ts";
import { jsonLine, noOperands } from "./_util.ts";

const NAME = "replay";

/** Replay filter field → the flag that sets it. */
const FLAGS = {
  webhook_id: "--webhook",
  event_type: "--event-type",
  since: "--since",
  until: "--until",
} as const;

export const replayCommand: Command = {
  name: NAME,
  summary: "replay dead deliveries matching a filter",
  usage: "(FILTER... | --all) [options]",
  description: "Puts every dead delivery that matches all the filters given (--webhook, " +
    "--event-type, --since, --until) back in the queue, due now; each is then sent again " +
    "under its webhook's policy. Without a filter, --all is required: replaying every dead " +
    "letter of every webhook should be a decision. Interrupting hookd replay does not stop " +
    "a replay the daemon has begun.",
  options: [
    { name: "webhook", value: "ID", help: "only this webhook's dead deliveries" },
    { name: "event-type", value: "TYPE", help: "only deliveries of this event type" },
    {
      name: "since",
      value: "RFC3339",
      help: "only deliveries created at or after then (2026-01-22T06:40:00Z)",
    },
    { name: "until", value: "RFC3339", help: "only deliveries created before then" },
    { name: "all", help: "replay every dead delivery (when no filter is given)" },
    { name: "json", help: 'print {"replayed": N} instead of a sentence' },
    ...API_OPTIONS,
  ],
  footer: `${API_HELP}\n\n${EXIT_CODES_HELP}`,
  async run({ args, io }) {
    noOperands(args, NAME);
    const filter = {
      webhook_id: args.string("webhook"),
      event_type: args.string("event-type"),
      since: args.string("since"),
      until: args.string("until"),
    };
    const filtered = Object.values(filter).some((value) => value !== undefined);
    if (!filtered && !args.flag("all")) {
      throw new UsageError(
        "replay needs a filter (--webhook, --event-type, --since, --until), " +
          "or --all to replay every dead delivery",
        NAME,
      );
    }
    if (filtered && args.flag("all")) {
      throw new UsageError("--all replays everything; leave it out when giving a filter", NAME);
    }
    const client = new ApiClient(apiTarget(args, io.env, NAME), io.fetch, NAME);
    const { replayed } = await withProgress(
      client.request<{ replayed: number }>("POST", "api/v1/dead-letters/replay", {
        body: filter,
        flags: FLAGS,
      }),
      {
        label: "hookd: replaying dead deliveries…",
        clock: io.clock,
        write: io.stderr,
        enabled: io.stderrIsTerminal,
      },
    );
    io.stdout(
      args.flag("json")
        ? jsonLine({ replayed })
        : `replayed ${replayed} dead ${replayed === 1 ? "delivery" : "deliveries"}\n`,
    );
    return EXIT.ok;
  },
};
