/**
 * The DuckDB read model against core's folds: for random command sequences run through a memory
 * tracker, the tables equal LogProjection's views (latest metrics: the effective values, i.e.
 * latestMetricsOf, resumes included), every point logged is in `metrics` with its era and
 * superseded flag as history.ts has them, and the tables do not depend on how the catch-up was cut
 * up (one shot, split at a random position, rebuilt, interrupted and resumed after a reopen).
 * Also: sql() refuses anything but one read-only SELECT over the read model.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DuckDBInstance } from "@duckdb/node-api"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { BLOCK_LEVELS, ReadModel, type SqlRow } from "../packages/readmodel-duckdb/src/index.ts"
import {
  type EventStoreShape,
  latestMetricsOf,
  LogProjection,
  makeMemoryEventStore,
  metricHistoryOf,
  type RecordedEvent,
  runStream
} from "../packages/core/src/index.ts"
import {
  type Run,
  type TrackerClient
} from "../packages/tracker/src/index.ts"
import { anyNumber, sameValue } from "@runledger/store-conformance/arbitraries"
import { parseFilterSync, parseOrderBySync } from "../packages/search-syntax/src/index.ts"
import { searchSql } from "../packages/readmodel-duckdb/src/queries/search.ts"
import { memoryClient } from "../packages/tracker/test/memory-client.ts"

// -- random command sequences ---------------------------------------------------

type Op =
  | { op: "metric"; run: number; key: string; value: number; step: number | undefined }
  | { op: "param"; run: number; key: string; value: string | number | boolean }
  | { op: "tag"; run: number; key: string; value: string }
  | { op: "untag"; run: number; key: string }
  | { op: "artifact"; run: number; path: string; text: string }
  | { op: "input"; run: number; name: string; context: string | undefined }
  | { op: "end"; run: number; status: "FINISHED" | "FAILED" | "KILLED" }
  | { op: "resume"; run: number; fromStep: number }
  | { op: "delete"; run: number }
  | { op: "restore"; run: number }
  | { op: "experiment"; action: "rename" | "delete" | "restore" | "fork" }
  | { op: "model"; action: "register" | "version" | "stage" | "alias" | "unalias" | "delete" | "rename"; run: number; n: number }
  | { op: "start" }
  | { op: "await" }

const RUNS = 3
/** Mostly near steps (ties, out of order), some far apart: blocks at every level, merged across transactions. */
const stepArb = fc.oneof({ weight: 3, arbitrary: fc.nat(12) }, { weight: 1, arbitrary: fc.nat(300_000) })
const keys = fc.constantFrom("loss", "acc", "lr", "a/b")
const run = fc.nat(RUNS - 1)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant("metric" as const), run, key: keys, value: anyNumber, step: fc.option(stepArb, { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("param" as const), run, key: keys, value: fc.oneof(fc.constantFrom("x", "y"), fc.constantFrom(0.1, 1e21, -2), fc.boolean()) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("tag" as const), run, key: keys, value: fc.constantFrom("u", "v") }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("untag" as const), run, key: keys }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("artifact" as const), run, path: fc.constantFrom("a.txt", "m/w.json"), text: fc.string({ maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("input" as const), run, name: fc.constantFrom("train", "eval"), context: fc.option(fc.constantFrom("train", "eval"), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("end" as const), run, status: fc.constantFrom("FINISHED" as const, "FAILED" as const, "KILLED" as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("resume" as const), run, fromStep: stepArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), run }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("restore" as const), run }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("experiment" as const), action: fc.constantFrom("rename" as const, "delete" as const, "restore" as const, "fork" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("model" as const), action: fc.constantFrom("register" as const, "version" as const, "stage" as const, "alias" as const, "unalias" as const, "delete" as const, "rename" as const), run, n: fc.integer({ min: 1, max: 3 }) })
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("start" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("await" as const) }) }
)
const opsArb = fc.array(opArb, { maxLength: 50 })

const collect = (store: EventStoreShape, from = 0): Promise<RecordedEvent[]> => Effect.runPromise(Stream.runCollect(store.readAll(from)))

interface Log {
  readonly tracker: TrackerClient
  readonly store: EventStoreShape
  readonly events: RecordedEvent[]
  readonly runIds: ReadonlyArray<string>
}

