/**
 * The types of the resolved configuration, for the layers that read it. None
 * is written by hand: each is what the schemas in `schema.ts`, `policy.ts`
 * and `profile.ts` produce (the keys themselves are documented in
 * `default.toml`), read-only because `loadConfig` freezes what it returns.
 */
import type { z } from "zod";
import type { DeepReadonly } from "./_util.ts";
import type { configSchema } from "./schema.ts";

/**
 * The fully resolved configuration: every key present, every duration in
 * milliseconds, every size in bytes, frozen. Produced by `loadConfig` after
 * the embedded defaults, the user's TOML file and `HOOKD_*` variables are
 * merged and validated. Code outside `src/config/` only ever sees this shape.
 */
export type Config = DeepReadonly<z.output<ReturnType<typeof configSchema>>>;

export type ServerConfig = Config["server"];
export type StoreConfig = Config["store"];
export type AuthConfig = Config["auth"];
export type SecurityConfig = Config["security"];
export type DeliveryConfig = Config["delivery"];
export type RetentionConfig = Config["retention"];
export type LogConfig = Config["log"];

/** A named retry policy: whether and when to attempt (`[policies.NAME]`). */
export type Policy = Config["policies"][string];
export type Schedule = Policy["schedule"];
export type OutcomeSet = Policy["success"];

/** What a request looks like: headers, body and signature (`[profiles.NAME]`). */
export type Profile = Config["profiles"][string];
export type SignatureScheme = Profile["signature"];
export type EnvelopeTemplate = Profile["body"];
export type Template = Profile["headers"][string];
export type { TemplateVariable } from "./template.ts";
