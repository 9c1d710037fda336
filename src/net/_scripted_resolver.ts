/**
 * A {@linkcode Resolver} for tests: answers from a script, records every name
 * asked, and never sends a DNS query. A name missing from the script fails
 * like an unknown name.
 *
 * @module
 */

import type { Resolver } from "./resolver.ts";

/** Per name: one answer for every call, or a list of answers for successive calls (the last repeats). */
export type Script = Readonly<
  Record<string, readonly string[] | { readonly sequence: readonly (readonly string[])[] } | Error>
>;

export class ScriptedResolver implements Resolver {
  readonly asked: string[] = [];
  readonly #script: Script;
  readonly #calls = new Map<string, number>();

  constructor(script: Script) {
    this.#script = script;
  }

  resolve(hostname: string): Promise<string[]> {
    this.asked.push(hostname);
    const entry = Object.hasOwn(this.#script, hostname) ? this.#script[hostname] : undefined;
    if (entry === undefined) {
      return Promise.reject(new Error(`getaddrinfo ENOTFOUND ${hostname}`));
    }
    if (entry instanceof Error) return Promise.reject(entry);
    if ("sequence" in entry) {
      const n = this.#calls.get(hostname) ?? 0;
      this.#calls.set(hostname, n + 1);
      const answers = entry.sequence;
      return Promise.resolve([...(answers[Math.min(n, answers.length - 1)] ?? [])]);
    }
    return Promise.resolve([...(entry as readonly string[])]);
  }
}
