import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue } from "./config_error.ts";
import { DEFAULT_TOML } from "./default_toml.ts";
import { loadConfig } from "./load_config.ts";
import { seedProfiles } from "./_seed_profiles.ts";
import { signatureHeaderNames, STANDARD_PROFILE } from "./profile.ts";
import type { Profile, SignatureScheme, Template } from "./types.ts";

function problems(text: string): string[] {
  try {
    loadConfig({ text, file: "p.toml" });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((i: ConfigIssue) =>
      `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message}`
    );
  }
  assert.fail("expected a ConfigError");
}

function profile(text: string, name: string): Profile {
  const found = loadConfig({ text }).profiles[name];
  assert.ok(found, name);
  return found;
}

const v = (variable: Template[number] & { variable: string }) => variable;

Deno.test("the built-in standard profile: Standard Webhooks, the data as posted", () => {
  const expected: Profile = {
    name: "standard",
    headers: {},
    body: { kind: "data" },
    payloadVersion: "1.0",
    signature: { kind: "standard-webhooks", headerPrefix: "webhook" },
  };
  assert.deepEqual(STANDARD_PROFILE, expected);
  assert.equal(Object.isFrozen(STANDARD_PROFILE.signature), true);
  assert.deepEqual(loadConfig().profiles, { standard: STANDARD_PROFILE });
});

Deno.test("standard may be overridden; other profiles start from the built-in one", () => {
  const config = loadConfig({
    text: `[profiles.standard]
payload_version = "2"
[profiles.other]
headers = { "X-A" = "a" }
`,
  });
  assert.deepEqual(config.profiles.standard, { ...STANDARD_PROFILE, payloadVersion: "2" });
  assert.deepEqual(config.profiles.other, {
    ...STANDARD_PROFILE,
    name: "other",
    headers: { "X-A": [{ text: "a" }] },
  });
});

Deno.test("every signature scheme parses, in both TOML spellings", () => {
  const table: [string, SignatureScheme][] = [
    ['scheme = "standard-webhooks"', { kind: "standard-webhooks", headerPrefix: "webhook" }],
    ['scheme = "svix"', { kind: "standard-webhooks", headerPrefix: "svix" }],
    ['scheme = "github"', { kind: "github" }],
    ['scheme = "stripe"', { kind: "stripe" }],
    ['scheme = "none"', { kind: "none" }],
    ['scheme = "hmac-sha256", header = "X-Sig"', {
      kind: "hmac-sha256",
      header: "X-Sig",
      content: [{ variable: "body" }],
      encoding: "hex",
      prefix: "",
    }],
    [
      'scheme = "hmac-sha256", header = "X-Sig", content = "{attempt_timestamp}.{body}", ' +
      'encoding = "base64", prefix = "sha256="',
      {
        kind: "hmac-sha256",
        header: "X-Sig",
        content: [v({ variable: "attempt_timestamp" }), { text: "." }, v({ variable: "body" })],
        encoding: "base64",
        prefix: "sha256=",
      },
    ],
  ];
  for (const [keys, expected] of table) {
    const inline = profile(`[profiles.p]\nsignature = { ${keys} }\n`, "p");
    assert.deepEqual(inline.signature, expected, keys);
    const table = profile(`[profiles.p.signature]\n${keys.replaceAll(", ", "\n")}\n`, "p");
    assert.deepEqual(table.signature, expected, keys);
  }
});

Deno.test("signatureHeaderNames() lists each scheme's headers", () => {
  assert.deepEqual(signatureHeaderNames({ kind: "standard-webhooks", headerPrefix: "svix" }), [
    "svix-id",
    "svix-timestamp",
    "svix-signature",
  ]);
  assert.deepEqual(signatureHeaderNames({ kind: "github" }), ["X-Hub-Signature-256"]);
  assert.deepEqual(signatureHeaderNames({ kind: "stripe" }), ["Stripe-Signature"]);
  assert.deepEqual(signatureHeaderNames({ kind: "none" }), []);
});

Deno.test("profile errors name the problem at the key's file:line:column", () => {
  const text = `[profiles.p]
headers = { "X-Event" = "{evnt_type}", "X-Ok" = "{event_type}" }
body = { id = "{event_id}", d = "x{data}", n = { deep = ["{bdy}"] } }
[profiles.p.signature]
scheme = "hmac"
`;
  assert.deepEqual(problems(text), [
    "p.toml:2:13: profiles.p.headers.X-Event: unknown variable {evnt_type}; did you mean " +
    "{event_type}?",
    'p.toml:3:29: profiles.p.body.d: to insert the event data, "{data}" must be the whole ' +
    "string, not part of a longer one",
    "p.toml:3:58: profiles.p.body.n.deep[0]: unknown variable {bdy}; variables are {event_id}, " +
    "{event_type}, {tenant_id}, {event_timestamp}, {event_timestamp_iso}, {delivery_id}, " +
    "{attempt_id}, {attempt_number}, {attempt_timestamp}, {attempt_timestamp_iso}, " +
    "{webhook_id}, {payload_version}",
    'p.toml:5:1: profiles.p.signature.scheme: expected one of "standard-webhooks", "svix", ' +
    '"hmac-sha256", "github", "stripe", "none", got "hmac"',
  ]);
});

