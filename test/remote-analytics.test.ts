/**
 * remoteAnalytics against a real server on loopback: for one store, the same analytics answers
 * in-process and over HTTP (search, compare, rank, stats, histories, sql and sqlStream, export
 * bytes), including NaN, -0 and Infinity, and the same tagged errors.
 *
 * The transport here is plain fetch (the remote branch's http.ts adds the token and retries).
 */
import { openTracker, type Tracker } from "@runledger/runtime"
import { remoteAnalytics } from "../packages/runtime/src/remote/analytics.ts"
import { startServer, type RunningServer } from "@runledger/server"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Seeded, seedStore } from "./native-fixture.ts"

let seeded: Seeded
let server: RunningServer

const failWith = async (res: Response): Promise<never> => {
  const body = (await res.json()) as { error: Record<string, unknown> }
  throw Object.assign(new Error(String(body.error.message)), body.error)
}
const request = async (method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> => {
  const res = await stream(method, path, body)
  return res.json()
}
const stream = async (method: "GET" | "POST", path: string, body?: unknown): Promise<Response> => {
  const res = await fetch(`${server.url}${path}`, { method, ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }) })
  return res.ok ? res : failWith(res)
}

type Analytics = ReturnType<typeof remoteAnalytics>

/** Every question of the test, asked of either side; export files go under `out`. */
const ask = async (t: Analytics, out: string) => {
  const [a, b, c] = seeded.runIds
  const chunks: Array<{ rows: number; columns: ReadonlyArray<string> }> = []
  const collected: unknown[] = []
  const streamed = await t.sqlStream("SELECT run_id, key, step, value FROM metrics ORDER BY run_id, key, step", [], {}, (rows, columns) => {
    chunks.push({ rows: rows.length, columns })
    for (const r of rows) collected.push(r)
  })
  const exports: Record<string, string> = {}
  for (const format of ["csv", "arrow", "parquet"] as const) {
    const file = join(out, `runs.${format}`)
    const r = await t.exportRuns({ format, out: file, orderBy: "attributes.run_name" })
    exports[format] = `${r.rows}x${r.columns}:${readFileSync(file).toString("base64")}`
  }
  return {
    search: await t.searchRuns({ experiments: ["vision"], filter: "metrics.loss < 1 or params.lr = '0.01'", orderBy: ["attributes.run_name DESC"] }),
    page: await t.searchRuns({ maxResults: 2, orderBy: "attributes.run_name" }),
    // Time travel: the search as of the first run's start sees that run only, as it was then.
    past: await t.searchRuns({ asOf: { position: seeded.firstRunStarted } }),
    compare: await t.compareRuns([a, b, c]),
    rank: await t.rankRuns({ metric: "loss", goal: "min", normalize: "zscore", includeAllStatuses: true }),
    stats: await t.compareGroups({ a: "params.lr = '0.1'", b: "params.lr = '0.01'", metric: "train/acc", resamples: 300, seed: 7 }),
    history: await t.downsampledHistory(b, "loss", { maxPoints: 2 }),
    histories: await t.downsampledHistories([a, b, c], "loss", { maxPoints: 10, startStep: 1, endStep: 2 }),
    // Time travel: the histories as the log held them then (the read model holds the present only).
    pastHistories: await t.downsampledHistories([a, b], "loss", { maxPoints: 10, asOf: { position: seeded.firstRunSecondLoss } }),
    sql: await t.sql("SELECT run_name, value, value IS NULL AS missing FROM latest_metrics JOIN runs USING (run_id) WHERE key = ? ORDER BY run_name", ["loss"]),
    streamed: { ...streamed, collected },
    exports
  }
}

describe("remoteAnalytics", () => {
  let local: Awaited<ReturnType<typeof ask>>
  let remote: Awaited<ReturnType<typeof ask>>
  let tracker: Tracker
  beforeAll(async () => {
    seeded = await seedStore()
    // In-process first, then the server over the same store (one owner of the read model at a time).
    tracker = await openTracker({ dir: seeded.dir })
    try {
      local = await ask(tracker, mkdtempSync(join(tmpdir(), "runledger-local-")))
    } finally {
      await tracker.close()
    }
    server = await startServer({ dir: seeded.dir, port: 0 })
    remote = await ask(remoteAnalytics(request, stream), mkdtempSync(join(tmpdir(), "runledger-remote-")))
  })
  afterAll(() => server?.close())

  it("gives the same search, comparison, ranking, statistics and histories as in-process", () => {
    expect(remote.search).toEqual(local.search)
    expect(remote.search.runs.length).toBeGreaterThan(0)
    expect(remote.page).toEqual(local.page)
    expect(local.past.runs.map((r) => r.status)).toEqual(["RUNNING"])
    expect(remote.past).toEqual(local.past)
    expect(remote.page.nextPageToken).not.toBeNull()
    expect(remote.compare).toEqual(local.compare)
    expect(remote.rank).toEqual(local.rank)
    expect(remote.stats).toEqual(local.stats)
    expect(remote.history).toEqual(local.history)
    expect(remote.histories).toEqual(local.histories)
    expect(local.pastHistories.map((h) => ({ points: h.points, last: h.buckets.map((b) => b.last) }))).toEqual([{ points: 2, last: [1, 0.5] }, { points: 0, last: [] }])
    expect(remote.pastHistories).toEqual(local.pastHistories)
  })

  it("brings NaN, -0 and Infinity back as numbers", () => {
    const loss = (rows: ReadonlyArray<Record<string, unknown>>, name: string) => rows.find((r) => r.run_name === name)?.value
    expect(remote.sql).toEqual(local.sql)
    expect(loss(remote.sql, "b")).toBeNaN()
    expect(Object.is(loss(remote.sql, "c"), -0)).toBe(true)
    const c = remote.search.runs.find((r) => r.name === "c")
    expect(Object.is(c?.metrics.loss, -0)).toBe(true)
    expect(remote.streamed.collected.some((r) => (r as { value: number }).value === Infinity)).toBe(true)
  })

  it("streams SQL rows with their columns, the same rows as in-process", () => {
    expect(remote.streamed.columns).toEqual(["run_id", "key", "step", "value"])
    expect(remote.streamed.rows).toBe(local.streamed.rows)
    expect(remote.streamed.collected).toEqual(local.streamed.collected)
    expect(remote.streamed.rows).toBe(remote.streamed.collected.length)
  })

  it("exports the same bytes in every format", () => {
    expect(remote.exports).toEqual(local.exports)
  })

  it("rejects with the server's tagged errors, and refuses the read model's upkeep", async () => {
    const t = remoteAnalytics(request, stream)
    await expect(t.searchRuns({ filter: "metrics.loss >> 1" })).rejects.toMatchObject({ _tag: "FilterParseError", input: "metrics.loss >> 1" })
    await expect(t.sql("DROP TABLE runs")).rejects.toMatchObject({ _tag: "InvalidInput", field: "sql" })
    // In-process the read model refuses an unknown run with a RangeError; over HTTP that is a 400 InvalidInput.
    await expect(t.compareRuns(["nope"])).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/nope/) })
    await expect(t.downsampledHistory("nope", "loss", { maxPoints: 5 })).rejects.toMatchObject({ _tag: "NotFound" })
    await expect(t.catchUpReadModel()).rejects.toMatchObject({ _tag: "InvalidInput", field: "readModel" })
    await expect(t.rebuildReadModel()).rejects.toMatchObject({ _tag: "InvalidInput" })
  })
})
