/**
 * Benchmark: read model catch-up, metric points/s.
 *
 * Ours: `ReadModel.catchUp` of a fresh DuckDB read model from position 0, over a log of N metric
 * points held in memory as RecordedEvents (RUNS runs of N / RUNS points each: RunStarted,
 * ParamsLogged, MetricsLogged batches of BATCH points with 4 keys, RunEnded; the runs' batches
 * interleaved as in a sweep), handed over in batches of events. Timed: the whole catch-up, every
 * transaction committed. Not timed: building the log, opening the file.
 *
 * Ceiling: the raw DuckDB appender with data chunks (2048 rows each) inserting the same N rows
 * (run_id, key, step, timestamp, value) from the same events into a bare table, with the same
 * techniques as ours: a commit every TX_POINTS rows, BIGINT columns sent as DOUBLE vectors, one
 * full-size chunk reused. For reference the note also gives a
 * numbers-only bare table (series_id INTEGER instead of the two strings), the shape ours writes.
 *
 * Target: catch-up >= 0.5x the ceiling.
 *
 * Standalone: `node bench/catchup.ts [--points N] [--quick]`.
 */
import { statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { ReadModel } from "../packages/readmodel-duckdb/src/index.ts"
import { DOUBLE, DuckDBDataChunk, type DuckDBType, DuckDBInstance, INTEGER, VARCHAR } from "@duckdb/node-api"
import type { RecordedEvent } from "../packages/core/src/index.ts"
import { type Row, withTempDir } from "./report.ts"

/** figure: catch-up, points/s; ceiling: the raw appender, points/s. */
export type CatchupBenchResult = Pick<Row, "name" | "figure" | "unit" | "ceiling" | "ceilingName" | "ratio" | "target"> & {
  readonly notes: string
  /** The read model's bytes per point beside the numbers-only bare table's (issue 11, item 3: the summaries are part of it). */
  readonly size: Row
}

const KEYS = ["loss", "accuracy", "learning_rate", "grad_norm"] as const
const T0 = 1_700_000_000_000
const BATCH = 1000
const EVENTS_PER_READ = 256
/** Points per transaction, on both sides. */
const TX_POINTS = 1_000_000

const runId = (r: number): string => `0197${r.toString(16).padStart(28, "0")}`

/** The log: per run 2 + points/BATCH + 1 events; metric batches of all runs interleaved. */
export const makeLog = (points: number): RecordedEvent[] => {
  const runs = Math.max(1, Math.min(1000, Math.floor(points / 10_000)))
  const perRun = Math.ceil(points / runs)
  const log: RecordedEvent[] = []
  const versions = new Array<number>(runs).fill(0)
  const push = (r: number, type: string, data: unknown, at: number) => {
    log.push({ id: `e${log.length + 1}`, stream: `run-${runId(r)}`, version: ++versions[r], type, at, data, position: log.length + 1 } as RecordedEvent)
  }
  const environment = { runtime: "node", os: "linux", arch: "x64", cpu: "bench", cpus: 2, memoryBytes: 0, host: "h", pid: 1 }
  for (let r = 0; r < runs; r++) {
    push(r, "RunStarted", { runId: runId(r), experimentId: "exp", name: `run-${r}`, parentRunId: null, tags: { sweep: "bench" }, source: {}, environment }, T0)
    push(r, "ParamsLogged", { params: { lr: 0.001 * (r + 1), layers: r % 4, optimizer: "adam" } }, T0)
  }
  let left = points
  for (let start = 0; start < perRun && left > 0; start += BATCH) {
    for (let r = 0; r < runs && left > 0; r++) {
      const n = Math.min(BATCH, perRun - start, left)
      if (n <= 0) continue
      left -= n
      const keys = new Array<string>(n)
      const values = new Array<number>(n)
      const steps = new Array<number>(n)
      const timestamps = new Array<number>(n)
      for (let j = 0; j < n; j++) {
        const i = start + j
        keys[j] = KEYS[i & 3]
        values[j] = Math.random()
        steps[j] = i >> 2
        timestamps[j] = T0 + (i >> 2) * 10
      }
      push(r, "MetricsLogged", { keys, values, steps, timestamps }, T0 + start)
    }
  }
  for (let r = 0; r < runs; r++) push(r, "RunEnded", { status: "FINISHED" }, T0 + perRun)
  return log
}

async function* batches(log: ReadonlyArray<RecordedEvent>): AsyncGenerator<RecordedEvent[]> {
  for (let i = 0; i < log.length; i += EVENTS_PER_READ) yield log.slice(i, i + EVENTS_PER_READ)
}

/** Ours: seconds for a full catch-up from 0. */
const timeCatchUp = (log: ReadonlyArray<RecordedEvent>) =>
  withTempDir("catchup", async (dir) => {
    const file = join(dir, "model.duckdb")
    const model = await ReadModel.open({ file })
    let caught: { seconds: number; points: number }
    try {
      const t0 = performance.now()
      const result = await model.catchUp(batches(log), { maxPoints: TX_POINTS })
      caught = { seconds: (performance.now() - t0) / 1000, points: result.points }
    } finally {
      await model.close()
    }
    // Closed, so checkpointed: the file holds everything.
    return { ...caught, bytes: statSync(file).size }
  })

/**
 * The ceiling: every metric point of the log through the raw appender into a bare table. With
 * `strings`, the table is (run_id, key, step, timestamp, value); without, (series_id INTEGER, step,
 * timestamp, value) with a series id per (run, key) looked up as ours does.
 */
const timeAppender = (log: ReadonlyArray<RecordedEvent>, strings: boolean) =>
  withTempDir("catchup", async (dir) => {
    const instance = await DuckDBInstance.create(join(dir, "raw.duckdb"))
    const conn = await instance.connect()
    try {
      await conn.run(strings
        ? "CREATE TABLE points (run_id VARCHAR, key VARCHAR, step BIGINT, timestamp BIGINT, value DOUBLE)"
        : "CREATE TABLE points (series_id INTEGER, step BIGINT, timestamp BIGINT, value DOUBLE)")
      const types: ReadonlyArray<DuckDBType> = strings ? [VARCHAR, VARCHAR, DOUBLE, DOUBLE, DOUBLE] : [INTEGER, DOUBLE, DOUBLE, DOUBLE]
      const t0 = performance.now()
      await conn.run("BEGIN TRANSACTION")
      let appender = await conn.createAppender("points")
      let committed = 0
      const CHUNK = 2048
      const run: string[] = new Array<string>(CHUNK)
      const series: number[] = new Array<number>(CHUNK)
      const key: string[] = new Array<string>(CHUNK)
      const step: number[] = new Array<number>(CHUNK)
      const ts: number[] = new Array<number>(CHUNK)
      const value: number[] = new Array<number>(CHUNK)
      const ids = new Map<string, number>()
      let rows = 0
      let total = 0
      let full: DuckDBDataChunk | undefined
      const send = () => {
        const cut = <A>(c: A[]): A[] => (rows === CHUNK ? c : c.slice(0, rows))
        // A full chunk is reused, as ours does (the appender copies its rows).
        const chunk = rows === CHUNK ? (full ??= DuckDBDataChunk.create(types as DuckDBType[], CHUNK)) : DuckDBDataChunk.create(types as DuckDBType[], rows)
        let c = 0
        if (strings) {
          chunk.setColumnValues(c++, cut(run))
          chunk.setColumnValues(c++, cut(key))
        } else chunk.setColumnValues(c++, cut(series))
        chunk.setColumnValues(c++, cut(step))
        chunk.setColumnValues(c++, cut(ts))
        chunk.setColumnValues(c++, cut(value))
        appender.appendDataChunk(chunk)
        total += rows
        rows = 0
      }
      for (const e of log) {
        if (e.type !== "MetricsLogged") continue
        const r = e.stream.slice(4)
        const d = e.data
        for (let i = 0; i < d.keys.length; i++) {
          if (strings) {
            run[rows] = r
            key[rows] = d.keys[i]
          } else {
            const name = `${r}\t${d.keys[i]}`
            let id = ids.get(name)
            if (id === undefined) ids.set(name, (id = ids.size + 1))
            series[rows] = id
          }
          step[rows] = d.steps[i]
          ts[rows] = d.timestamps[i]
          value[rows] = d.values[i]
          if (++rows === CHUNK) send()
        }
        // Commit on event boundaries, as ours does.
        if (total + rows >= committed + TX_POINTS) {
          if (rows > 0) send()
          appender.closeSync()
          await conn.run("COMMIT")
          committed = total
          await conn.run("BEGIN TRANSACTION")
          appender = await conn.createAppender("points")
        }
      }
      if (rows > 0) send()
      appender.closeSync()
      await conn.run("COMMIT")
      const seconds = (performance.now() - t0) / 1000
      await conn.run("CHECKPOINT")
      return { seconds, points: total, bytes: statSync(join(dir, "raw.duckdb")).size }
    } finally {
      conn.closeSync()
      instance.closeSync()
    }
  })

export async function benchCatchup(options: { points: number; quick: boolean }): Promise<CatchupBenchResult> {
  const points = options.points
  const log = makeLog(points)
  // Warm-up on a slice (JIT, DuckDB's first file): not measured.
  const warm = makeLog(Math.min(points, 50_000))
  await timeCatchUp(warm)
  await timeAppender(warm, true)

  const ceiling = await timeAppender(log, true)
  const ours = await timeCatchUp(log)
  const numeric = await timeAppender(log, false)
  if (ours.points !== points || ceiling.points !== points) throw new Error(`catch-up bench: expected ${points} points, got ${ours.points} and ${ceiling.points}`)
  const figure = points / ours.seconds
  const ceilingRate = points / ceiling.seconds
  const ratio = figure / ceilingRate
  const rate = (x: number) => `${(x / 1e6).toFixed(2)}M points/s`
  return {
    name: "read model catch-up",
    figure,
    unit: "points/s",
    ceiling: ceilingRate,
    ceilingName: "raw DuckDB appender, data chunks, (run_id, key, step, timestamp, value)",
    ratio,
    target: ">= 0.5x ceiling",
    notes: [
      `${points.toLocaleString("en-US")} points in ${log.length.toLocaleString("en-US")} events; catch-up ${ours.seconds.toFixed(2)} s (${rate(figure)}), ceiling ${ceiling.seconds.toFixed(2)} s (${rate(ceilingRate)})`,
      `; a numbers-only bare table (series_id, step, timestamp, value) takes ${numeric.seconds.toFixed(2)} s (${rate(points / numeric.seconds)}): ours writes that shape (strings once per series), plus era, superseded, position, idx and the -0 flag, and keeps latest values`
    ].join(""),
    size: {
      name: `read model bytes per point (${(points / 1e6).toFixed(1)}M points, checkpointed)`,
      figure: ours.bytes / points,
      unit: "B/point",
      ceiling: numeric.bytes / points,
      ceilingName: "a numbers-only bare table of the same points (series_id, step, timestamp, value)",
      ratio: ours.bytes / numeric.bytes,
      target: "none (context)",
      verdict: "info",
      note: `file ${(ours.bytes / 1e6).toFixed(0)} MB against ${(numeric.bytes / 1e6).toFixed(0)} MB: beyond the bare table, each point's log position, index, era and flags, the series and latest values, and the summaries (metric_blocks_5 to _16) that let a chart of 100 runs read 78k rows instead of 10M points; \`node bench/readmodel-size.ts\` splits it by table`
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { points: { type: "string" }, quick: { type: "boolean", default: false } } })
  const quick = values.quick ?? false
  const points = values.points !== undefined ? Number(values.points) : quick ? 500_000 : 10_000_000
  const result = await benchCatchup({ points, quick })
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}
