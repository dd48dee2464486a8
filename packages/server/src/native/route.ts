/**
 * runledger's native API as data. Each route module exports its routes as values of `Route`:
 * method, path (OpenAPI form, `/api/runledger/runs/{runId}`), summary, the Schemas of its query,
 * body and response, and `handle`, a thin mapping onto the runtime's Tracker. `mountRoutes` puts a
 * list of them on the Hono app (decoding, encoding and the error body are done here, once), and
 * openapi.ts describes the same list: the document cannot drift from what is served.
 *
 * - A query is a Struct of string-encoded fields (one per query parameter); a body a Schema decoded
 *   from JSON through its JSON codec (`Schema.toCodecJson`). A request that does not decode, a body
 *   that is not JSON, or a wrong content type is refused with 400 `InvalidInput` naming the field,
 *   before the handler runs: nothing is appended.
 * - A JSON response is encoded through its Schema's JSON codec: a metric value (core's
 *   `MetricValue`) that is NaN, ±Infinity or -0 is written as "NaN", "Infinity", "-Infinity", "-0".
 * - A `RawResponse` route (NDJSON, a file, an artifact's bytes) returns its own `Response`.
 * - Errors: `{ error: { _tag, message, ...the error's fields } }`, the status by tag (`STATUS_OF_TAG`).
 */
import type { HttpBindings } from "@hono/node-server"
import { InvalidInput, type Tracker } from "@runledger/runtime"
import { Schema, type SchemaIssue } from "effect"
import type { Context, Hono, MiddlewareHandler } from "hono"

export type Method = "GET" | "POST" | "PUT" | "DELETE"

/** What every native handler gets: the server's open tracker. */
export interface NativeContext {
  readonly tracker: Tracker
}

/** A response the handler writes itself (a stream, a file, bytes): described by its content type. */
export interface RawResponse {
  readonly contentType: string
  readonly description: string
}

/** A query: one field per query parameter, each decoded from its string (or repeated strings). */
export type QuerySchema = Schema.Struct<Schema.Struct.Fields>

export interface RouteInput<Q, B> {
  /** The path's `{name}` parameters, percent-decoded (once). */
  readonly params: Readonly<Record<string, string>>
  readonly query: Q
  readonly body: B
  /** The request itself, for a route that reads its body raw (no `body` Schema). */
  readonly request: Request
}

export interface Route<Q = unknown, B = unknown, R = unknown> {
  readonly method: Method
  /** OpenAPI form; a last parameter `{name+}` takes the rest of the path, slashes included. */
  readonly path: string
  readonly summary: string
  readonly query?: QuerySchema
  readonly body?: Schema.Codec<B, unknown>
  readonly response: Schema.Codec<R, unknown> | RawResponse
  /**
   * The answer's JSON form written directly, for an answer too large for the Schema's
   * per-element encoding (the histories' columns): it must equal the Schema's JSON encoding, and a
   * test holds it to that. Default: the Schema's JSON codec.
   */
  readonly encode?: (out: R) => unknown
  /**
   * Other forms of the same answer, by content negotiation: a request whose Accept names one gets
   * its bytes; JSON stays the default. The OpenAPI document lists each beside the JSON.
   */
  readonly alternatives?: ReadonlyArray<Alternative<R>>
  readonly handle: (input: RouteInput<Q, B>, ctx: NativeContext) => Promise<R | Response>
}

/** Another encoding of a route's answer (the histories' doubles), chosen by the request's Accept. */
export interface Alternative<R> {
  readonly contentType: string
  readonly description: string
  readonly encode: (out: R) => Uint8Array
}

/** A route of any types, for lists (`AnyRoute[]`). */
// oxlint-disable-next-line no-explicit-any -- the list forgets each route's types; `route` checked them.
export type AnyRoute = Route<any, any, any>

/** Build a route with its handler's types inferred from its Schemas. */
export const route = <
  const Q extends QuerySchema | undefined = undefined,
  B extends Schema.Top | undefined = undefined,
  R extends Schema.Top | RawResponse = RawResponse
>(r: {
  readonly method: Method
  readonly path: string
  readonly summary: string
  readonly query?: Q
  readonly body?: B
  readonly response: R
  readonly encode?: (out: R extends Schema.Top ? R["Type"] : never) => R extends Schema.Top ? R["Encoded"] : never
  readonly alternatives?: ReadonlyArray<Alternative<R extends Schema.Top ? R["Type"] : never>>
  readonly handle: (
    input: RouteInput<Q extends Schema.Top ? Q["Type"] : Record<string, never>, B extends Schema.Top ? B["Type"] : undefined>,
    ctx: NativeContext
  ) => Promise<R extends Schema.Top ? R["Type"] : Response>
}): AnyRoute => r as unknown as AnyRoute

export const isRaw = (r: AnyRoute["response"]): r is RawResponse => "contentType" in r && typeof (r as RawResponse).contentType === "string"