/** Run the commands through a memory tracker; refusals (logging to an ended run, ...) are part of the game. */
const makeLog = async (ops: ReadonlyArray<Op>): Promise<Log> => {
  const { tracker, store } = await memoryClient()
  const handles: Run[] = []
  for (let i = 0; i < RUNS; i++) handles.push(await tracker.startRun({ experiment: i === 2 ? "other" : "exp", name: `r${i}` }))
  const runIds = handles.map((h) => h.id)
  // Commands go to the latest runs: those started mid-way ("start") get their share.
  const at = (n: number) => handles.length - 1 - n
  const pending: Array<Promise<unknown>> = []
  const quietly = (p: Promise<unknown>) => pending.push(p.catch(() => {}))
  let stages = 0
  for (const [i, o] of ops.entries()) {
    switch (o.op) {
      case "metric":
        quietly(handles[at(o.run)].logMetric(o.key, o.value, { step: o.step, timestamp: 1000 + i }))
        break
      case "param":
        quietly(handles[at(o.run)].logParam(o.key, o.value))
        break
      case "tag":
        quietly(handles[at(o.run)].setTag(o.key, o.value))
        break
      case "untag":
        quietly(handles[at(o.run)].deleteTag(o.key))
        break
      case "artifact":
        quietly(handles[at(o.run)].logText(o.text, o.path))
        break
      case "input":
        quietly(handles[at(o.run)].logInput({ name: o.name, digest: "d1", sourceType: "local", source: `/data/${o.name}`, tags: o.context === undefined ? {} : { "mlflow.data.context": o.context } }))
        break
      case "end":
        quietly(handles[at(o.run)].end({ status: o.status }))
        break
      case "resume": {
        await Promise.all(pending)
        await handles[at(o.run)].flush().catch(() => {})
        const resumed = await tracker.resumeRun(runIds[at(o.run)], { fromStep: o.fromStep }).catch(() => undefined)
        if (resumed !== undefined) handles[at(o.run)] = resumed
        break
      }
      case "delete":
        await Promise.all(pending)
        await tracker.deleteRun(runIds[at(o.run)]).catch(() => {})
        break
      case "restore":
        await Promise.all(pending)
        await tracker.restoreRun(runIds[at(o.run)]).catch(() => {})
        break
      case "experiment": {
        const action = o.action
        const ref = (await tracker.listExperiments({ viewType: "all" })).find((e) => e.id === handles[0].experimentId)!.name
        if (action === "rename") await tracker.renameExperiment(ref, `exp-${i}`).catch(() => {})
        else if (action === "delete") await tracker.deleteExperiment(ref).catch(() => {})
        else if (action === "restore") await tracker.restoreExperiment(ref).catch(() => {})
        else await tracker.forkExperiment(ref, { name: `fork-${i}`, overrides: { lr: 0.5 }, tags: { t: "f" } }).catch(() => {})
        break
      }
      case "model": {
        await Promise.all(pending)
        // Three names, so renames move models between them (and back).
        const name = `m${o.n % 3}`
        if (o.action === "register") await tracker.registerModel(name, { description: "d", tags: { k: "v" } }).catch(() => {})
        else if (o.action === "version") await tracker.createModelVersion(name, { runId: runIds[at(o.run)], artifactPath: "a.txt" }).catch(() => {})
        else if (o.action === "stage") await tracker.transitionStage(name, o.n, (["Staging", "Production", "Archived"] as const)[stages++ % 3], { archiveExisting: true }).catch(() => {})
        else if (o.action === "alias") await tracker.setAlias(name, "champion", o.n).catch(() => {})
        else if (o.action === "delete") await tracker.deleteModel(name).catch(() => {})
        else if (o.action === "rename") await tracker.renameModel(name, `m${(o.n + o.run + 1) % 3}`).catch(() => {})
        else await tracker.deleteAlias(name, "champion").catch(() => {})
        break
      }
      case "start": {
        // Refused while the experiment is deleted.
        const started = await tracker.startRun({ experiment: "exp", name: `s${i}`, tags: { late: "yes" } }).catch(() => undefined)
        if (started !== undefined) {
          handles.push(started)
          runIds.push(started.id)
        }
        break
      }
      case "await":
        await Promise.all(pending)
        break
    }
  }
  await Promise.all(pending)
  await Promise.all(handles.map((h) => h.flush().catch(() => {})))
  return { tracker, store, events: await collect(store), runIds }
}

// -- read model helpers ------------------------------------------------------------

const tempDirs: string[] = []
const tempFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-rm-"))
  tempDirs.push(dir)
  return join(dir, "model.duckdb")
}
const cleanup = () => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

const withModel = async <A>(f: (model: ReadModel, file: string) => Promise<A>, file = tempFile(), summariseAfter?: number): Promise<A> => withModelAfter(f, file, summariseAfter)

const withModelAfter = async <A>(f: (model: ReadModel, file: string) => Promise<A>, file: string, summariseAfter: number | undefined): Promise<A> => {
  const model = await ReadModel.open({ file, threads: 1, ...(summariseAfter === undefined ? {} : { summariseAfter }) })
  try {
    return await f(model, file)
  } finally {
    await model.close()
  }
}

async function* batchesOf(events: ReadonlyArray<RecordedEvent>, size: number, failAfter = Infinity): AsyncGenerator<RecordedEvent[]> {
  let n = 0
  for (let i = 0; i < events.length; i += size) {
    if (n++ >= failAfter) throw new Error("the source broke down")
    yield events.slice(i, i + size)
  }
}

const TABLES = [
  "readmodel_state", "experiments", "runs", "params", "tags", "artifacts", "run_inputs", "metric_series", "metric_points", "metric_blocks",
  "latest_metric_values", "metrics", "latest_metrics", "models", "model_versions", "model_aliases"
] as const

/** Every table and view, sorted: equal dumps mean identical tables. */
const dump = async (model: ReadModel): Promise<Record<string, SqlRow[]>> => {
  const out: Record<string, SqlRow[]> = {}
  for (const t of TABLES) out[t] = await model.sql(`SELECT * FROM ${t} ORDER BY ALL`)
  return out
}

const byRun = (rows: ReadonlyArray<SqlRow>, runId: string, value: (r: SqlRow) => unknown = (r) => r.value, key = "key") =>
  Object.fromEntries(rows.filter((r) => r.run_id === runId).map((r) => [r[key] as string, value(r)]))

