/** Messages between the main thread's `Store` and the store worker. */
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
