/**
 * The native read/analytics API on a real server over a real store (loopback, real DuckDB): every
 * route's answer and error shape, bad input refused with InvalidInput naming the field (and the
 * store untouched), filter errors with their position, time travel, content types, read-only SQL,
 * and the export formats parsed by their own readers.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { startServer, type RunningServer } from "@runledger/server"
import { tableFromIPC } from "apache-arrow"
import { readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Seeded, seedStore, SVG } from "./native-fixture.ts"

type Json = Record<string, any>

let seeded: Seeded
let server: RunningServer
const url = (path: string) => `${server.url}${path}`

const get = async (path: string): Promise<{ status: number; json: Json }> => {
  const res = await fetch(url(path))
  return { status: res.status, json: (await res.json()) as Json }
}
const post = async (path: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }): Promise<{ status: number; json: Json }> => {
  const res = await fetch(url(path), { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Json }
}

/** The store's files and sizes (not the read model): what any append would change. */
const logFiles = (): string => {
  const out: string[] = []
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.name.startsWith("readmodel")) continue
      const p = join(d, f.name)
      if (f.isDirectory()) walk(p)
      else out.push(`${p}:${statSync(p).size}`)
    }
  }
  walk(seeded.dir)
  return out.sort().join("\n")
}

beforeAll(async () => {
  seeded = await seedStore()
  server = await startServer({ dir: seeded.dir, port: 0 })
})
afterAll(() => server?.close())

describe("reads", () => {
  it("lists experiments with runCount and lastActivity; viewType and a bad viewType", async () => {
    const { status, json } = await get("/api/runledger/experiments")
    expect(status).toBe(200)
    const byName = Object.fromEntries((json.experiments as Json[]).map((e) => [e.name, e]))
    expect(byName.vision.runCount).toBe(3)
    expect(byName.text.runCount).toBe(1)
    expect(byName.vision.lastActivity).toBeGreaterThanOrEqual(byName.vision.createdAt)
    expect(byName.Default.runCount).toBe(0)
    expect(byName.Default.lastActivity).toBeNull()
    expect((await get("/api/runledger/experiments?viewType=deleted")).json.experiments).toEqual([])
    const bad = await get("/api/runledger/experiments?viewType=gone")
    expect(bad.status).toBe(400)
    expect(bad.json.error).toMatchObject({ _tag: "InvalidInput", field: "viewType" })
  })

  it("gets a run with NaN/-0/Infinity as strings, as of a past position, and 404s an unknown one", async () => {
    const [a, b, c, d] = seeded.runIds
    const run = (await get(`/api/runledger/runs/${a}`)).json.run
    expect(run).toMatchObject({ id: a, name: "a", status: "FINISHED", params: { lr: 0.1, model: "cnn" } })
    expect((await get(`/api/runledger/runs/${b}`)).json.run.metrics.loss).toBe("NaN")
    expect((await get(`/api/runledger/runs/${c}`)).json.run.metrics.loss).toBe("-0")
    expect((await get(`/api/runledger/runs/${d}/metrics/loss`)).json.points.map((p: Json) => p.value)).toEqual([2, "Infinity", 0.7])
    const past = await get(`/api/runledger/runs/${a}?asOf=${seeded.firstRunStarted}`)
    expect(past.status).toBe(200)
    expect(past.json.run.params).toEqual({})
    expect(past.json.run.status).toBe("RUNNING")
    const pastSearch = await post("/api/runledger/runs/search", { asOf: String(seeded.firstRunStarted) })
    expect(pastSearch.status).toBe(200)
    expect(pastSearch.json.runs.map((r: Json) => [r.id, r.status])).toEqual([[a, "RUNNING"]])
    const badAsOf = await get(`/api/runledger/runs/${a}?asOf=yesterday-ish`)
    expect(badAsOf.status).toBe(400)
    expect(badAsOf.json.error).toMatchObject({ _tag: "InvalidInput", field: "asOf" })
    const missing = await get("/api/runledger/runs/0000000000000000000000")
    expect(missing.status).toBe(404)
    expect(missing.json.error._tag).toBe("NotFound")
    expect(missing.json.error.message).toMatch(/\w/)
  })

  it("answers a metric key with a slash, and the downsampled histories; refuses a missing field", async () => {
    const [a, b] = seeded.runIds
    expect((await get(`/api/runledger/runs/${a}/metrics/train/acc`)).json.points).toHaveLength(1)
    const { status, json } = await post("/api/runledger/metrics/histories", { runIds: [a, b], key: "loss", maxPoints: 100 })
    expect(status).toBe(200)
    expect(json.series.map((s: Json) => [s.runId, s.points])).toEqual([[a, 3], [b, 3]])
    // Columns, one per bucket field; a NaN value as its string.
    expect(json.series[1].last[2]).toBe("NaN")
    for (const s of json.series) for (const f of ["firstStep", "first", "last", "min", "max", "count", "timestamp"]) expect(s[f]).toHaveLength(s.step.length)
    // As the log held them at a past position: run a's first two points, and nothing of b yet.
    const past = await post("/api/runledger/metrics/histories", { runIds: [a, b], key: "loss", maxPoints: 100, asOf: String(seeded.firstRunSecondLoss) })
    expect(past.status).toBe(200)
    expect(past.json.series.map((s: Json) => [s.runId, s.points, s.last])).toEqual([[a, 2, [1, 0.5]], [b, 0, []]])
    const badAsOf = await post("/api/runledger/metrics/histories", { runIds: [a], key: "loss", maxPoints: 100, asOf: "yesterday-ish" })
    expect(badAsOf.status).toBe(400)
    expect(badAsOf.json.error).toMatchObject({ _tag: "InvalidInput", field: "asOf" })
    const before = logFiles()
    const missing = await post("/api/runledger/metrics/histories", { runIds: [a], maxPoints: 100 })
    expect(missing.status).toBe(400)
    expect(missing.json.error).toMatchObject({ _tag: "InvalidInput", field: "key" })
    const wrong = await post("/api/runledger/metrics/histories", { runIds: [a, 7], key: "loss", maxPoints: 100 })
    expect(wrong.json.error).toMatchObject({ _tag: "InvalidInput", field: "runIds[1]" })
    expect(logFiles()).toBe(before)
  })

  it("lists models and versions; an unknown model is 404", async () => {
    expect((await get("/api/runledger/models")).json.models.map((m: Json) => m.name)).toEqual(["classifier"])
    const versions = (await get("/api/runledger/models/classifier/versions")).json.versions
    expect(versions).toMatchObject([{ name: "classifier", version: 1, runId: seeded.runIds[0] }])
    expect((await get(`/api/runledger/models?asOf=${seeded.firstRunStarted}`)).json.models).toEqual([])
    expect((await get("/api/runledger/models/nope/versions")).status).toBe(404)
  })

  it("lists a run's artifacts and serves each with its media type; SVG under a CSP without scripts", async () => {
    const a = seeded.runIds[0]
    const list = (await get(`/api/runledger/runs/${a}/artifacts`)).json.artifacts as Json[]
    expect(list.map((x) => x.path).sort()).toEqual(["config.json", "notes/100% done.txt", "notes/readme.txt", "plots/loss.svg"])
    // The path is percent-decoded once: "%25" is a literal "%", not the start of another escape.
    const percent = await fetch(url(`/api/runledger/runs/${a}/artifacts/notes/${encodeURIComponent("100% done.txt")}`))
    expect(percent.status).toBe(200)
    expect(await percent.text()).toBe("done\n")
    const svg = await fetch(url(`/api/runledger/runs/${a}/artifacts/plots/loss.svg`))
    expect(svg.status).toBe(200)
    expect(svg.headers.get("content-type")).toMatch(/^image\/svg\+xml/)
    expect(svg.headers.get("content-security-policy")).toMatch(/default-src 'none'/)
    expect(svg.headers.get("content-security-policy")).not.toMatch(/script-src/)
    expect(await svg.text()).toBe(SVG)
    const json = await fetch(url(`/api/runledger/runs/${a}/artifacts/config.json`))
    expect(json.headers.get("content-type")).toMatch(/^application\/json/)
    expect(await json.json()).toEqual({ k: 1 })
    const gone = await get(`/api/runledger/runs/${a}/artifacts/nope.txt`)
    expect(gone.status).toBe(404)
    expect(gone.json.error).toMatchObject({ _tag: "NotFound", kind: "artifact" })
  })

  it("answers an unknown route under /api/runledger with 404 NotFound", async () => {
    const { status, json } = await get("/api/runledger/nothing/here")
    expect(status).toBe(404)
    expect(json.error._tag).toBe("NotFound")
  })
})

