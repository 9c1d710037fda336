/** OAuth2 client-credentials settings for unit tests; the token URL is never fetched for real. */
import type { OAuth2ClientCredentials } from "../store/receiver_auth.ts";

export const OAUTH2_SETTINGS: OAuth2ClientCredentials = {
  kind: "oauth2",
  tokenUrl: "https://auth.example.com/token",
  clientId: "hookd",
  clientSecret: "secret",
  scope: null,
  audience: null,
  authMethod: "client_secret_basic",
};
