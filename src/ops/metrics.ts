/**
 * hookd's metrics: counters, gauges and histograms with fixed buckets, and
 * their Prometheus text exposition (format 0.0.4).
 *
 * Labels are declared with every value they may take, so a family's series
 * are bounded and allocated up front: an observation is a couple of `Map`
 * lookups and array writes, never an allocation or a string, and a value
 * outside the declared set is a bug that throws (no per-event or per-webhook
 * series can creep in). Two labels per family are all hookd needs; a third
 * would be a change here.
 */

/** A label and every value it may take. */
export interface LabelSpec {
  readonly name: string;
  readonly values: readonly string[];
}

interface FamilyOptions {
  /** `hookd_*`, with the unit and `_total` for counters, per Prometheus conventions. */
  readonly name: string;
  readonly help: string;
  readonly labels?: readonly LabelSpec[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** What every family shares: its name and the index of each label combination. */
export abstract class MetricFamily {
  readonly name: string;
  readonly help: string;
  abstract readonly type: "counter" | "gauge" | "histogram";
  readonly labels: readonly LabelSpec[];
  /** One entry per label combination, in declaration order. */
  protected readonly series: number;
  readonly #indexes: readonly ReadonlyMap<string, number>[];
  /** Each combination's label text, `{a="x",b="y"}` or "" (built once, for rendering). */
  protected readonly labelText: readonly string[];
  /** Each combination's labels by name, for reading totals back (`ValueFamily.sum`). */
  protected readonly labelValues: readonly Readonly<Record<string, string>>[];

  constructor(options: FamilyOptions) {
    const { name, help, labels = [] } = options;
    if (!NAME.test(name)) throw new RangeError(`Cannot declare metric "${name}": invalid name`);
    if (labels.length > 2) {
      throw new RangeError(
        `Cannot declare metric "${name}": at most 2 labels, got ${labels.length}`,
      );
    }
    for (const label of labels) {
      if (!LABEL.test(label.name) || label.name === "le" || label.values.length === 0) {
        throw new RangeError(
          `Cannot declare metric "${name}": label "${label.name}" needs a valid name and values`,
        );
      }
    }
    this.name = name;
    this.help = help;
    this.labels = labels;
    this.#indexes = labels.map((l) => new Map(l.values.map((v, i) => [v, i])));
    this.series = labels.reduce((n, l) => n * l.values.length, 1);
    const text: string[] = [];
    const byName: Record<string, string>[] = [];
    for (let s = 0; s < this.series; s++) {
      let rest = s;
      const pairs: string[] = [];
      const named: Record<string, string> = {};
      for (let l = labels.length - 1; l >= 0; l--) {
        const values = labels[l]!.values;
        const value = values[rest % values.length]!;
        pairs.unshift(`${labels[l]!.name}="${escapeLabelValue(value)}"`);
        named[labels[l]!.name] = value;
        rest = Math.floor(rest / values.length);
      }
      text.push(pairs.join(","));
      byName.push(named);
    }
    this.labelText = text;
    this.labelValues = byName;
  }

  /** The series of these label values; throws for a value not declared. */
  protected seriesOf(a: string | undefined, b: string | undefined): number {
    const n = this.#indexes.length;
    if (n === 0) return a === undefined ? 0 : this.#unknown(a, b);
    const first = this.#indexes[0]!.get(a!);
    if (first === undefined || (n === 1 && b !== undefined)) return this.#unknown(a, b);
    if (n === 1) return first;
    const second = this.#indexes[1]!.get(b!);
    if (second === undefined) return this.#unknown(a, b);
    return first * this.labels[1]!.values.length + second;
  }

  #unknown(a: string | undefined, b: string | undefined): never {
    throw new RangeError(
      `Cannot record ${this.name}: labels ${
        JSON.stringify([a, b].filter((v) => v !== undefined))
      } ` +
        `are not among the declared ${JSON.stringify(this.labels.map((l) => l.values))}`,
    );
  }

  /** The family's samples, Prometheus text. */
  abstract render(): string;

  protected header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
  }

