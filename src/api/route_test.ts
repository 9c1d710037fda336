/**
 * What `route()` lets a handler answer. Most of this file is checked by
 * `deno check` (part of `deno task ok`): each `@ts-expect-error` fails the
 * check if the line below it ever type-checks, i.e. if a handler could answer
 * with a body, field or status its route does not declare.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { type ParamNames, route } from "./route.ts";

const Thing = z.strictObject({
  id: z.string(),
  tags: z.array(z.strictObject({ name: z.string() })),
  note: z.string().nullable(),
});
const idParam = z.strictObject({ id: z.string() });

const thing = { id: "t1", tags: [{ name: "a" }], note: null };
const withExtra = { ...thing, secret: "s" };
const withNestedExtra = { ...thing, tags: [{ name: "a", colour: "red" }] };

export const declarations = [
  route({
    method: "GET",
    path: "/things/:id",
    summary: "",
    tag: "t",
    scope: null,
    params: idParam,
    responses: { 200: { description: "", schema: Thing }, 404: "No such thing" },
    handler: ({ c, params }) => {
      const id: string = params.id;
      if (id === "a") return c.json(thing);
      if (id === "b") return c.json(thing, 200);
      // @ts-expect-error: a field the schema does not have, in a literal
      if (id === "c") return c.json({ ...thing, secret: "s" });
      // @ts-expect-error: the same field, passed in a variable
      if (id === "d") return c.json(withExtra);
      // @ts-expect-error: an extra field inside an array element
      if (id === "e") return c.json(withNestedExtra);
      // @ts-expect-error: a field of the wrong type
      if (id === "f") return c.json({ ...thing, note: 1 });
      // @ts-expect-error: a missing field
      if (id === "g") return c.json({ id: "t1", note: null });
      // @ts-expect-error: a status the route does not declare
      if (id === "h") return c.json(thing, 201);
      // @ts-expect-error: an error status is thrown as an ApiError, not answered
      if (id === "i") return c.json(thing, 404);
      // @ts-expect-error: no 204 declared
      if (id === "j") return c.body(null, 204);
      // @ts-expect-error: not a JSON status
      if (id === "k") return c.text("x", 200);
      return c.json(thing);
    },
  }),
  route({
    method: "GET",
    path: "/raw",
    summary: "",
    tag: "t",
    scope: null,
    responses: { 200: { description: "", schema: Thing } },
    // @ts-expect-error: a plain Response would bypass the declared schemas
    handler: () => new Response("{}"),
  }),
  route({
    method: "POST",
    path: "/things",
    summary: "",
    tag: "t",
    scope: null,
    body: z.strictObject({ name: z.string() }),
    query: z.strictObject({ dry_run: z.stringbool().optional() }),
    responses: { 201: { description: "", schema: Thing }, 204: "Nothing to do" },
    handler: ({ c, body, query }) => {
      const name: string = body.name;
      const dryRun: boolean | undefined = query.dry_run;
      if (dryRun) return c.body(null, 204);
      // @ts-expect-error: without a status the answer is a 200, which this route lacks
      if (name === "x") return c.json(thing);
      return c.json(thing, 201);
    },
  }),
  // @ts-expect-error: a path with parameters needs their schema
  route({
    method: "GET",
    path: "/things/:id/parts",
    summary: "",
    tag: "t",
    scope: null,
    responses: { 204: "" },
    handler: ({ c }) => c.body(null, 204),
  }),
  route({
    method: "GET",
    path: "/things/:id/parts",
    summary: "",
    tag: "t",
    scope: null,
    // @ts-expect-error: the schema must be of the path's parameters
    params: z.strictObject({ thing: z.string() }),
    responses: { 204: "" },
    handler: ({ c }) => c.body(null, 204),
  }),
];

Deno.test("ParamNames reads a Hono path's parameters", () => {
  const both: ParamNames<"/a/:id/b/:part"> = Math.random() < 2 ? "id" : "part";
  const none: [ParamNames<"/a/b">] extends [never] ? true : false = true;
  assert.ok(both && none);
  assert.equal(declarations.length, 5);
});
