/**
 * Checks real answers against the OpenAPI document the API serves: the
 * operation found by method and path must declare the status (an error may
 * fall back to `default`), and the body must be what that response declares,
 * JSON validated against its schema with a JSON Schema 2020-12 validator. The
 * API harness runs every answer through it, so no test can see a shape the
 * document does not promise.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020";
import * as ajvFormats from "ajv-formats";

// A CommonJS default export: Deno's types see the module where the plugin is.
const addFormats = ajvFormats.default as unknown as ajvFormats.FormatsPlugin;

type Json = Record<string, unknown>;

interface Operation {
  readonly name: string;
  readonly pattern: RegExp;
  /** Path parameters: fewer is more specific (`/events/batch` before `/events/{id}`). */
  readonly params: number;
  readonly responses: Record<string, Json>;
}

const BASE = "https://hookd.invalid/components.json";
const COMPONENTS = "#/components/schemas/";

/** A JSON Schema 2020-12 validator holding the document's components, strict about schemas. */
export function componentValidator(document: Json): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // In a schema of its own the components are `$defs` (`components` is no JSON Schema keyword).
  const { schemas } = document.components as { schemas: Json };
  const defs = JSON.parse(
    JSON.stringify(schemas).replaceAll('"#/components/schemas/', '"#/$defs/'),
  );
  ajv.addSchema({ $id: BASE, $defs: defs });
  return ajv;
}

export class ResponseConformance {
  readonly #operations = new Map<string, Operation[]>();
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();
  /** Every `METHOD /path/{param} status` an answer was checked against. */
  readonly checked = new Set<string>();

  constructor(document: Json) {
    this.#ajv = componentValidator(document);
    for (const [path, methods] of Object.entries(document.paths as Record<string, Json>)) {
      const pattern = new RegExp(`^${path.replace(/\{\w+\}/g, "[^/]+")}$`);
      const params = path.split("{").length - 1;
      for (const [method, operation] of Object.entries(methods as Record<string, Json>)) {
        const list = this.#operations.get(method.toUpperCase()) ?? [];
        list.push({
          name: `${method.toUpperCase()} ${path}`,
          pattern,
          params,
          responses: operation.responses as Record<string, Json>,
        });
        list.sort((a, b) => a.params - b.params);
        this.#operations.set(method.toUpperCase(), list);
      }
    }
  }

  /** Throws, saying what differs, unless `response` is what the document declares. */
  async check(method: string, path: string, response: Response): Promise<void> {
    const where = `${method} ${path} → ${response.status}`;
    const operation = this.#operations.get(method === "HEAD" ? "GET" : method)
      ?.find((o) => o.pattern.test(path));
    const declared = operation
      ? operation.responses[response.status] ??
        (response.status >= 400 ? operation.responses.default : undefined)
      // No route (404) or not this method (405): the pipeline's error shape.
      : { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    if (!declared) throw new Error(`${where}: the document declares no such status`);
    if (operation) this.checked.add(`${operation.name} ${response.status}`);
    const text = await response.clone().text();
    const content = declared.content as Record<string, { schema: Json }> | undefined;
    if (!content) {
      if (text !== "") throw new Error(`${where}: declared without a body, got ${text}`);
      return;
    }
    const type = response.headers.get("content-type") ?? "";
    const mediaType = Object.keys(content).find((declaredType) =>
      type.split(";")[0] === declaredType.split(";")[0]
    );
    if (mediaType === undefined) {
      throw new Error(`${where}: content-type ${type}, declared ${Object.keys(content)}`);
    }
    if (mediaType !== "application/json" || method === "HEAD") return;
    const validate = this.#validator(content[mediaType]!.schema);
    if (!validate(JSON.parse(text))) {
      throw new Error(
        `${where}: the body does not match ${JSON.stringify(content[mediaType]!.schema)}: ` +
          `${this.#ajv.errorsText(validate.errors)}\n${text}`,
      );
    }
  }

  #validator(schema: Json): ValidateFunction {
    const ref = String(schema.$ref ?? "");
    let validate = this.#compiled.get(ref);
    if (!validate) {
      if (!ref.startsWith(COMPONENTS)) {
        throw new Error(`a response schema that is not a component: ${JSON.stringify(schema)}`);
      }
      validate = this.#ajv.compile({ $ref: `${BASE}#/$defs/${ref.slice(COMPONENTS.length)}` });
      this.#compiled.set(ref, validate);
    }
    return validate;
  }
}
