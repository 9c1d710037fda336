/** Messages between the main thread's store client (client.ts) and the store worker (worker.ts). */
import type { SerializedError } from "./errors.ts";
import type { WebhookSnapshot } from "./webhook_view.ts";
import type { OpenOptions, WriteRequest } from "./writer.ts";

export type Request =
  | { readonly kind: "open"; readonly id: number; readonly options: OpenOptions }
  | { readonly kind: "write"; readonly id: number; readonly requests: WriteRequest[] }
  | { readonly kind: "read"; readonly id: number; readonly name: string; readonly args: unknown }
  | { readonly kind: "close"; readonly id: number }
  /** The worker's own JavaScript heap, for `/metrics`; answered with {@linkcode WorkerMemory}. */
  | { readonly kind: "memory"; readonly id: number };

/** The store worker's isolate: its heap is its own, apart from the main thread's. */
export interface WorkerMemory {
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
}

export type Reply =
  | {
    readonly id: number;
    readonly ok: true;
    readonly value: unknown;
    readonly transactions: number;
    /** The webhook view, when the request changed it; applied before the request settles. */
    readonly view?: WebhookSnapshot;
  }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };
