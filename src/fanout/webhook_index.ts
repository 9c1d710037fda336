/**
 * The in-memory view of live webhooks that fan-out consults for every event.
 * Exact subscriptions sit in a map keyed by event type, so an event costs one
 * lookup plus a scan of only the wildcard subscribers, however many webhooks
 * there are.
 */
import { EventPatternSet } from "./event_pattern.ts";

export interface IndexedWebhook {
  readonly id: string;
  readonly state: "enabled" | "paused" | "disabled";
  readonly tenantId: string | null;
  readonly eventTypes: readonly string[];
}

/**
 * Whether a webhook receives events of `tenantId`: a tenant-less webhook
 * receives every tenant's events, one with a tenant only its own.
 */
export function receivesTenant(
  webhook: Pick<IndexedWebhook, "tenantId">,
  tenantId: string | null,
): boolean {
  return webhook.tenantId === null || webhook.tenantId === tenantId;
}

interface Entry<W extends IndexedWebhook> {
  readonly webhook: W;
  readonly patterns: EventPatternSet;
}

/** `W` is whatever the caller keeps per webhook; subscribers come back as given. */
export class WebhookIndex<W extends IndexedWebhook = IndexedWebhook> {
  readonly #entries = new Map<string, Entry<W>>();
  readonly #byExactType = new Map<string, Set<Entry<W>>>();
  readonly #wildcard = new Set<Entry<W>>();

  get size(): number {
    return this.#entries.size;
  }

  /** Adds or replaces a webhook. */
  put(webhook: W): void {
    this.remove(webhook.id);
    const entry: Entry<W> = { webhook, patterns: new EventPatternSet(webhook.eventTypes) };
    this.#entries.set(webhook.id, entry);
    for (const pattern of webhook.eventTypes) {
      if (pattern === "*" || pattern.endsWith(".*")) {
        this.#wildcard.add(entry);
      } else {
        let set = this.#byExactType.get(pattern);
        if (!set) this.#byExactType.set(pattern, set = new Set());
        set.add(entry);
      }
    }
  }

  remove(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#wildcard.delete(entry);
    for (const pattern of entry.webhook.eventTypes) {
      const set = this.#byExactType.get(pattern);
      set?.delete(entry);
      if (set?.size === 0) this.#byExactType.delete(pattern);
    }
  }

  /**
   * Webhooks that receive an event of `type` from `tenantId`: enabled or paused
   * (paused ones hold it), subscribed to the type, and either tenant-less
   * (they receive every tenant's events) or of the same tenant. Disabled
   * webhooks receive nothing. Sorted by id so fan-out order is stable.
   */
  subscribers(type: string, tenantId: string | null): W[] {
    const found: W[] = [];
    const consider = (entry: Entry<W>) => {
      const w = entry.webhook;
      if (w.state === "disabled") return;
      if (!receivesTenant(w, tenantId)) return;
      found.push(w);
    };
    for (const entry of this.#byExactType.get(type) ?? []) consider(entry);
    for (const entry of this.#wildcard) {
      // A webhook listing both an exact type and a wildcard is already in.
      if (entry.patterns.matches(type) && !this.#byExactType.get(type)?.has(entry)) {
        consider(entry);
      }
    }
    return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
