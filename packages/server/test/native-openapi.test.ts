/**
 * The OpenAPI document is generated from the routes: every route served is in it, every $ref
 * resolves, and a route added to the list appears without anyone writing its description.
 */
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventRoutes } from "../src/native/events.ts"
import { NATIVE_ROUTES } from "../src/native/index.ts"
import { openApiDocument } from "../src/native/openapi.ts"
import { MetricValue } from "@runledger/runtime"
import { type AnyRoute, route } from "../src/native/route.ts"
import { type RunningServer, startServer } from "../src/server.ts"
import { storeDir } from "./helpers.ts"

type Json = Record<string, unknown>

/** Every `$ref` in `doc`, and the ones that do not resolve to a component. */
const refs = (doc: Json): { all: string[]; dangling: string[] } => {
  const all: string[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (k === "$ref" && typeof x === "string") all.push(x)
        else walk(x)
      }
    }
  }
  walk(doc)
  const schemas = ((doc.components as Json).schemas ?? {}) as Json
  return { all, dangling: all.filter((r) => !(r.startsWith("#/components/schemas/") && Object.hasOwn(schemas, r.slice("#/components/schemas/".length)))) }
}

/** The structural checks: version, every route's operation, path parameters declared, refs resolved. */
const checkDocument = (doc: Json, routes: ReadonlyArray<AnyRoute>): void => {
  expect(doc.openapi).toBe("3.1.0")
  const paths = doc.paths as Record<string, Record<string, Json>>
  for (const r of routes) {
    const path = r.path.replace(/\{(\w+)\+\}/g, "{$1}")
    const op = paths[path]?.[r.method.toLowerCase()]
    expect(op, `${r.method} ${r.path}`).toBeDefined()
    expect(op.summary).toBe(r.summary)
    const declared = ((op.parameters as Json[] | undefined) ?? []).filter((p) => p.in === "path").map((p) => p.name)
    expect(declared).toEqual(Array.from(path.matchAll(/\{(\w+)\}/g), (m) => m[1]))
    expect((op.responses as Json)["200"]).toBeDefined()
  }
  const { dangling } = refs(doc)
  expect(dangling).toEqual([])
}

describe("the OpenAPI document", () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({ dir: storeDir(), port: 0 })
  })
  afterAll(() => server?.close())

  it("is served at /api/openapi.json with every native route (the reads' and the events'), and every schema resolves", async () => {
    const res = await fetch(`${server.url}/api/openapi.json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as Json
    checkDocument(doc, [...NATIVE_ROUTES, ...eventRoutes().routes])
    expect((doc.paths as Json)["/api/runledger/events"]).toBeDefined()
    expect((doc.paths as Json)["/api/openapi.json"]).toBeDefined()
  })

  it("describes a route added to the list: its path and query parameters, its body and response by their Schemas", () => {
    const Point = Schema.Struct({ step: Schema.Int, value: MetricValue }).annotate({ identifier: "TestPoint" })
    const added = route({
      method: "POST",
      path: "/api/runledger/test/{runId}/points/{path+}",
      summary: "a route only this test has",
      query: Schema.Struct({ asOf: Schema.optionalKey(Schema.String), mode: Schema.Literals(["a", "b"]) }),
      body: Schema.Struct({ points: Schema.Array(Point) }),
      response: Schema.Struct({ first: Point }),
      handle: async ({ body }) => ({ first: body.points[0] })
    })
    const routes = [...NATIVE_ROUTES, added]
    const doc = openApiDocument(routes, { title: "t", version: "0" })
    checkDocument(doc, routes)
    const op = (doc.paths as Record<string, Record<string, Json>>)["/api/runledger/test/{runId}/points/{path}"].post
    expect(op.parameters).toEqual([
      { name: "runId", in: "path", required: true, schema: { type: "string" } },
      { name: "path", in: "path", required: true, schema: { type: "string" } },
      { name: "asOf", in: "query", required: false, schema: { type: "string" } },
      { name: "mode", in: "query", required: true, schema: { type: "string", enum: ["a", "b"] } }
    ])
    expect(JSON.stringify(op.requestBody)).toContain("#/components/schemas/TestPoint")
    const components = (doc.components as Json).schemas as Record<string, Json>
    // The metric value's JSON form names the strings that stand for NaN, the infinities and -0.
    expect(JSON.stringify(components)).toContain(`"NaN","Infinity","-Infinity","-0"`)
    expect(components.TestPoint).toBeDefined()
    // Without the route, its component is gone: the document follows the list.
    expect(((openApiDocument(NATIVE_ROUTES, { title: "t", version: "0" }).components as Json).schemas as Json).TestPoint).toBeUndefined()
  })
})