Deno.test("profile rules: header names, values, {body}, {data}, scheme keys", () => {
  const table: [string, string[]][] = [
    [
      '[profiles.p]\nheaders = { "X-A" = "line\\r\\nInjected: 1" }',
      ["p.toml:2:13: profiles.p.headers.X-A: a header value may not contain CR or LF"],
    ],
    [
      '[profiles.p]\nheaders = { "X-A" = "naïve" }',
      [
        "p.toml:2:13: profiles.p.headers.X-A: a header value may hold only visible ASCII, " +
        "spaces and tabs (no control or non-ASCII characters)",
      ],
    ],
    [
      '[profiles.p.headers]\nContent-Type = "text/plain"\nHost = "x"\n"Proxy-Foo" = "y"',
      [
        'p.toml:2:1: profiles.p.headers.Content-Type: header "Content-Type" is reserved; ' +
        "hookd or the HTTP client sets it",
        'p.toml:3:1: profiles.p.headers.Host: header "Host" is reserved; hookd or the HTTP ' +
        "client sets it",
        'p.toml:4:1: profiles.p.headers.Proxy-Foo: header "Proxy-Foo" is reserved; hookd or ' +
        "the HTTP client sets it",
      ],
    ],
    [
      '[profiles.p.headers]\n"X Bad" = "a"\nx-a = "1"\nX-A = "2"',
      [
        'p.toml:2:1: profiles.p.headers."X Bad": header name "X Bad" is not a valid HTTP ' +
        "token (letters, digits and !#$%&'*+.^_`|~-)",
        'p.toml:4:1: profiles.p.headers.X-A: header "X-A" is given twice (as "x-a"); names ' +
        "are case-insensitive",
      ],
    ],
    [
      '[profiles.p]\nheaders = { "X-Body" = "{body}", "X-Data" = "{data}", n = 1 }',
      [
        "p.toml:2:13: profiles.p.headers.X-Body: {body} (the exact body sent) is only " +
        "allowed in signature.content",
        "p.toml:2:34: profiles.p.headers.X-Data: {data} is only allowed as a whole value of " +
        'the body envelope, e.g. data = "{data}"',
        "p.toml:2:55: profiles.p.headers.n: expected a template string, got 1",
      ],
    ],
    [
      '[profiles.p]\nbody = { b = "{body}" }',
      [
        "p.toml:2:10: profiles.p.body.b: {body} (the exact body sent) is only allowed in " +
        "signature.content",
      ],
    ],
    [
      '[profiles.p]\nbody = "{data}"',
      [
        'p.toml:2:1: profiles.p.body: expected "data" (the event data as posted) or an ' +
        'envelope such as { event_id = "{event_id}", data = "{data}" }, got "{data}"',
      ],
    ],
    [
      "[profiles.p]\nbody = { at = 1979-05-27, x = inf }",
      [
        "p.toml:2:10: profiles.p.body.at: expected a string, number, boolean, array or " +
        'table, got a date; for a time use a template such as "{event_timestamp_iso}"',
        "p.toml:2:27: profiles.p.body.x: JSON has no Infinity; use a finite number",
      ],
    ],
    [
      '[profiles.p]\nheaders = { "webhook-signature" = "x" }',
      [
        'p.toml:2:13: profiles.p.headers.webhook-signature: header "webhook-signature" is ' +
        'set by the signature scheme ("webhook-signature"); remove it or change the scheme',
      ],
    ],
    [
      '[profiles.p]\nheaders = { "X-Sig" = "x" }\nsignature = { scheme = "hmac-sha256", ' +
      'header = "x-sig" }',
      [
        'p.toml:2:13: profiles.p.headers.X-Sig: header "X-Sig" is set by the signature ' +
        'scheme ("x-sig"); remove it or change the scheme',
      ],
    ],
    [
      '[profiles.p.signature]\nscheme = "github"\nheader = "X"\nprefix = "p"',
      [
        'p.toml:3:1: profiles.p.signature.header: applies to scheme "hmac-sha256" only, not ' +
        '"github"',
        'p.toml:4:1: profiles.p.signature.prefix: applies to scheme "hmac-sha256" only, not ' +
        '"github"',
      ],
    ],
    [
      '[profiles.p.signature]\nscheme = "hmac-sha256"\ncontent = "{body}.{evnt_id}"\n' +
      'encoding = "hexa"\nprefx = "a"',
      [
        'p.toml:1:1: profiles.p.signature: scheme "hmac-sha256" needs "header", the ' +
        "header that carries it",
        "p.toml:3:1: profiles.p.signature.content: unknown variable {evnt_id}; did you mean " +
        "{event_id}?",
        'p.toml:4:1: profiles.p.signature.encoding: expected one of "hex", "base64", got ' +
        '"hexa"',
        'p.toml:5:1: profiles.p.signature.prefx: unknown key; did you mean "prefix"?',
      ],
    ],
    [
      '[profiles.p]\nsignature = { header = "X" }',
      [
        'p.toml:2:1: profiles.p.signature: missing "scheme", one of "standard-webhooks", ' +
        '"svix", "hmac-sha256", "github", "stripe", "none"',
      ],
    ],
    [
      '[profiles.P]\nbdy = "data"\npayload_version = ""',
      [
        'p.toml:1:1: profiles.P: profile names are 1-64 of a-z, 0-9, "_" and "-", got "P"',
        'p.toml:2:1: profiles.P.bdy: unknown key; did you mean "body"?',
        "p.toml:3:1: profiles.P.payload_version: expected a string of 1-64 characters such " +
        'as "1.0", got ""',
      ],
    ],
    ["profiles = 1", ["p.toml:1:1: profiles: expected [profiles.NAME] tables, got 1"]],
  ];
  for (const [text, expected] of table) assert.deepEqual(problems(text), expected, text);
});

