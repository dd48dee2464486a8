/**
 * `GET /api/openapi.json`: the OpenAPI 3.1 document of the native routes, generated from their
 * Schemas (effect's JSON Schema generation, the encoded JSON side of each Schema), never written by
 * hand. Every Schema of every route goes through one multi-document, so a Schema with an
 * `identifier` (RunView, ErrorBody, MetricValue...) is one component, referenced wherever used.
 */
import { JsonSchema, Schema, SchemaRepresentation } from "effect"
import { type AnyRoute, ErrorBody, isRaw, pathParams, route } from "./route.ts"

type Json = Record<string, unknown>

const ERROR_RESPONSE = { description: "An error: the status by its `_tag` (400 bad input, 404 not found, 409 conflict, 500 storage).", content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } } }

/** The document for `routes` (the server's whole list, this route included). */
export const openApiDocument = (routes: ReadonlyArray<AnyRoute>, info: { readonly title: string; readonly version: string }): Json => {
  // Every Schema once, in order; `slots` says where each route's go.
  const asts: Array<Schema.Top["ast"]> = [ErrorBody.ast]
  const slot = (s: Schema.Top | undefined): number | undefined => {
    if (s === undefined) return undefined
    asts.push(s.ast)
    return asts.length - 1
  }
  const slots = routes.map((r) => ({ query: slot(r.query), body: slot(r.body), response: isRaw(r.response) ? undefined : slot(r.response as Schema.Top) }))
  const multi = JsonSchema.toMultiDocumentOpenApi3_1(
    SchemaRepresentation.toJsonSchemaMultiDocument(SchemaRepresentation.toRepresentations(asts as [Schema.Top["ast"], ...Array<Schema.Top["ast"]>]))
  )
  const schemaAt = (i: number): Json => multi.schemas[i] as Json

  const paths: Record<string, Json> = {}
  routes.forEach((r, i) => {
    const s = slots[i]
    const parameters: Json[] = pathParams(r.path).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }))
    if (s.query !== undefined) {
      const q = schemaAt(s.query)
      const required = new Set((q.required as string[] | undefined) ?? [])
      for (const [name, schema] of Object.entries((q.properties as Record<string, Json> | undefined) ?? {})) {
        parameters.push({ name, in: "query", required: required.has(name), schema })
      }
    }
    const ok = isRaw(r.response)
      ? { description: r.response.description, content: { [r.response.contentType]: {} } }
      : {
          description: ["Success", ...(r.alternatives ?? []).map((a) => `As ${a.contentType} (send Accept: ${a.contentType}): ${a.description}`)].join("\n\n"),
          content: {
            "application/json": { schema: schemaAt(s.response!) },
            ...Object.fromEntries((r.alternatives ?? []).map((a) => [a.contentType, { schema: { type: "string", contentMediaType: a.contentType } }]))
          }
        }
    const operation: Json = {
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
      summary: r.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(s.body !== undefined ? { requestBody: { required: true, content: { "application/json": { schema: schemaAt(s.body) } } } } : {}),
      responses: { "200": ok, default: ERROR_RESPONSE }
    }
    const path = r.path.replace(/\{([A-Za-z0-9_]+)\+\}/g, "{$1}")
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: operation }
  })
  return {
    openapi: "3.1.0",
    info: { ...info, description: "runledger's native API. MLflow's REST API 2.0 is served beside it under /api/2.0/mlflow (see MLflow's documentation)." },
    paths,
    components: { schemas: multi.definitions }
  }
}

/**
 * The route serving the document of `routes` (itself added). The document is built on the first
 * request and kept: the routes are fixed once the server starts.
 */
export const openApiRoute = (routes: () => ReadonlyArray<AnyRoute>, version: string): AnyRoute => {
  let doc: Json | undefined
  const self: AnyRoute = route({
    method: "GET",
    path: "/api/openapi.json",
    summary: "This document: every native route, generated from the routes' Schemas.",
    response: { contentType: "application/json", description: "The OpenAPI 3.1 document." },
    handle: async () => {
      doc ??= openApiDocument([...routes(), self], { title: "runledger", version })
      return Response.json(doc)
    }
  })
  return self
}
