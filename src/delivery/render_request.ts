/**
 * What one attempt sends: URL, headers and body, as the webhook's profile
 * says. Headers are the webhook's custom headers, then the profile's header
 * templates (which win on a clash, names compared case-insensitively), then
 * the signature scheme's headers. The body is the event's data exactly as
 * stored, or the profile's envelope around it.
 */
import type { Profile } from "../config/types.ts";
import type { DeliveryEvent } from "../store/delivery_queue.ts";
import { renderEnvelope } from "./envelope.ts";
import { signatureHeaders } from "./signature_headers.ts";
import { headerSafe, headerSafeValues, renderTemplate, type TemplateValues } from "./template.ts";

export interface RenderInput {
  readonly profile: Profile;
  readonly webhook: {
    readonly id: string;
    readonly url: string;
    /** Custom headers, sent first. */
    readonly headers: Readonly<Record<string, string>>;
  };
  /** Signing secrets, current first (see `signingMaterial`); empty: unsigned. */
  readonly secrets: readonly string[];
  /** The trace context is not the profile's business: the attempt adds it (trace_headers.ts). */
  readonly event: Omit<DeliveryEvent, "traceparent" | "tracestate">;
  readonly deliveryId: string;
  /** The id the attempt is recorded under. */
  readonly attemptId: string;
  /** 1 for the first attempt of the delivery. */
  readonly attemptNumber: number;
  /** This attempt's start, ms since epoch. */
  readonly now: number;
}

export interface RenderedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The value of every template variable for one attempt. Timestamps are unix
 * seconds (rounded down) and `toISOString()` forms; `tenant_id` is null for
 * an event without tenant.
 */
export function templateValues(input: RenderInput): TemplateValues {
  const { event, now } = input;
  return {
    event_id: event.id,
    event_type: event.type,
    tenant_id: event.tenantId,
    event_timestamp: String(Math.floor(event.occurredAt / 1000)),
    event_timestamp_iso: new Date(event.occurredAt).toISOString(),
    delivery_id: input.deliveryId,
    attempt_id: input.attemptId,
    attempt_number: String(input.attemptNumber),
    attempt_timestamp: String(Math.floor(now / 1000)),
    attempt_timestamp_iso: new Date(now).toISOString(),
    webhook_id: input.webhook.id,
    payload_version: input.profile.payloadVersion,
  };
}

/** Whether any part of the profile is a template: header values, an envelope, a signed content. */
export function usesTemplates(profile: Profile): boolean {
  return Object.keys(profile.headers).length > 0 || profile.body.kind !== "data" ||
    profile.signature.kind === "hmac-sha256";
}

/** Sets a header, replacing one of the same name in another case. */
function setHeader(
  headers: Record<string, string>,
  names: Map<string, string>,
  name: string,
  value: string,
): void {
  const lower = name.toLowerCase();
  const previous = names.get(lower);
  if (previous !== undefined && previous !== name) delete headers[previous];
  names.set(lower, name);
  headers[name] = value;
}

/**
 * Renders one attempt's request. Deterministic for a given input: the same
 * attempt renders to the same bytes, and an envelope's data is the stored
 * JSON text inserted verbatim.
 *
 * Throws a `TypeError` when a `whsec_` secret is not base64 (the API only
 * generates valid ones).
 */
export function renderRequest(input: RenderInput): RenderedRequest {
  const { profile, webhook, event, now } = input;
  // The standard profile renders no template: it skips building twelve values
  // (two ISO dates, a header-safety check each) on every attempt.
  const values = usesTemplates(profile) ? templateValues(input) : undefined;
  const safe = values && headerSafeValues(values);

  const body = values === undefined || profile.body.kind === "data"
    ? event.payload
    : renderEnvelope(profile.body, values, event.payload);

  const headers: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const [name, value] of Object.entries(webhook.headers)) {
    setHeader(headers, names, name, value);
  }
  for (const [name, template] of Object.entries(profile.headers)) {
    setHeader(headers, names, name, renderTemplate(template, safe!));
  }
  const signature = signatureHeaders(profile.signature, {
    secrets: input.secrets,
    body,
    messageId: headerSafe(event.id),
    timestamp: Math.floor(now / 1000),
    values: safe,
  });
  for (const [name, value] of signature) setHeader(headers, names, name, value);
  return { url: webhook.url, headers, body };
}

const SENSITIVE = /authorization|cookie|key|token|secret|password|credential|session/i;

/**
 * Headers as kept in the attempt log, which API readers see: values of custom
 * headers that look like credentials are replaced, so receiver API keys or
 * basic-auth passwords never leave the daemon. Signatures are MACs, not
 * secrets, and stay.
 */
export function headersForLog(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SENSITIVE.test(name) && !/signature/i.test(name) ? "[redacted]" : value;
  }
  return out;
}