Deno.test("an envelope keeps its order, nesting, literals and {data} placements", () => {
  const p = profile(
    `[profiles.e]
body = { z = "{event_id}", a = [1, 2.5, true, "{data}"], m = { data = "{data}", t = "t-{tenant_id}" }, "{data}" = "{{data}}" }
`,
    "e",
  );
  assert.deepEqual(p.body, {
    kind: "object",
    entries: [
      ["z", { kind: "template", template: [{ variable: "event_id" }] }],
      ["a", {
        kind: "array",
        items: [
          { kind: "literal", value: 1 },
          { kind: "literal", value: 2.5 },
          { kind: "literal", value: true },
          { kind: "data" },
        ],
      }],
      ["m", {
        kind: "object",
        entries: [
          ["data", { kind: "data" }],
          ["t", { kind: "template", template: [{ text: "t-" }, { variable: "tenant_id" }] }],
        ],
      }],
      ["{data}", { kind: "template", template: [{ text: "{data}" }] }],
    ],
  });
});

Deno.test("each seed contract is a profile", () => {
  const p = seedProfiles();
  const t = (variable: string) => ({ kind: "template", template: [{ variable }] });
  assert.deepEqual(p.seed000, {
    name: "seed000",
    headers: {
      "X-Webhook-Event": [{ variable: "event_type" }],
      "X-Webhook-Timestamp": [{ variable: "attempt_timestamp" }],
      "X-Webhook-Delivery-Id": [{ variable: "delivery_id" }],
    },
    body: { kind: "data" },
    payloadVersion: "1.0",
    signature: {
      kind: "hmac-sha256",
      header: "X-Webhook-Signature",
      content: [{ variable: "attempt_timestamp" }, { text: "." }, { variable: "body" }],
      encoding: "hex",
      prefix: "",
    },
  });
  assert.deepEqual(p.seed001, { ...STANDARD_PROFILE, name: "seed001" });
  assert.deepEqual(Object.keys(p.seed002?.headers ?? {}), [
    "X-Agc-Version",
    "X-Agc-Tenant-Id",
    "X-Agc-Webhook-Id",
    "X-Agc-Attempt-Id",
    "X-Agc-Event-Id",
    "X-Agc-Event-Type",
    "X-Agc-Timestamp",
  ]);
  assert.deepEqual(p.seed002?.headers["X-Agc-Timestamp"], [{ variable: "attempt_timestamp_iso" }]);
  assert.deepEqual(p.seed002?.body, {
    kind: "object",
    entries: [
      ["version", t("payload_version")],
      ["tenant_id", t("tenant_id")],
      ["event_id", t("event_id")],
      ["event_type", t("event_type")],
      ["event_timestamp", t("event_timestamp_iso")],
      ["data", { kind: "data" }],
    ],
  });
  assert.equal(p.seed002?.signature.kind, "hmac-sha256");
  assert.deepEqual(p.seed003?.signature, {
    kind: "hmac-sha256",
    header: "X-Signature",
    content: [{ variable: "attempt_timestamp" }, { text: "." }, { variable: "body" }],
    encoding: "hex",
    prefix: "sha256=",
  });
  assert.deepEqual(p.seed004?.body, {
    kind: "object",
    entries: [
      ["delivery_id", t("delivery_id")],
      ["event_id", t("event_id")],
      ["event_type", t("event_type")],
      ["occurred_at", t("event_timestamp_iso")],
      ["data", { kind: "data" }],
    ],
  });
});

Deno.test("the commented profile examples in default.toml load", () => {
  const start = DEFAULT_TOML.indexOf("# Examples, one per seed contract");
  const end = DEFAULT_TOML.indexOf("\n[profiles.standard]\n", start);
  const text = DEFAULT_TOML.slice(start, end).split("\n")
    .filter((line) => line.startsWith("#   "))
    .map((line) => line.slice(4))
    .join("\n");
  const profiles = loadConfig({ text }).profiles;
  assert.deepEqual(Object.keys(profiles), [
    "standard",
    "seed000",
    "seed002",
    "seed003",
    "seed004",
    "github",
  ]);
  assert.deepEqual(profiles.seed000, seedProfiles().seed000);
  assert.deepEqual(profiles.seed002, seedProfiles().seed002);
  assert.deepEqual(profiles.seed004, seedProfiles().seed004);
});
