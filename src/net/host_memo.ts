/**
 * Answers about a hostname that depend on nothing else (is it an IP literal,
 * what does this guard say of it), computed once per hostname instead of on
 * every attempt. Bounded: hostnames come from webhook URLs, but a long run
 * may see many, so the memo starts over when full.
 */
export class HostMemo<V> {
  readonly #answers = new Map<string, V>();
  readonly #limit: number;

  constructor(limit = 4_096) {
    this.#limit = limit;
  }

  get(hostname: string, compute: (hostname: string) => V): V {
    if (this.#answers.has(hostname)) return this.#answers.get(hostname)!;
    const answer = compute(hostname);
    if (this.#answers.size >= this.#limit) this.#answers.clear();
    this.#answers.set(hostname, answer);
    return answer;
  }
}