// -- errors ---------------------------------------------------------------------------------------

/** The HTTP status of each tagged error (API-CONTRACT.md "Errors"). */
export const STATUS_OF_TAG: Readonly<Record<string, number>> = {
  InvalidInput: 400,
  ParamConflict: 400,
  RunNotActive: 400,
  FilterParseError: 400,
  OrderByParseError: 400,
  PageTokenError: 400,
  NotEnoughRuns: 400,
  NotFound: 404,
  ConcurrencyConflict: 409,
  StorageError: 500,
  StoreCorrupted: 500
}

/** The error body every native route answers with; `_tag`, `message` and the error's own fields. */
export const ErrorBody = Schema.Struct({
  error: Schema.StructWithRest(Schema.Struct({ _tag: Schema.String, message: Schema.String }), [Schema.Record(Schema.String, Schema.Unknown)])
}).annotate({ identifier: "ErrorBody", description: "The error's tag, a message saying what was wrong and what to do, and the tagged error's other fields (a filter's position, a run id...)." })

/** Fields never sent: a cause may hold anything (paths, stacks), and the stack is the server's business. */
const PRIVATE = new Set(["cause", "stack", "name"])

const isJsonValue = (v: unknown): boolean => v === null || ["string", "number", "boolean"].includes(typeof v) || (Array.isArray(v) && v.every(isJsonValue))

/** A failure as `[status, body]`: a tagged error by its tag; a RangeError (a bad argument the runtime refused) 400; anything else 500. */
export const errorResponse = (e: unknown): readonly [number, { readonly error: Record<string, unknown> }] => {
  if (typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string" && Object.hasOwn(STATUS_OF_TAG, e._tag)) {
    const error: Record<string, unknown> = { _tag: e._tag, message: "message" in e && typeof e.message === "string" ? e.message : e._tag }
    for (const [k, v] of Object.entries(e)) if (!PRIVATE.has(k) && k !== "_tag" && k !== "message" && isJsonValue(v)) error[k] = v
    return [STATUS_OF_TAG[e._tag], { error }]
  }
  if (e instanceof RangeError) return [400, { error: { _tag: "InvalidInput", field: "", message: e.message } }]
  process.stderr.write(`runledger's server: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  return [500, { error: { _tag: "StorageError", message: `Internal error: ${e instanceof Error ? e.message : String(e)}. The server's log has the details.` } }]
}

const errorJson = (c: Context, e: unknown): Response => {
  const [status, body] = errorResponse(e)
  return c.json(body, status as 400)
}

// -- decoding -------------------------------------------------------------------------------------

/** The first issue's path as a dotted field name (`runIds[1]`, `filter`), for InvalidInput's `field`. */
const fieldOf = (issue: SchemaIssue.Issue, root: string): string => {
  const path: Array<PropertyKey> = []
  let at: SchemaIssue.Issue | undefined = issue
  while (at !== undefined) {
    if (at._tag === "Pointer") {
      for (const p of at.path) path.push(p)
      at = at.issue
    } else if (at._tag === "Composite" || at._tag === "AnyOf") {
      at = at.issues[0]
    } else if (at._tag === "Filter" || at._tag === "Encoding") {
      at = at.issue
    } else at = undefined
  }
  return path.reduce<string>((name, p) => (typeof p === "number" ? `${name}[${p}]` : name === "" ? String(p) : `${name}.${String(p)}`), root)
}

/** Decode `input` with `schema`'s JSON codec, or fail with InvalidInput naming the field (`where`: "body" or "query"). */
export const decodeInput = <S extends Schema.Top>(schema: S, input: unknown, where: "body" | "query"): S["Type"] => {
  // A body's field the route does not know (a misspelt "fliter") is refused, not ignored: ignored,
  // it would answer a different question than the one asked. Only the top level: nested values
  // (events, say) are their Schemas' business. A query's extra parameters (cache busters) pass.
  if (where === "body" && "fields" in schema && typeof input === "object" && input !== null && !Array.isArray(input)) {
    const known = schema.fields as Readonly<Record<string, unknown>>
    const unknown = Object.keys(input).find((k) => !Object.hasOwn(known, k))
    if (unknown !== undefined) {
      throw new InvalidInput({ field: unknown, message: `The request's body has a field ${JSON.stringify(unknown)} this route does not take; it takes ${Object.keys(known).join(", ")} (GET /api/openapi.json).` })
    }
  }
  try {
    return Schema.decodeUnknownSync(Schema.toCodecJson(schema) as unknown as Schema.Codec<S["Type"], unknown>)(input, { errors: "all", onExcessProperty: "ignore" })
  } catch (e) {
    if (!Schema.isSchemaError(e)) throw e
    const field = fieldOf(e.issue, "")
    throw new InvalidInput({
      field: field === "" ? where : field,
      message: `The request's ${where} is not valid${field === "" ? "" : ` (${field})`}: ${e.message.replaceAll("\n", " ")}. See GET /api/openapi.json for this route's ${where}.`
    })
  }
}

/** A query string as fields: one value as a string, a repeated parameter as a list. */
const queryFields = (c: Context): Record<string, string | string[]> => {
  const fields: Record<string, string | string[]> = {}
  for (const [k, vs] of Object.entries(c.req.queries())) fields[k] = vs.length === 1 ? vs[0] : vs
  return fields
}

const jsonBody = async (c: Context): Promise<unknown> => {
  const type = c.req.header("content-type")
  if (type === undefined || type.split(";")[0].trim().toLowerCase() !== "application/json") {
    throw new InvalidInput({ field: "content-type", message: `Send the body as JSON with Content-Type: application/json${type === undefined ? " (the header is missing)" : `, not ${JSON.stringify(type)}`}.` })
  }
  const text = await c.req.text()
  try {
    return JSON.parse(text === "" ? "{}" : text)
  } catch (e) {
    throw new InvalidInput({ field: "body", message: `The request body is not valid JSON: ${(e as Error).message}.` })
  }
}

/** `/api/runledger/runs/{runId}` as Hono's `/api/runledger/runs/:runId` (`{path+}` as `:path{.+}`). */
export const honoPath = (path: string): string => path.replace(/\{([A-Za-z0-9_]+)(\+?)\}/g, (_, name: string, rest: string) => (rest === "+" ? `:${name}{.+}` : `:${name}`))

/** The names of a path's parameters, in order. */
export const pathParams = (path: string): ReadonlyArray<string> => Array.from(path.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g), (m) => m[1])