describe("analytics", () => {
  it("searches with a filter and order; a malformed filter is a FilterParseError with its position", async () => {
    const { status, json } = await post("/api/runledger/runs/search", { experiments: ["vision"], filter: "params.lr = '0.01'", orderBy: ["attributes.run_name"] })
    expect(status).toBe(200)
    expect(json.runs.map((r: Json) => r.name)).toEqual(["b", "c"])
    expect(json.nextPageToken).toBeNull()
    const page = await post("/api/runledger/runs/search", { maxResults: 2, orderBy: ["attributes.run_name"] })
    expect(page.json.runs).toHaveLength(2)
    const next = await post("/api/runledger/runs/search", { maxResults: 2, orderBy: ["attributes.run_name"], pageToken: page.json.nextPageToken })
    expect(next.json.runs.map((r: Json) => r.name)).toEqual(["c", "d"])
    const before = logFiles()
    const bad = await post("/api/runledger/runs/search", { filter: "metrics.loss >> 1" })
    expect(bad.status).toBe(400)
    expect(bad.json.error).toMatchObject({ _tag: "FilterParseError", input: "metrics.loss >> 1" })
    expect(typeof bad.json.error.position).toBe("number")
    const badOrder = await post("/api/runledger/runs/search", { orderBy: ["metrics.loss SIDEWAYS"] })
    expect(badOrder.json.error._tag).toBe("OrderByParseError")
    const badToken = await post("/api/runledger/runs/search", { pageToken: "not-a-token" })
    expect(badToken.json.error._tag).toBe("PageTokenError")
    expect(logFiles()).toBe(before)
  })

  it("refuses malformed JSON, a wrong content type and a mistyped field with 400 InvalidInput", async () => {
    const before = logFiles()
    const malformed = await post("/api/runledger/runs/search", "{ not json")
    expect(malformed.status).toBe(400)
    expect(malformed.json.error).toMatchObject({ _tag: "InvalidInput", field: "body" })
    const type = await post("/api/runledger/runs/search", {}, { "content-type": "text/plain" })
    expect(type.status).toBe(400)
    expect(type.json.error).toMatchObject({ _tag: "InvalidInput", field: "content-type" })
    const mistyped = await post("/api/runledger/runs/search", { maxResults: "ten" })
    expect(mistyped.status).toBe(400)
    expect(mistyped.json.error).toMatchObject({ _tag: "InvalidInput", field: "maxResults" })
    expect(mistyped.json.error.message).toMatch(/maxResults/)
    const misspelt = await post("/api/runledger/runs/search", { fliter: "params.lr = '0.1'" })
    expect(misspelt.status).toBe(400)
    expect(misspelt.json.error).toMatchObject({ _tag: "InvalidInput", field: "fliter" })
    const notAnObject = await post("/api/runledger/runs/compare", [1, 2])
    expect(notAnObject.json.error._tag).toBe("InvalidInput")
    expect(logFiles()).toBe(before)
  })

  it("compares, ranks and runs the group statistics", async () => {
    const [a, b, c] = seeded.runIds
    const cmp = (await post("/api/runledger/runs/compare", { runIds: [a, b] })).json.comparison
    expect(cmp.runs.map((r: Json) => r.runId)).toEqual([a, b])
    expect(cmp.params.find((p: Json) => p.key === "lr")).toMatchObject({ differs: true })
    expect(cmp.metrics.find((m: Json) => m.key === "loss").values[1].last).toBe("NaN")
    const ranked = (await post("/api/runledger/runs/rank", { experiments: ["vision"], metric: "loss", goal: "min", by: "min" })).json.runs
    expect(ranked.map((r: Json) => r.runId)).toEqual([c, a, b])
    const missing = await post("/api/runledger/runs/rank", { metric: "loss" })
    expect(missing.json.error).toMatchObject({ _tag: "InvalidInput", field: "goal" })
    const stats = await post("/api/runledger/stats", { a: "params.lr = '0.1'", b: "params.lr = '0.01'", metric: "train/acc", resamples: 200, seed: 1 })
    expect(stats.status).toBe(200)
    expect(stats.json.comparison).toMatchObject({ metric: "train/acc", a: { runs: 2 }, b: { runs: 2 } })
  })

  it("streams SQL as NDJSON (columns, then rows) and refuses a write with 400", async () => {
    const res = await fetch(url("/api/runledger/sql"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "SELECT run_name, value FROM latest_metrics JOIN runs USING (run_id) WHERE key = ? ORDER BY run_name", params: ["loss"] }) })
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("application/x-ndjson")
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l))
    expect(lines[0]).toEqual({ columns: ["run_name", "value"] })
    expect(lines.slice(1)).toEqual([["a", 0.25], ["b", "NaN"], ["c", "-0"], ["d", 0.7]])
    const before = logFiles()
    const write = await post("/api/runledger/sql", { query: "DELETE FROM runs" })
    expect(write.status).toBe(400)
    expect(write.json.error).toMatchObject({ _tag: "InvalidInput", field: "sql" })
    expect(logFiles()).toBe(before)
  })

  it("exports CSV, Arrow and Parquet that their own readers parse", async () => {
    const exported = async (format: string) => {
      const res = await fetch(url("/api/runledger/export"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ format, experiments: ["vision"] }) })
      expect(res.status).toBe(200)
      expect(res.headers.get("x-runledger-rows")).toBe("3")
      return { type: res.headers.get("content-type"), bytes: new Uint8Array(await res.arrayBuffer()) }
    }
    const csv = await exported("csv")
    expect(csv.type).toMatch(/^text\/csv/)
    const [header, ...rows] = new TextDecoder().decode(csv.bytes).trim().split("\n")
    expect(header).toContain("params.lr")
    expect(rows).toHaveLength(3)
    const arrow = await exported("arrow")
    expect(arrow.type).toBe("application/vnd.apache.arrow.file")
    expect(tableFromIPC(arrow.bytes).numRows).toBe(3)
    const parquet = await exported("parquet")
    expect(parquet.type).toBe("application/vnd.apache.parquet")
    const file = join(seeded.dir, "..", "export.parquet")
    writeFileSync(file, parquet.bytes)
    const db = await DuckDBInstance.create(":memory:")
    const conn = await db.connect()
    const count = (await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`)).getRowObjectsJS()
    conn.closeSync()
    db.closeSync()
    expect(count).toEqual([{ n: 3 }])
    const bad = await post("/api/runledger/export", { format: "xlsx" })
    expect(bad.json.error).toMatchObject({ _tag: "InvalidInput", field: "format" })
  })
})
