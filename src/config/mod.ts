/**
 * hookd configuration: `loadConfig` turns the embedded defaults, the user's
 * TOML file and `HOOKD_*` variables into one frozen `Config`, or throws a
 * `ConfigError` listing every problem. Keys are documented in `default.toml`.
 *
 * @module
 */
export type {
  AuthConfig,
  Config,
  DeliveryConfig,
  EnvelopeTemplate,
  LogConfig,
  OutcomeSet,
  Policy,
  Profile,
  Schedule,
  SecurityConfig,
  ServerConfig,
  SignatureScheme,
  StoreConfig,
  Template,
  TemplateVariable,
} from "./types.ts";
export { TEMPLATE_VARIABLES } from "./types.ts";
export { signatureHeaderNames, STANDARD_PROFILE } from "./profile.ts";
export { formatTemplate, parseTemplate, type TemplateContext } from "./template.ts";
export { loadConfig, type LoadConfigOptions } from "./load_config.ts";
export { ConfigError, type ConfigIssue, formatIssue } from "./config_error.ts";
export { formatConfig, redactUrl } from "./format_config.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { formatSize, parseSize } from "./size.ts";
export {
  formatOutcomeSet,
  type OutcomeToken,
  parseOutcomeSet,
  parseOutcomeToken,
} from "./outcome_set.ts";
export { DEFAULT_TOML } from "./default_toml.ts";
