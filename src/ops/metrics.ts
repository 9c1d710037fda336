/** Prometheus text exposition (format 0.0.4) of hookd's counters and gauges. */

export interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly value: number;
}

export function renderPrometheus(metrics: readonly Metric[]): string {
  let out = "";
  for (const m of metrics) {
    out += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name} ${
      Number.isFinite(m.value) ? m.value : 0
    }\n`;
  }
  return out;
}