export interface MountOptions {
  /** Run before a route with a JSON body (the server's body limit). */
  readonly bodyLimit?: MiddlewareHandler
  /** The path below which an unmatched request gets the native 404 (default /api/runledger). */
  readonly prefix?: string
}

/** The media types an Accept header asks for (parameters and q-values aside; `q=0` refuses one). */
const accepted = (accept: string | undefined): ReadonlyArray<string> =>
  accept === undefined
    ? []
    : accept
        .split(",")
        .map((part) => part.split(";").map((p) => p.trim().toLowerCase()))
        .filter(([, ...params]) => !params.some((p) => /^q=0(\.0*)?$/.test(p)))
        .map(([type]) => type)

/** Mount `routes` on `app`, plus the native 404 for anything else below the prefix. */
export const mountRoutes = (app: Hono<{ Bindings: HttpBindings }>, routes: ReadonlyArray<AnyRoute>, ctx: NativeContext, options: MountOptions = {}): void => {
  for (const r of routes) {
    const handler = async (c: Context): Promise<Response> => {
      try {
        // Hono has percent-decoded them once already: decoding again would read "%25" as the start of an escape.
        const params: Record<string, string> = {}
        for (const name of pathParams(r.path)) params[name] = c.req.param(name) ?? ""
        const query = r.query === undefined ? {} : decodeInput(r.query, queryFields(c), "query")
        const body = r.body === undefined ? undefined : decodeInput(r.body, await jsonBody(c), "body")
        const t0 = performance.now()
        const out = await r.handle({ params, query, body, request: c.req.raw }, ctx)
        if (out instanceof Response) return out
        if (isRaw(r.response)) throw new TypeError(`The route ${r.method} ${r.path} must answer with a Response.`)
        const t1 = performance.now()
        // Server-Timing: how long the answer took to compute and to write, for the browser's
        // Resource Timing (the UI's scale test splits a chart's wait with it).
        const timing = (t2: number) => `handle;dur=${(t1 - t0).toFixed(1)}, encode;dur=${(t2 - t1).toFixed(1)}`
        const asked = accepted(c.req.header("accept"))
        const alternative = r.alternatives?.find((a) => asked.includes(a.contentType))
        if (alternative !== undefined) {
          const bytes = alternative.encode(out)
          return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": alternative.contentType, "server-timing": timing(performance.now()), vary: "accept" })
        }
        const text = JSON.stringify(r.encode === undefined ? Schema.encodeUnknownSync(Schema.toCodecJson(r.response))(out) : r.encode(out))
        return c.body(text, 200, { "content-type": "application/json", "server-timing": timing(performance.now()), ...(r.alternatives === undefined ? {} : { vary: "accept" }) })
      } catch (e) {
        return errorJson(c, e)
      }
    }
    const path = honoPath(r.path)
    if (r.body !== undefined && options.bodyLimit !== undefined) app.on(r.method, path, options.bodyLimit, handler)
    else app.on(r.method, path, handler)
  }
  const prefix = options.prefix ?? "/api/runledger"
  app.all(`${prefix}/*`, (c) => c.json({ error: { _tag: "NotFound", kind: "route", id: `${c.req.method} ${c.req.path}`, message: `No route ${c.req.method} ${c.req.path}; GET /api/openapi.json lists them.` } }, 404))
}
