/** Starting the receiver process (receiver.ts) and reading what it counted and logged. */
import type { BenchContext } from "./context.ts";
import { type Child, spawnChild } from "./child.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The receiver child: counts, logs and answers (see receiver.ts). */
export class Receiver {
  constructor(readonly child: Child) {}

  /** Starts a receiver on `ports` loopback ports (default 1) and has the caller track it. */
  static async start(
    options: Pick<BenchContext, "root" | "track">,
    name = "receiver",
    ports = 1,
  ): Promise<Receiver> {
    const child = await spawnChild({
      name,
      args: ["run", "-A", `${options.root}bench/receiver.ts`, "--ports", String(ports)],
      cwd: options.root,
      listening: /receiver listening on (http:\/\/[^\s]+)/,
    });
    options.track(child);
    return new Receiver(child);
  }

  get url(): string {
    return `${this.child.origin}/hook`;
  }

  async count(): Promise<number> {
    return (await this.#stats()).count;
  }

  /** Requests answered with a 2xx: each a delivery that succeeded. */
  async succeeded(): Promise<number> {
    const { count, failed } = await this.#stats();
    return count - failed;
  }

  async #stats(): Promise<{ count: number; onPath: number; failed: number }> {
    return await (await fetch(`${this.child.origin}/_stats`)).json();
  }

  /**
   * Per request the webhook-id and its arrival time, in epoch ms with sub-ms
   * resolution (`performance.timeOrigin + performance.now()` in the receiver).
   */
  async log(): Promise<{ ids: string[]; receivedAt: number[]; lateMs: number[] }> {
    return await (await fetch(`${this.child.origin}/_log`)).json();
  }

  /** Every port the receiver listens on. */
  async ports(): Promise<number[]> {
    return ((await (await fetch(`${this.child.origin}/_ports`)).json()) as { ports: number[] })
      .ports;
  }

  async reset(failFirstMs?: number): Promise<void> {
    const query = failFirstMs === undefined ? "" : `?fail_first=${failFirstMs}`;
    await (await fetch(`${this.child.origin}/_reset${query}`, { method: "POST" })).body?.cancel();
  }

  /**
   * Resolves once the receiver has `count` requests (or, with `succeeded`,
   * answered that many with a 2xx); false after `timeoutMs`.
   */
  async waitFor(
    count: number,
    timeoutMs: number,
    everyMs = 10,
    what: "requests" | "succeeded" = "requests",
  ): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (await (what === "requests" ? this.count() : this.succeeded()) >= count) return true;
      await sleep(everyMs);
    }
    return false;
  }
}