/** The read model's tables against core's folds of the same log. */
const checkAgainstCore = async (model: ReadModel, log: Log): Promise<void> => {
  const projection = new LogProjection()
  for (const e of log.events) projection.apply(e)
  const [runs, params, tags, latest, artifacts, experiments, inputs] = await Promise.all(
    ["runs", "params", "tags", "latest_metrics", "artifacts", "experiments", "run_inputs ORDER BY position"].map((t) => model.sql(`SELECT * FROM ${t}`))
  )
  expect(runs.map((r) => r.run_id).sort()).toEqual([...projection.runs.keys()].sort())
  for (const runId of projection.runs.keys()) {
    const view = projection.runView(runId)!
    const row = runs.find((r) => r.run_id === runId)!
    expect({
      experimentId: row.experiment_id, name: row.run_name, status: row.status, startTime: row.start_time, endTime: row.end_time,
      lifecycle: row.lifecycle, parentRunId: row.parent_run_id, error: row.error_message, resumedFrom: row.resumed_from,
      source: JSON.parse(row.source as string), environment: JSON.parse(row.environment as string)
    }).toEqual({
      experimentId: view.experimentId, name: view.name, status: view.status, startTime: view.startTime, endTime: view.endTime,
      // The table keeps the run's own lifecycle (queries join experiments for theirs); the view counts both.
      lifecycle: projection.runs.get(runId)!.deleted ? "deleted" : "active", parentRunId: view.parentRunId, error: view.error?.message ?? null, resumedFrom: view.resumedFrom,
      source: view.source, environment: view.environment
    })
    expect(byRun(params, runId)).toEqual(Object.fromEntries(Object.entries(view.params).map(([k, v]) => [k, String(v)])))
    expect(byRun(params, runId, (r) => r.value_type)).toEqual(Object.fromEntries(Object.entries(view.params).map(([k, v]) => [k, typeof v])))
    expect(byRun(tags, runId)).toEqual(view.tags)
    expect(byRun(artifacts, runId, (r) => ({ path: r.path, sha256: r.sha256, size: r.size, mediaType: r.media_type }), "path"))
      .toEqual(Object.fromEntries(view.artifacts.map((a) => [a.path, a])))
    expect(inputs.filter((r) => r.run_id === runId).map((r) => ({
      name: r.name, digest: r.digest, sourceType: r.source_type, source: r.source, tags: JSON.parse(r.tags as string), context: r.context
    }))).toEqual(view.inputs.map((i) => ({ ...i, context: i.tags["mlflow.data.context"] ?? null })))

    // Latest metrics: the effective values (history.ts), which are LogProjection's when the run never resumed.
    const events = log.events.filter((e) => e.stream === runStream(runId))
    const allKeys = new Set(events.flatMap((e) => (e.type === "MetricsLogged" ? e.data.keys : [])))
    const effective = latestMetricsOf(events, allKeys)
    const actual = byRun(latest, runId, (r) => ({ value: r.value, step: r.step, timestamp: r.timestamp }))
    expect(sameValue(actual, Object.fromEntries([...effective].map(([k, p]) => [k, { value: p.value, step: p.step, timestamp: p.timestamp }])))).toBe(true)
    if (view.resumedFrom.length === 0) {
      expect(sameValue(byRun(latest, runId), view.metrics)).toBe(true)
    }
    const live = await log.tracker.getRun(runId)
    expect(sameValue(byRun(latest, runId), live.metrics)).toBe(true)
  }
  const expectedExperiments = projection.listExperiments("all").map((e) => ({
    experiment_id: e.id, name: e.name, lifecycle: e.lifecycle, created_at: e.createdAt, parent_id: e.parentId, tags: e.tags, overrides: e.overrides
  }))
  const actualExperiments = experiments.map((e): SqlRow => ({ ...e, tags: JSON.parse(e.tags as string), overrides: JSON.parse(e.overrides as string) }))
  expect(actualExperiments.sort((a, b) => String(a.experiment_id).localeCompare(String(b.experiment_id))))
    .toEqual(expectedExperiments.sort((a, b) => a.experiment_id.localeCompare(b.experiment_id)))

  // Models: versions with their stages and aliases.
  for (const m of projection.listModels()) {
    const versions = await model.sql("SELECT version, stage, run_id FROM model_versions WHERE name = $1 ORDER BY version", [m.name])
    expect(versions).toEqual(projection.listModelVersions(m.name)!.map((v) => ({ version: v.version, stage: v.stage, run_id: v.runId })))
    const aliases = await model.sql("SELECT alias, version FROM model_aliases WHERE name = $1 ORDER BY alias", [m.name])
    expect(Object.fromEntries(aliases.map((a) => [a.alias, a.version]))).toEqual(m.aliases)
  }
  expect((await model.sql("SELECT count(*) AS n FROM models"))[0].n).toBe(projection.models.size)
  // A deleted model leaves no version or alias behind.
  const all = projection.listModels()
  expect((await model.sql("SELECT count(*) AS n FROM model_versions"))[0].n).toBe(all.reduce((n, m) => n + m.versions, 0))
  expect((await model.sql("SELECT count(*) AS n FROM model_aliases"))[0].n).toBe(all.reduce((n, m) => n + Object.keys(m.aliases).length, 0))
}

/** Every point ever logged to a known run is in `metrics`, with history.ts's superseded flag and its era. */
const checkEveryPoint = async (model: ReadModel, log: Log): Promise<void> => {
  let total = 0
  for (const runId of log.runIds) {
    const events = log.events.filter((e) => e.stream === runStream(runId))
    const eras: Array<{ key: string; era: number }> = []
    let resumes = 0
    for (const e of events) {
      if (e.type === "RunResumed") resumes++
      if (e.type === "MetricsLogged") for (const key of e.data.keys) eras.push({ key, era: resumes })
    }
    total += eras.length
    for (const key of new Set(eras.map((p) => p.key))) {
      const expected = metricHistoryOf(events, key, { all: true }).map((p) => ({ step: p.step, timestamp: p.timestamp, value: p.value, superseded: p.superseded === true }))
      const rows = await model.sql("SELECT step, timestamp, value, superseded FROM metrics WHERE run_id = $1 AND key = $2 ORDER BY step, position, idx", [runId, key])
      expect(sameValue(rows, expected)).toBe(true)
      const rowEras = await model.sql("SELECT era FROM metrics WHERE run_id = $1 AND key = $2 ORDER BY position, idx", [runId, key])
      expect(rowEras.map((r) => r.era)).toEqual(eras.filter((p) => p.key === key).map((p) => p.era))
    }
  }
  expect((await model.sql("SELECT count(*) AS n FROM metrics"))[0].n).toBe(total)
}

