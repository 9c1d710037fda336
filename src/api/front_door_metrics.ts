/**
 * The front door's counters for `/metrics`. They exist (at zero) when the
 * front door is not in the way (`[server] enforce_connection_limits`), so
 * dashboards and alerts need not special-case it.
 */
import { Counter, type MetricFamily } from "../ops/metrics.ts";

export class FrontDoorMetrics {
  readonly accepted = new Counter({
    name: "hookd_api_connections_accepted_total",
    help: "API connections accepted by the front door.",
  });
  readonly refused = new Counter({
    name: "hookd_api_connections_refused_total",
    help: "API connections answered 503 and closed for being over [server] max_connections.",
  });
  readonly timedOut = new Counter({
    name: "hookd_api_connections_timed_out_total",
    help: "API connections closed by a deadline: header_timeout (after a 408) or idle_timeout.",
    labels: [{ name: "deadline", values: ["header", "idle"] }],
  });
  readonly rejected = new Counter({
    name: "hookd_api_requests_rejected_total",
    help: "Requests the front door answered itself with a 4xx, before the API saw them: " +
      "bad_request (400, ambiguous or malformed head), header_timeout (408), " +
      "head_too_large (431).",
    labels: [{ name: "reason", values: ["bad_request", "header_timeout", "head_too_large"] }],
  });

  families(): MetricFamily[] {
    return [this.accepted, this.refused, this.timedOut, this.rejected];
  }
}
