/**
 * What the delivery engine tells about endpoints as it happens: the raw
 * material of hookd's own operational events (`hookd.*`). The engine only
 * reports; the daemon wires in the emitter (`src/ingest/operational_events.ts`),
 * which turns these into events through the ordinary pipeline.
 */
import type { AutoDisabled } from "../store/webhook_health.ts";

/** A delivery that just became a dead letter. */
export interface DeadDelivery {
  readonly webhookId: string;
  readonly deliveryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly at: number;
}

export interface EndpointEventSink {
  /** An auto-disable rule disabled a webhook (durable by now). */
  webhookDisabled(disabled: AutoDisabled): void;
  /** A delivery's retries are exhausted: it is in the dead-letter queue. */
  deliveryDead(dead: DeadDelivery): void;
  /** A webhook succeeded again after deliveries to it had ended without success. */
  webhookRecovered(webhookId: string, at: number): void;
  /** This daemon's breaker for a webhook opened: its deliveries wait for `nextProbeAt`. */
  circuitOpened(webhookId: string, openedAt: number, nextProbeAt: number): void;
  /** A probe succeeded: the breaker that opened at `openedAt` is closed again. */
  circuitClosed(webhookId: string, openedAt: number, closedAt: number): void;
}