/**
 * metric_blocks against summaries of each series' effective points (history.ts), at every level,
 * for the series with at least `summariseAfter` points logged; none for the others.
 */
const checkBlocks = async (model: ReadModel, log: Log, summariseAfter: number): Promise<void> => {
  const rows = await model.sql(`SELECT s.run_id, s.key, b.level, b.block, b.n, b.first_step, b.first, b.first_negative_zero,
      b.last_step, b.last, b.last_negative_zero, b.last_timestamp, b.min, b.max
    FROM metric_blocks b JOIN metric_series s USING (series_id) ORDER BY s.run_id, s.key, b.level, b.block`)
  const expected: SqlRow[] = []
  const unsignedZero = (x: number) => (x === 0 ? 0 : x)
  for (const runId of [...log.runIds].sort()) {
    const events = log.events.filter((e) => e.stream === runStream(runId))
    const keysLogged = new Set(events.flatMap((e) => (e.type === "MetricsLogged" ? e.data.keys : [])))
    for (const key of [...keysLogged].sort()) {
      const logged = events.reduce((n, e) => n + (e.type === "MetricsLogged" ? e.data.keys.filter((k) => k === key).length : 0), 0)
      if (logged < summariseAfter) continue
      const points = metricHistoryOf(events, key)
      for (const level of BLOCK_LEVELS) {
        const blocks = new Map<number, typeof points>()
        for (const p of points) {
          const b = Math.floor(p.step / 2 ** level)
          blocks.set(b, [...(blocks.get(b) ?? []), p])
        }
        for (const [block, ps] of [...blocks].sort((a, b) => a[0] - b[0])) {
          const finite = ps.map((p) => p.value).filter((v) => !Number.isNaN(v))
          const first = ps[0]
          const last = ps.at(-1)!
          expected.push({
            run_id: runId, key, level, block, n: ps.length,
            first_step: first.step, first: unsignedZero(first.value), first_negative_zero: Object.is(first.value, -0),
            last_step: last.step, last: unsignedZero(last.value), last_negative_zero: Object.is(last.value, -0), last_timestamp: last.timestamp,
            min: finite.length === 0 ? null : unsignedZero(Math.min(...finite)), max: finite.length === 0 ? null : unsignedZero(Math.max(...finite))
          })
        }
      }
    }
  }
  const sorted = (xs: SqlRow[]) => xs.sort((a, b) => String(a.run_id).localeCompare(String(b.run_id)) || String(a.key).localeCompare(String(b.key)) || (a.level as number) - (b.level as number) || (a.block as number) - (b.block as number))
  expect(sameValue(sorted(rows.map((r) => ({ ...r, min: r.min === null ? null : unsignedZero(r.min as number), max: r.max === null ? null : unsignedZero(r.max as number) }))), sorted(expected))).toBe(true)
}

// -- properties ------------------------------------------------------------------

