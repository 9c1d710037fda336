/**
 * Messages between the main thread's `Store` and the store worker, sent as
 * JSON text.
 *
 * Why JSON rather than `postMessage`'s structured clone of the objects: a
 * batch of ~100 writes is a few hundred small objects, which the structured
 * clone walks and rebuilds one by one on both threads; one string crosses as
 * one block, and `JSON.stringify`/`JSON.parse` are V8's fastest way through
 * such data. Everything in these messages is plain data: records of strings,
 * numbers, booleans and null (a missing optional field stays missing).
 */
import type { OpenOptions, WriteOutcome, WriteRequest } from "./engine.ts";
import type { SerializedError } from "./errors.ts";

export type Request =
  | { readonly kind: "open"; readonly id: number; readonly options: OpenOptions }
  | { readonly kind: "write"; readonly id: number; readonly requests: WriteRequest[] }
  | { readonly kind: "read"; readonly id: number; readonly name: string; readonly args: unknown }
  | { readonly kind: "refresh"; readonly id: number }
  | { readonly kind: "close"; readonly id: number };

export type Reply =
  | {
    readonly id: number;
    readonly ok: true;
    readonly value: unknown;
    readonly transactions: number;
  }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

export type WriteReplyValue = WriteOutcome[];

/**
 * A message as the text the other thread parses. JSON has no `undefined`
 * (an optional field set to it arrives missing, which reads the same), no
 * bigint (throws) and no NaN or Infinity (they arrive as null): the store
 * never takes or gives those.
 */
export function encodeMessage(message: Request | Reply): string {
  return JSON.stringify(message);
}
