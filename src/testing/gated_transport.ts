/**
 * Attempt transports for engine tests that never touch the network: one that
 * answers 200 at once, and one that holds every attempt until the test opens
 * its gate (a receiver that is slow on command), counting those started.
 */
import type { AttemptResult, AttemptTransport } from "../delivery/sender.ts";

/** A 200 with no headers and no body, at once. */
export const ACCEPTED: AttemptResult = {
  outcome: { kind: "response", status: 200 },
  status: 200,
  responseHeaders: {},
  responseBody: "",
  durationMs: 0,
  errorMessage: null,
};

export const accepting: AttemptTransport = { send: () => Promise.resolve(ACCEPTED) };

export interface GatedTransport {
  readonly transport: AttemptTransport;
  /** Attempts sent so far, answered or not. */
  readonly started: () => number;
  /** Answers every attempt held and every later one with {@linkcode ACCEPTED}. */
  readonly open: () => void;
}

export function gatedTransport(): GatedTransport {
  const gate = Promise.withResolvers<void>();
  let started = 0;
  return {
    transport: {
      async send(): Promise<AttemptResult> {
        started++;
        await gate.promise;
        return ACCEPTED;
      },
    },
    started: () => started,
    open: () => gate.resolve(),
  };
}