describe("DuckDB read model", () => {
  it("its tables equal core's folds of random command sequences, and hold every point", async () => {
    try {
      await fc.assert(
        fc.asyncProperty(opsArb, fc.integer({ min: 1, max: 4 }), async (ops, summariseAfter) => {
          const log = await makeLog(ops)
          await withModel(async (model) => {
            const result = await model.catchUp(log.store, { maxEvents: 7 })
            expect(result.position).toBe(log.events.length)
            expect(await model.position()).toBe(log.events.length)
            await checkAgainstCore(model, log)
            await checkEveryPoint(model, log)
            await checkBlocks(model, log, summariseAfter)
          }, tempFile(), summariseAfter)
          await log.tracker.close()
        }),
        {
          numRuns: Number(process.env.RM_RUNS ?? 30),
          // Always tried: a model with a version and an alias deleted, in one transaction and across
          // two, and registered again (random sequences seldom reach a version: it needs a stored artifact).
          examples: [[[
            { op: "artifact", run: 0, path: "a.txt", text: "x" }, { op: "await" },
            { op: "model", action: "version", run: 0, n: 2 }, { op: "model", action: "register", run: 0, n: 2 },
            { op: "model", action: "version", run: 0, n: 2 }, { op: "model", action: "alias", run: 0, n: 1 },
            { op: "model", action: "delete", run: 0, n: 2 }, { op: "model", action: "register", run: 0, n: 1 }, { op: "model", action: "version", run: 0, n: 1 },
            { op: "model", action: "delete", run: 0, n: 1 }, { op: "model", action: "register", run: 0, n: 1 }
          ], 2], [[
            // Renames: m1 -> m2 -> m0 -> m2 with versions and aliases made in the same transactions,
            // m1 registered again once free, then renames refused (same name, taken name).
            { op: "artifact", run: 0, path: "a.txt", text: "x" }, { op: "await" },
            { op: "model", action: "register", run: 0, n: 1 }, { op: "model", action: "version", run: 0, n: 1 }, { op: "model", action: "alias", run: 0, n: 1 },
            { op: "model", action: "rename", run: 0, n: 1 }, { op: "model", action: "version", run: 0, n: 2 }, { op: "model", action: "alias", run: 0, n: 2 },
            { op: "model", action: "rename", run: 0, n: 2 }, { op: "model", action: "version", run: 0, n: 3 }, { op: "model", action: "rename", run: 1, n: 3 },
            { op: "model", action: "register", run: 0, n: 1 }, { op: "model", action: "rename", run: 2, n: 2 }, { op: "model", action: "rename", run: 1, n: 2 }
          ], 2]]
        }
      )
    } finally {
      cleanup()
    }
  })

  it("one-shot, split, rebuilt and interrupted catch-ups give identical tables", async () => {
    try {
      await fc.assert(
        fc.asyncProperty(opsArb, fc.nat(200), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), async (ops, cut, batchSize, maxEvents, summariseAfter) => {
          const log = await makeLog(ops)
          const split = cut % (log.events.length + 1)
          const withModel = <A>(f: (model: ReadModel, file: string) => Promise<A>, file = tempFile()) => withModelAfter(f, file, summariseAfter)
          const oneShot = await withModel(async (model) => {
            await model.catchUp(log.store)
            return dump(model)
          })
          // At a random split: the first part as batches, the rest from the store.
          const splitDump = await withModel(async (model) => {
            await model.catchUp(batchesOf(log.events.slice(0, split), batchSize), { maxEvents })
            expect(await model.position()).toBe(split)
            const again = await model.catchUp(batchesOf(log.events, batchSize), { maxEvents })
            expect(again.from).toBe(split)
            expect(await model.position()).toBe(log.events.length)
            const d = await dump(model)
            await model.rebuild(log.store, { maxEvents })
            expect(sameValue(await dump(model), d)).toBe(true)
            return d
          })
          expect(sameValue(splitDump, oneShot)).toBe(true)
          // A source that breaks down mid-way: the transaction in flight rolls back; after a reopen
          // the catch-up resumes from the last committed position.
          const file = tempFile()
          const committed: number[] = []
          await withModel(async (model) => {
            const broken = model.catchUp(batchesOf(log.events, batchSize, 2), { maxEvents, onProgress: (p) => committed.push(p) })
            if (log.events.length > 2 * batchSize) await expect(broken).rejects.toThrow(/broke down/)
            else await broken
            expect(await model.position()).toBe(committed.at(-1) ?? 0)
          }, file)
          // Likewise a failure after a commit (onProgress throws).
          await withModel(async (model) => {
            const failing = model.catchUp(log.store, { maxEvents, onProgress: () => { throw new Error("progress failed") } })
            if (await model.position() < log.events.length) await expect(failing).rejects.toThrow(/progress failed/)
            else await failing
          }, file)
          const resumed = await withModel(async (model) => {
            await model.catchUp(log.store, { maxEvents })
            return dump(model)
          }, file)
          expect(sameValue(resumed, oneShot)).toBe(true)
          await log.tracker.close()
        }),
        { numRuns: Number(process.env.RM_RUNS2 ?? 9) }
      )
    } finally {
      cleanup()
    }
  })

  it("catching up in one go, in random slices and event by event gives identical tables, with each key once", async () => {
    // The identifying columns of each keyed table (schema.ts declares no PRIMARY KEY: the fold keeps them unique).
    const keyed: Record<string, string> = {
      experiments: "experiment_id", runs: "run_id", params: "run_id, key", tags: "run_id, key", artifacts: "run_id, path", run_inputs: "run_id, position",
      latest_metric_values: "run_id, key", metric_series: "series_id", models: "name", model_versions: "name, version", model_aliases: "name, alias"
    }
    let lateRuns = 0
    // More params and tags than opsArb has: the same key set again in a later transaction is the case to get right.
    const rewrites = fc.record({ op: fc.constantFrom("param" as const, "tag" as const), run, key: keys, value: fc.constantFrom("u", "v") })
    // And runs started mid-way, whose rows are appended rather than merged.
    const starts = fc.constant({ op: "start" as const })
    const denseOps = fc.array(fc.oneof({ weight: 4, arbitrary: opArb }, { weight: 2, arbitrary: rewrites }, { weight: 1, arbitrary: starts }), { maxLength: 40 })
    try {
      await fc.assert(
        fc.asyncProperty(denseOps, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), async (ops, cuts, maxEvents, summariseAfter) => {
          const log = await makeLog(ops)
          const n = log.events.length
          lateRuns += log.runIds.length - RUNS
          const withModel = <A>(f: (model: ReadModel) => Promise<A>) => withModelAfter(f, tempFile(), summariseAfter)
          const oneGo = await withModel(async (model) => {
            await model.catchUp(log.store)
            return dump(model)
          })
          const sliced = await withModel(async (model) => {
            const ends = [...new Set(cuts.map((c) => c % (n + 1)))].sort((a, b) => a - b)
            for (const end of [...ends, n]) await model.catchUp(batchesOf(log.events.slice(0, end), 3), { maxEvents })
            return dump(model)
          })
          const oneByOne = await withModel(async (model) => {
            for (let end = 1; end <= n; end++) await model.catchUp(batchesOf(log.events.slice(0, end), 1))
            for (const [table, key] of Object.entries(keyed)) {
              const [{ repeated }] = await model.sql(`SELECT count(*) AS repeated FROM (SELECT ${key} FROM ${table} GROUP BY ${key} HAVING count(*) > 1)`)
              expect(Number(repeated), `${table}: keys held more than once`).toBe(0)
            }
            return dump(model)
          })
          expect(sameValue(sliced, oneGo)).toBe(true)
          expect(sameValue(oneByOne, oneGo)).toBe(true)
          await log.tracker.close()
        }),
        { numRuns: Number(process.env.RM_RUNS3 ?? 8) }
      )
    } finally {
      cleanup()
    }
    // Runs started mid-way, so rows of runs new in a transaction meet changes to older ones.
    expect(lateRuns).toBeGreaterThan(0)
  }, 300_000)

  it("metric blocks summarise the effective points, however the log is split into transactions", async () => {
    const metricOps = fc.array(
      fc.oneof(
        // NaN and zeros often: min/max skip NaN, first/last keep the sign of zero.
        { weight: 12, arbitrary: fc.record({ op: fc.constant("metric" as const), run, key: keys, value: fc.oneof(anyNumber, fc.constantFrom(NaN, 0, -0, 1)), step: fc.option(stepArb, { nil: undefined }) }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant("resume" as const), run, fromStep: stepArb }) },
        { weight: 1, arbitrary: fc.constant({ op: "await" as const }) }
      ),
      { minLength: 30, maxLength: 150 }
    )
    try {
      await fc.assert(
        // Summarised from a series' first point (in memory as it comes), or later (from its points at commit).
        fc.asyncProperty(metricOps, fc.constantFrom(2, 8, 1000), fc.constantFrom(1, 1, 2, 5, 12), async (ops, maxEvents, summariseAfter) => {
          const log = await makeLog(ops)
          await withModel(async (model) => {
            await model.catchUp(log.store, { maxEvents })
            await checkBlocks(model, log, summariseAfter)
          }, tempFile(), summariseAfter)
          await log.tracker.close()
        }),
        { numRuns: Number(process.env.RM_RUNS3 ?? 12) }
      )
    } finally {
      cleanup()
    }
  })

  it("many points across many chunks and transactions, with resumes: all there, latest values right", async () => {
    try {
      const ops: Op[] = []
      let seed = 7
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
      for (let i = 0; i < 12_000; i++) {
        // Mostly near steps, some far: blocks at every level.
        const step = () => Math.floor(random() * (random() < 0.1 ? 200_000 : 500))
        if (i % 3000 === 2999) ops.push({ op: "resume", run: i % RUNS, fromStep: step() })
        else ops.push({ op: "metric", run: i % RUNS, key: ["loss", "acc", "lr"][Math.floor(random() * 3)], value: random() < 0.05 ? -0 : random() * 10 - 5, step: step() })
      }
      const log = await makeLog(ops)
      await withModel(async (model) => {
        await model.catchUp(log.store, { maxPoints: 2500 })
        await checkAgainstCore(model, log)
        await checkEveryPoint(model, log)
        await checkBlocks(model, log, 256)
      })
      await log.tracker.close()
    } finally {
      cleanup()
    }
  })

  it("a new file has blocks of 64 KB; one made with DuckDB's 256 KB opens as it is and holds the same tables", async () => {
    try {
      const { tracker, store } = await memoryClient()
      const run = await tracker.startRun({ experiment: "e", name: "r" })
      for (let step = 0; step < 5000; step++) run.logMetric("loss", 1 / (step + 1), { step })
      await run.end()
      const blockSize = async (model: ReadModel) => (await model.sql("SELECT block_size FROM pragma_database_size()"))[0].block_size
      const fresh = await withModel(async (model) => {
        await model.catchUp(store)
        expect(await blockSize(model)).toBe(65_536)
        return dump(model)
      })
      // As earlier versions made it: an empty file of DuckDB's default blocks.
      const older = tempFile()
      const instance = await DuckDBInstance.create(older)
      instance.closeSync()
      const reopened = await withModel(async (model) => {
        await model.catchUp(store)
        expect(await blockSize(model)).toBe(262_144)
        return dump(model)
      }, older)
      expect(reopened).toEqual(fresh)
      await tracker.close()
    } finally {
      cleanup()
    }
  })

  it("NaN, -0 and Infinity come back exactly from latest_metrics and metrics, after a checkpoint and reopen", async () => {
    try {
      const { tracker, store } = await memoryClient()
      const values = [0, -0, -0, 0, NaN, Infinity, -Infinity, -0]
      const runs: Run[] = []
      for (const [i, v] of values.entries()) {
        const r = await tracker.startRun({ experiment: "e", name: `r${i}` })
        // Segments of only zeros are what DuckDB compresses to one constant.
        for (let step = 0; step < 3000; step++) r.logMetric("z", step === 2999 ? v : (i % 2 === 0 ? 0 : -0), { step, timestamp: 1 })
        runs.push(r)
      }
      await Promise.all(runs.map((r) => r.flush()))
      const file = tempFile()
      await withModel((model) => model.catchUp(store), file)
      await withModel(async (model) => {
        for (const [i, r] of runs.entries()) {
          const [row] = await model.sql("SELECT value FROM latest_metrics WHERE run_id = $1", [r.id])
          expect(Object.is(row.value, values[i])).toBe(true)
          const points = await model.sql("SELECT value FROM metrics WHERE run_id = $1 ORDER BY step", [r.id])
          expect(points).toHaveLength(3000)
          expect(points.every((p, step) => Object.is(p.value, step === 2999 ? values[i] : (i % 2 === 0 ? 0 : -0)))).toBe(true)
        }
      }, file)
      await tracker.close()
    } finally {
      cleanup()
    }
  })

  it("sql() runs one read-only SELECT and refuses everything else with a clear error", async () => {
    try {
      const { tracker, store } = await memoryClient()
      await tracker.withRun({ experiment: "e", name: "r" }, async (r) => {
        await r.logParams({ lr: 0.1, big: 1e21, on: true })
        r.logMetric("loss", 0.5, { step: 0 })
      })
      await withModel(async (model) => {
        await model.catchUp(store)
        const [run] = await model.sql("SELECT r.run_name, r.start_time, (SELECT p.value FROM params p WHERE p.run_id = r.run_id AND p.key = $1) AS lr FROM runs r", ["lr"])
        expect(run).toMatchObject({ run_name: "r", lr: "0.1" })
        expect(typeof run.start_time).toBe("number")
        expect(await model.sql("SELECT key, value FROM params ORDER BY key")).toEqual([
          { key: "big", value: "1e+21" }, { key: "lr", value: "0.1" }, { key: "on", value: "true" }
        ])
        expect(await model.sql("SELECT 9007199254740993::BIGINT AS big, 42::BIGINT AS small, 'NaN'::DOUBLE AS nan, [1, 2]::BIGINT[] AS list"))
          .toEqual([{ big: "9007199254740993", small: 42, nan: NaN, list: [1, 2] }])
        expect(await model.sql("FROM runs SELECT count(*) AS n")).toEqual([{ n: 1 }])
        expect((await model.sql("WITH x AS (SELECT $1::DOUBLE AS v) SELECT v FROM x", [1e300]))[0].v).toBe(1e300)

        const refused: Array<[string, RegExp]> = [
          ["INSERT INTO tags VALUES ('x', 'k', 'v', 1)", /Only SELECT .* INSERT statement/],
          ["UPDATE runs SET status = 'FAILED'", /Only SELECT .* UPDATE statement/],
          ["DELETE FROM params", /Only SELECT .* DELETE statement/],
          ["DROP TABLE runs", /Only SELECT .* DROP statement/],
          ["CREATE TABLE t (a INTEGER)", /Only SELECT .* CREATE statement/],
          ["ALTER TABLE runs ADD COLUMN x INTEGER", /Only SELECT .* ALTER statement/],
          ["COPY runs TO '/tmp/runledger-leak.csv'", /refused|Only SELECT/],
          ["ATTACH '/tmp/runledger-other.duckdb' AS other", /Only SELECT .* ATTACH statement|refused/],
          ["SELECT * FROM read_csv('/etc/passwd')", /refused: Permission Error: .*\/etc\/passwd/],
          ["SELECT * FROM read_text('/etc/hostname')", /refused: Permission Error/],
          ["SELECT * FROM glob('/etc/*')", /refused: Permission Error/],
          // With file access off, DuckDB does not look for a file by that name: no such table.
          ["SELECT * FROM '/etc/passwd'", /refused|Catalog Error: Table with name \/etc\/passwd does not exist/],
          ["SET enable_external_access = true", /Only SELECT .* SET statement/],
          ["SET threads = 1", /Only SELECT .* SET statement/],
          ["INSTALL httpfs", /Only SELECT/],
          ["LOAD httpfs", /Only SELECT/],
          ["CHECKPOINT", /Only SELECT/],
          ["CALL pragma_version()", /Only SELECT .* CALL statement/],
          ["BEGIN TRANSACTION", /Only SELECT .* TRANSACTION statement/],
          ["EXPORT DATABASE '/tmp/runledger-export'", /refused|Only SELECT/],
          ["SELECT 1; DROP TABLE runs", /exactly one SELECT statement; this text has 2/],
          ["SELECT * FROM query('DELETE FROM runs')", /Expected a single SELECT statement/],
          ["SELEC 1", /^The query has a syntax error: syntax error at or near "SELEC"\. Queries are DuckDB SQL\.$/],
          ["SELECT $1::INTEGER", /1 parameter\(s\) but 0 value/]
        ]
        for (const [query, why] of refused) {
          const error = await model.sql(query).then(() => undefined, (e: unknown) => e)
          expect(error, query).toMatchObject({ _tag: "InvalidInput", field: "sql" })
          expect((error as Error).message, query).toMatch(why)
        }
        // A mistake that is not a write says what the mistake is, and nothing about writes.
        const mistakes: Array<[string, string]> = [
          ["SELECT nope FROM runs", `The query failed: Binder Error: Referenced column "nope" not found in FROM clause.`],
          ["SELECT * FROM nope", "The query failed: Catalog Error: Table with name nope does not exist. The tables are: experiments, runs, params, tags, metrics, latest_metrics, metric_blocks, artifacts, run_inputs, models, model_versions, model_aliases."],
          ["SELECT run_id FROM runs WHERE", `The query has a syntax error: syntax error at end of input. Queries are DuckDB SQL.`],
          ["SELECT 1/'a'", "The query failed: Conversion Error: Could not convert string 'a' to DOUBLE"]
        ]
        for (const [query, message] of mistakes) {
          const error = await model.sql(query).then(() => undefined, (e: unknown) => e)
          expect(error, query).toMatchObject({ _tag: "InvalidInput", field: "sql", message })
        }
        // Nothing changed, and the connection is still usable.
        expect(await model.sql("SELECT count(*) AS n FROM runs")).toEqual([{ n: 1 }])
        expect(await model.sql("SELECT count(*) AS n FROM tags WHERE run_id = 'x'")).toEqual([{ n: 0 }])
        expect(await model.sql("SELECT current_setting('enable_external_access') AS e")).toEqual([{ e: false }])
      })
      await tracker.close()
    } finally {
      cleanup()
    }
  })

  it("runs the query compiler's search SQL (filter, order_by, page) as is", async () => {
    try {
      const { tracker, store } = await memoryClient()
      for (const [i, lr] of [0.1, 0.01, 0.001].entries()) {
        await tracker.withRun({ experiment: "e", name: `r${i}` }, async (r) => {
          await r.logParams({ lr, model: i === 1 ? "rf" : "mlp" })
          r.logMetric("acc", 0.5 + i / 10, { step: 0 })
          if (i === 2) r.logMetric("acc", 0.9, { step: 1 })
        })
      }
      await withModel(async (model) => {
        await model.catchUp(store)
        const run = (filter: string, order: string) => {
          const statement = searchSql({}, parseFilterSync(filter), parseOrderBySync(order), { limit: 10, offset: 0 })
          return model.sql(statement.sql, statement.params).then((rows) => rows.map((r) => r.run_id))
        }
        const names = new Map((await model.sql("SELECT run_id, run_name FROM runs")).map((r) => [r.run_id, r.run_name]))
        const byName = async (p: Promise<unknown[]>) => (await p).map((id) => names.get(id))
        expect(await byName(run("metrics.acc > 0.55 and params.model = 'mlp'", "metrics.acc DESC"))).toEqual(["r2"])
        expect(await byName(run("params.model = 'mlp'", "metrics.acc DESC"))).toEqual(["r2", "r0"])
        expect(await byName(run("metrics.acc >= 0.5 and attributes.status = 'FINISHED'", "params.lr ASC"))).toEqual(["r2", "r1", "r0"])
      })
      await tracker.close()
    } finally {
      cleanup()
    }
  })

  it("sql stops a statement at its timeout (DuckDB has none: the connection is interrupted) and stays usable; sqlStream hands rows over in chunks and stops when told", async () => {
    await withModel(async (model) => {
      await expect(model.sql("SELECT count(*) AS n FROM range(100000000000::BIGINT)", [], { timeoutMs: 300 })).rejects.toMatchObject({
        _tag: "InvalidInput",
        message: "The query ran longer than 0.3 s and was stopped. Narrow it (a WHERE or LIMIT), or allow it more time (--timeout)."
      })
      expect(await model.sql("SELECT 41 + 1 AS n")).toEqual([{ n: 42 }])
      const chunks: number[] = []
      const streamed = await model.sqlStream("SELECT x FROM range(10000) t(x)", [], {}, (rows) => {
        chunks.push(rows.length)
        return chunks.length < 2
      })
      expect(streamed.columns).toEqual(["x"])
      expect(chunks).toHaveLength(2)
      expect(streamed.rows).toBe(chunks[0] + chunks[1])
      expect(streamed.rows).toBeLessThan(10000)
      expect(await model.sql("SELECT count(*) AS n FROM range(10)")).toEqual([{ n: 10 }])
      // The time a slow reader takes over the rows is not the statement's: 5 chunks read at 400 ms each, within 1 s of DuckDB's work.
      let chunksRead = 0
      const slowReader = await model.sqlStream("SELECT x FROM range(10000) t(x)", [], { timeoutMs: 1000 }, async () => {
        chunksRead++
        await new Promise((r) => setTimeout(r, 400))
      })
      expect(slowReader.rows).toBe(10000)
      expect(chunksRead).toBeGreaterThanOrEqual(3)
      // What the reader throws comes back as it is.
      const broken = new Error("the reader broke")
      await expect(model.sqlStream("SELECT 1 AS one", [], {}, () => {
        throw broken
      })).rejects.toBe(broken)
    })
  })

  it("reads run side by side: a long query leaves another connection for the next read; closing waits for the reads asked before it", async () => {
    await withModel(async (model) => {
      let longSettled = false
      const long = model.sql("SELECT count(*) AS n FROM range(100000000000::BIGINT)", [], { timeoutMs: 4000 })
      void long.then(() => (longSettled = true), () => (longSettled = true))
      // Answered by the other connection while the long one runs (with one connection it waited 4 s).
      expect(await model.sql("SELECT 41 + 1 AS n")).toEqual([{ n: 42 }])
      expect(await model.position()).toBe(0)
      expect(longSettled).toBe(false)
      await expect(long).rejects.toMatchObject({ _tag: "InvalidInput" })
      // Both busy: a third read waits for a connection, in turn, and is answered.
      const busy = Promise.allSettled([1, 2].map(() => model.sql("SELECT count(*) AS n FROM range(100000000000::BIGINT)", [], { timeoutMs: 500 })))
      const third = model.sql("SELECT 7 AS n")
      expect(await third).toEqual([{ n: 7 }])
      expect((await busy).map((b) => b.status === "rejected" && (b.reason as { _tag?: string })._tag)).toEqual(["InvalidInput", "InvalidInput"])
      // Reads asked before close run to their end (here, a timeout and an answer) before the connections close; one after is refused.
      const before = [model.sql("SELECT count(*) AS n FROM range(100000000000::BIGINT)", [], { timeoutMs: 300 }), model.sql("SELECT 1 AS n"), model.sql("SELECT 2 AS n")]
      const closed = model.close()
      await expect(before[0]).rejects.toMatchObject({ _tag: "InvalidInput" })
      expect([await before[1], await before[2]]).toEqual([[{ n: 1 }], [{ n: 2 }]])
      await closed
      await expect(model.sql("SELECT 1 AS n")).rejects.toThrow(/is closed/)
    })
  })

  it("refuses a gap in the log and a second handle on one file", async () => {
    try {
      const { tracker, store } = await memoryClient()
      await tracker.withRun({ experiment: "e" }, async (r) => r.logMetric("m", 1))
      const events = await collect(store)
      const file = tempFile()
      await withModel(async (model) => {
        await expect(model.catchUp(batchesOf(events.slice(2), 10))).rejects.toThrow(/jumps from position 0 to 3/)
        expect(await model.position()).toBe(0)
        await expect(ReadModel.open({ file })).rejects.toThrow(/already open in this process/)
        await model.catchUp(batchesOf(events, 10))
        expect(await model.position()).toBe(events.length)
        // Another log: shorter, or with a different event where the model stopped.
        await expect(model.catchUp(batchesOf(events.slice(0, 2), 10))).resolves.toMatchObject({ events: 0 })
        const other = await memoryClient()
        await other.tracker.withRun({ experiment: "e" }, async (r) => r.logMetric("m", 1))
        await other.tracker.withRun({ experiment: "e" }, async (r) => r.logMetric("m", 1))
        await expect(model.catchUp(other.store)).rejects.toThrow(new RegExp(`built from another log: its log begins with event ${events[0].id}, this one with ${(await collect(other.store))[0].id}`))
        await expect(model.catchUp(makeMemoryEventStore())).rejects.toThrow(/built from another log: its log begins with event \S+, this one is empty/)
        // The same beginning, then another event where the model stopped.
        const diverged = [...events.slice(0, -1), { ...events.at(-1)!, id: "another" }]
        await expect(model.catchUp(batchesOf(diverged, 10))).rejects.toThrow(new RegExp(`built from another log: its event ${events.length} has id ${events.at(-1)!.id}, this log's has another`))
        await other.tracker.close()
      }, file)
      await tracker.close()
    } finally {
      cleanup()
    }
  })
})
