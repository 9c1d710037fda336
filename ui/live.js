/**
 * Throughput and failures as they happen: the daemon's running totals
 * (`/api/v1/stats/live`) read every few seconds, turned into rates here.
 */
import { api } from "./api.js";
import { h, svg } from "./dom.js";
import { rate } from "./format.js";

const POLL_MS = 3000;
/** Readings kept for the chart: three minutes. */
const KEEP = 60;

export async function liveView(ctx) {
  ctx.main.append(
    h("h1", {}, "Live"),
    h("p", { class: "muted" }, `This daemon's figures, every ${POLL_MS / 1000} s.`),
  );
  if (!ctx.can("deliveries:read")) {
    ctx.main.append(
      h("p", { class: "empty" }, "This key may not read deliveries (it lacks deliveries:read)."),
    );
    return;
  }
  const tiles = h("div", { class: "tiles" });
  const chart = h("figure", { class: "chart" });
  ctx.main.append(tiles, chart);
  const readings = [];
  const rates = [];
  const poll = async () => {
    const reading = await api("GET", "/api/v1/stats/live");
    if (!ctx.alive()) return;
    const previous = readings.at(-1);
    readings.push(reading);
    if (readings.length > 2) readings.shift();
    if (previous) {
      const seconds = (Date.parse(reading.at) - Date.parse(previous.at)) / 1000;
      const per = (name) => seconds > 0 ? Math.max(0, reading[name] - previous[name]) / seconds : 0;
      rates.push({
        events: per("events_ingested"),
        attempts: per("attempts"),
        failed: per("attempts_failed"),
      });
      if (rates.length > KEEP) rates.shift();
    }
    const latest = rates.at(-1);
    tiles.replaceChildren(
      tile("Events in", latest ? `${rate(latest.events)}/s` : "…", "events-rate"),
      tile("Attempts", latest ? `${rate(latest.attempts)}/s` : "…", "attempts-rate"),
      tile(
        "Failed attempts",
        latest ? `${rate(latest.failed)}/s` : "…",
        "failed-rate",
        latest?.failed > 0 ? "bad" : "",
      ),
      tile("Pending", String(reading.pending), "pending"),
      tile("Held (paused)", String(reading.held), "held"),
      tile("Dead", String(reading.dead), "dead", reading.dead > 0 ? "bad" : ""),
    );
    chart.replaceChildren(
      lineChart(rates),
      h(
        "figcaption",
        { class: "muted small" },
        "Attempts/s (line) and failed attempts/s (red), last 3 minutes",
      ),
    );
  };
  await poll();
  ctx.every(POLL_MS, poll);
}

function tile(label, value, name, tone = "") {
  return h(
    "div",
    { class: `tile ${tone}`, "data-tile": name },
    h("span", { class: "tile-label" }, label),
    h("span", { class: "tile-value" }, value),
  );
}

function lineChart(rates) {
  const width = 600;
  const height = 140;
  const top = Math.max(1, ...rates.map((r) => Math.max(r.attempts, r.failed)));
  const points = (key) =>
    rates.map((r, i) => {
      const x = rates.length === 1 ? width : (i / (KEEP - 1)) * width;
      const y = height - 4 - (r[key] / top) * (height - 8);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    }).join(" ");
  return svg(
    "svg",
    {
      viewBox: `0 0 ${width} ${height}`,
      preserveAspectRatio: "none",
      class: "spark",
      role: "img",
      "aria-label": `Peak ${rate(top)} attempts per second`,
    },
    svg("line", { x1: 0, y1: height - 4, x2: width, y2: height - 4, class: "axis" }),
    svg("polyline", { points: points("attempts"), class: "series-attempts" }),
    svg("polyline", { points: points("failed"), class: "series-failed" }),
  );
}
