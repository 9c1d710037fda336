/**
 * The families `/metrics` shows, and what refreshes them at scrape time.
 * Each part of the daemon owns its families (hot paths update them directly);
 * the daemon adds them here, one registry per daemon, so daemons sharing a
 * process (tests) never mix their figures.
 */
import { type MetricFamily, renderPrometheus, ValueFamily } from "./metrics.ts";

/** Sets gauges (or copies totals kept elsewhere) just before a scrape is rendered. */
export type Collector = () => void | Promise<void>;

export class MetricsRegistry {
  readonly #families: MetricFamily[] = [];
  readonly #names = new Set<string>();
  readonly #collectors: Collector[] = [];

  /** Adds families; a name already present is a wiring bug and throws. */
  add(...families: MetricFamily[]): this {
    for (const family of families) {
      if (this.#names.has(family.name)) {
        throw new RangeError(`Cannot add metric "${family.name}": it is registered already`);
      }
      this.#names.add(family.name);
      this.#families.push(family);
    }
    return this;
  }

  /** Runs `collect` before every scrape. */
  collect(collect: Collector): this {
    this.#collectors.push(collect);
    return this;
  }

  /** Runs the collectors, then renders every family as Prometheus text (format 0.0.4). */
  async render(): Promise<string> {
    await this.refresh();
    return renderPrometheus(this.#families);
  }

  /** Runs the collectors, so that {@linkcode total} sees the figures kept elsewhere too. */
  async refresh(): Promise<void> {
    await Promise.all(this.#collectors.map((collect) => collect()));
  }

  /**
   * The sum of counter or gauge `name` over its series whose labels include
   * `where`; 0 when no such family is registered (no delivery engine runs).
   */
  total(name: string, where: Readonly<Record<string, string>> = {}): number {
    const family = this.#families.find((f) => f.name === name);
    return family instanceof ValueFamily ? family.sum(where) : 0;
  }
}