  protected sample(suffix: string, series: number, value: number, extra = ""): string {
    const labels = this.labelText[series]!;
    const all = labels && extra ? `${labels},${extra}` : labels || extra;
    return `${this.name}${suffix}${all ? `{${all}}` : ""} ${formatValue(value)}\n`;
  }
}

/** A family with one number per series: the storage and rendering counters and gauges share. */
export abstract class ValueFamily extends MetricFamily {
  protected readonly values: Float64Array;

  constructor(options: FamilyOptions) {
    super(options);
    this.values = new Float64Array(this.series);
  }

  /** Sets the series of these label values (a counter: its total, kept elsewhere). */
  set(value: number, a?: string, b?: string): void {
    this.values[this.seriesOf(a, b)] = value;
  }

  get(a?: string, b?: string): number {
    return this.values[this.seriesOf(a, b)]!;
  }

  /** The sum of every series whose labels include `where` (all series when it is empty). */
  sum(where: Readonly<Record<string, string>> = {}): number {
    const wanted = Object.entries(where);
    let total = 0;
    for (let s = 0; s < this.series; s++) {
      if (wanted.every(([name, value]) => this.labelValues[s]![name] === value)) {
        total += this.values[s]!;
      }
    }
    return total;
  }

  render(): string {
    let out = this.header();
    for (let s = 0; s < this.series; s++) out += this.sample("", s, this.values[s]!);
    return out;
  }
}

/** A total that only goes up (restarts reset it; Prometheus copes). */
export class Counter extends ValueFamily {
  readonly type = "counter" as const;

  /** Adds 1 to the series of these label values (none for an unlabelled counter). */
  inc(a?: string, b?: string): void {
    this.values[this.seriesOf(a, b)]! += 1;
  }

  /** Adds `by` (not negative) to the series of these label values. */
  add(by: number, a?: string, b?: string): void {
    this.values[this.seriesOf(a, b)]! += by;
  }
}

/** A value that goes up and down, usually set at scrape time. */
export class Gauge extends ValueFamily {
  readonly type = "gauge" as const;
}

/** Observations counted into fixed buckets (upper bounds, inclusive), with their sum. */
export class Histogram extends MetricFamily {
  readonly type = "histogram" as const;
  readonly buckets: readonly number[];
  /** Per series, per bucket plus +Inf: observations in that bucket alone (cumulated when rendered). */
  readonly #counts: Float64Array;
  readonly #sums: Float64Array;

  constructor(options: FamilyOptions & { readonly buckets: readonly number[] }) {
    super(options);
    const { buckets } = options;
    if (
      buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || b <= buckets[i - 1]!)
    ) {
      throw new RangeError(
        `Cannot declare histogram "${options.name}": buckets must be finite and ascending, ` +
          `got ${JSON.stringify(buckets)}`,
      );
    }
    this.buckets = buckets;
    this.#counts = new Float64Array(this.series * (buckets.length + 1));
    this.#sums = new Float64Array(this.series);
  }

  observe(value: number, a?: string, b?: string): void {
    const series = this.seriesOf(a, b);
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    this.#counts[series * (buckets.length + 1) + i]! += 1;
    this.#sums[series]! += value;
  }

  /** Observations so far in the series of these label values. */
  count(a?: string, b?: string): number {
    const width = this.buckets.length + 1;
    const start = this.seriesOf(a, b) * width;
    let n = 0;
    for (let i = start; i < start + width; i++) n += this.#counts[i]!;
    return n;
  }

  render(): string {
    let out = this.header();
    const width = this.buckets.length + 1;
    for (let s = 0; s < this.series; s++) {
      let cumulative = 0;
      for (let i = 0; i < width; i++) {
        cumulative += this.#counts[s * width + i]!;
        const le = i < this.buckets.length ? formatValue(this.buckets[i]!) : "+Inf";
        out += this.sample("_bucket", s, cumulative, `le="${le}"`);
      }
      out += this.sample("_sum", s, this.#sums[s]!);
      out += this.sample("_count", s, cumulative);
    }
    return out;
  }
}

/** Prometheus text of every family, in order. */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  let out = "";
  for (const family of families) out += family.render();
  return out;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Label values escape backslash, double quote and line feed (exposition format 0.0.4). */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}
