/**
 * Name resolution as the SSRF guard needs it: every address of a name, in the
 * order the system gives them. Behind an interface so tests script answers
 * and never send a DNS query.
 *
 * @module
 */

import { lookup } from "node:dns/promises";

/** Resolves a host name to IP address strings. */
export interface Resolver {
  /**
   * All addresses of `hostname`. Rejects when the name does not resolve;
   * may also resolve to an empty list, which the guard treats the same way.
   */
  resolve(hostname: string): Promise<string[]>;
}

/**
 * The system resolver (`getaddrinfo`: `/etc/hosts`, then DNS, as every other
 * program on the host sees it), through `node:dns/promises` `lookup` with
 * `all: true` so every address is checked and `verbatim: true` so the order
 * is the system's.
 */
export const systemResolver: Resolver = {
  async resolve(hostname: string): Promise<string[]> {
    const answers = await lookup(hostname, { all: true, verbatim: true });
    return answers.map((a) => a.address);
  },
};
