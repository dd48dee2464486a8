/**
 * Benchmark: read model catch-up of a run-heavy log, runs/s.
 *
 * Ours: `ReadModel.catchUp` of a fresh read model from position 0, over a log of RUNS runs held in
 * memory as RecordedEvents: per run RunStarted (2 tags, source, environment), ParamsLogged (3
 * params), MetricsLogged (POINTS points: 4 keys x POINTS/4 steps, too few for summaries), RunEnded.
 * Timed: the whole catch-up, every transaction committed.
 *
 * Ceiling: the same rows written with the raw DuckDB appender in data chunks, into the same tables
 * (the read model's own DDL, schema.ts), committed at the same event boundaries (every
 * MAX_EVENTS events): runs (final state), params, tags, metric_series, metric_points and
 * latest_metric_values. The ceiling derives the rows with the least work: it knows the log's shape
 * (one start, one batch, one end per run), where ours folds any log.
 *
 * Target: >= 0.5x the ceiling.
 *
 * Standalone: `node bench/catchup-runs.ts [--runs N]`.
 */
import { BOOLEAN, DOUBLE, type DuckDBAppender, type DuckDBConnection, DuckDBDataChunk, DuckDBInstance, type DuckDBType, type DuckDBValue, INTEGER, listValue } from "@duckdb/node-api"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { ReadModel } from "../packages/readmodel-duckdb/src/index.ts"
import { CREATE_SCHEMA, LATEST_METRIC_VALUES, METRIC_SERIES, PARAMS, RUNS, type TableDef, TAGS } from "../packages/readmodel-duckdb/src/schema.ts"
import type { RecordedEvent } from "../packages/core/src/index.ts"
import { type Row, withTempDir } from "./report.ts"

const T0 = 1_700_000_000_000
const KEYS = ["loss", "accuracy", "learning_rate", "grad_norm"] as const
const POINTS = 100
/** The read model's default transaction size (read-model.ts), on both sides. */
const MAX_EVENTS = 10_000
const CHUNK = 2048

const runId = (r: number): string => `0197${r.toString(16).padStart(28, "0")}`
const environment = { runtime: "node 24.0.0", os: "linux 6.8", arch: "x64", cpu: "Intel Xeon", cpus: 2, memoryBytes: 24_000_000_000, host: "trainer-01", pid: 4242 }
const source = { command: ["python", "train.py", "--epochs", "10"], cwd: "/home/me/project", git: { commit: "0123456789abcdef0123456789abcdef01234567", branch: "main", dirty: false } }

export const makeRunLog = (runs: number): RecordedEvent[] => {
  const log: RecordedEvent[] = []
  const push = (stream: string, version: number, type: string, data: unknown, at: number) =>
    log.push({ id: `e${log.length + 1}`, stream, version, type, at, data, position: log.length + 1 } as RecordedEvent)
  push("experiments", 1, "ExperimentCreated", { experimentId: "exp", name: "exp", tags: {} }, T0)
  for (let r = 0; r < runs; r++) {
    const id = runId(r)
    const stream = `run-${id}`
    const at = T0 + r * 1000
    push(stream, 1, "RunStarted", { runId: id, experimentId: "exp", name: `run-${r}`, parentRunId: null, tags: { sweep: "bench", "mlflow.user": "me" }, source, environment }, at)
    push(stream, 2, "ParamsLogged", { params: { lr: 0.001 * (r + 1), layers: r % 4, optimizer: "adam" } }, at)
    const keys = new Array<string>(POINTS)
    const values = new Array<number>(POINTS)
    const steps = new Array<number>(POINTS)
    const timestamps = new Array<number>(POINTS)
    for (let i = 0; i < POINTS; i++) {
      keys[i] = KEYS[i & 3]
      values[i] = Math.random()
      steps[i] = i >> 2
      timestamps[i] = at + (i >> 2)
    }
    push(stream, 3, "MetricsLogged", { keys, values, steps, timestamps }, at)
    push(stream, 4, "RunEnded", { status: "FINISHED" }, at + 999)
  }
  return log
}

async function* batches(log: ReadonlyArray<RecordedEvent>): AsyncGenerator<RecordedEvent[]> {
  for (let i = 0; i < log.length; i += 256) yield log.slice(i, i + 256)
}

const timeCatchUp = (log: ReadonlyArray<RecordedEvent>) =>
  withTempDir("catchup-runs", async (dir) => {
    const model = await ReadModel.open({ file: join(dir, "model.duckdb") })
    try {
      const t0 = performance.now()
      const result = await model.catchUp(batches(log), { maxEvents: MAX_EVENTS })
      return { seconds: (performance.now() - t0) / 1000, events: result.events }
    } finally {
      await model.close()
    }
  })

/** Columns of one table, appended in chunks as they fill. */
class Columns {
  readonly cols: DuckDBValue[][]
  readonly types: ReadonlyArray<DuckDBType>
  readonly appender: () => DuckDBAppender
  rows = 0
  constructor(types: ReadonlyArray<DuckDBType>, appender: () => DuckDBAppender) {
    this.types = types
    this.appender = appender
    this.cols = types.map(() => new Array<DuckDBValue>(CHUNK))
  }
  add(...values: DuckDBValue[]): void {
    for (let c = 0; c < values.length; c++) this.cols[c][this.rows] = values[c]
    if (++this.rows === CHUNK) this.send()
  }
  send(): void {
    if (this.rows === 0) return
    const chunk = DuckDBDataChunk.create(this.types as DuckDBType[], this.rows)
    this.cols.forEach((col, c) => chunk.setColumnValues(c, this.rows === CHUNK ? col : col.slice(0, this.rows)))
    this.appender().appendDataChunk(chunk)
    this.rows = 0
  }
}

/** metric_points in column order (BIGINTs as DOUBLE vectors, cast exactly by the appender, as ours sends them). */
const POINT_TYPES: ReadonlyArray<DuckDBType> = [INTEGER, DOUBLE, DOUBLE, DOUBLE, BOOLEAN, INTEGER, BOOLEAN, DOUBLE, INTEGER]

/** The points' columns as plain arrays, one full-size chunk reused: the fastest way we know to append them. */
class PointColumns {
  readonly series = new Array<number>(CHUNK).fill(0)
  readonly step = new Array<number>(CHUNK).fill(0)
  readonly timestamp = new Array<number>(CHUNK).fill(0)
  readonly value = new Array<number>(CHUNK).fill(0)
  readonly position = new Array<number>(CHUNK).fill(0)
  readonly idx = new Array<number>(CHUNK).fill(0)
  readonly falses = new Array<boolean>(CHUNK).fill(false)
  readonly zeros = new Array<number>(CHUNK).fill(0)
  rows = 0
  private full: DuckDBDataChunk | undefined
  readonly appender: () => DuckDBAppender
  constructor(appender: () => DuckDBAppender) {
    this.appender = appender
  }
  send(): void {
    const n = this.rows
    if (n === 0) return
    const cut = <A>(c: A[]): A[] => (n === CHUNK ? c : c.slice(0, n))
    const chunk = n === CHUNK ? (this.full ??= DuckDBDataChunk.create(POINT_TYPES as DuckDBType[], CHUNK)) : DuckDBDataChunk.create(POINT_TYPES as DuckDBType[], n)
    const columns = [this.series, this.step, this.timestamp, this.value, this.falses, this.zeros, this.falses, this.position, this.idx]
    columns.forEach((c, i) => chunk.setColumnValues(i, cut(c as unknown[]) as DuckDBValue[]))
    this.appender().appendDataChunk(chunk)
    this.rows = 0
  }
}

/** A table's column types, from the schema itself: the ceiling cannot drift from the tables it fills. */
const typesOf = (table: TableDef): ReadonlyArray<DuckDBType> => table.columns.map((c) => c.type)

/** The ceiling: the same rows through the raw appender into the same tables. */
const timeAppender = (log: ReadonlyArray<RecordedEvent>) =>
  withTempDir("catchup-runs", async (dir) => {
    const instance = await DuckDBInstance.create(join(dir, "raw.duckdb"))
    const conn: DuckDBConnection = await instance.connect()
    try {
      await conn.run(CREATE_SCHEMA)
      const t0 = performance.now()
      const tables = {
        runs: typesOf(RUNS),
        params: typesOf(PARAMS),
        tags: typesOf(TAGS),
        metric_series: typesOf(METRIC_SERIES),
        metric_points: POINT_TYPES,
        latest_metric_values: typesOf(LATEST_METRIC_VALUES)
      } as const
      const appenders = new Map<string, DuckDBAppender>()
      for (const name of Object.keys(tables)) appenders.set(name, await conn.createAppender(name))
      const cols = Object.fromEntries(Object.entries(tables).map(([name, types]) => [name, new Columns(types, () => appenders.get(name)!)])) as Record<keyof typeof tables, Columns>
      const points = new PointColumns(() => appenders.get("metric_points")!)
      await conn.run("BEGIN TRANSACTION")
      let txEvents = 0
      let series = 0
      let runKey = 0
      const started = new Map<string, { readonly key: number; readonly e: RecordedEvent }>()
      const commit = async () => {
        points.send()
        for (const c of Object.values(cols)) c.send()
        for (const a of appenders.values()) a.closeSync()
        await conn.run("COMMIT")
        await conn.run("BEGIN TRANSACTION")
        for (const name of Object.keys(tables)) appenders.set(name, await conn.createAppender(name))
      }
      for (const e of log) {
        const id = e.stream.slice(4)
        if (e.type === "RunStarted") {
          const key = ++runKey
          started.set(id, { key, e })
          for (const [k, v] of Object.entries(e.data.tags)) cols.tags.add(id, k, v, key)
        } else if (e.type === "ParamsLogged") {
          const key = started.get(id)!.key
          for (const [k, v] of Object.entries(e.data.params)) cols.params.add(id, k, String(v), typeof v, key)
        } else if (e.type === "MetricsLogged") {
          const key = started.get(id)!.key
          const d = e.data
          const ids = new Map<string, number>()
          const last = new Map<string, number>()
          for (let i = 0; i < d.keys.length; i++) {
            let s = ids.get(d.keys[i])
            if (s === undefined) {
              ids.set(d.keys[i], (s = ++series))
              cols.metric_series.add(s, id, d.keys[i], key, true)
            }
            const r = points.rows
            points.series[r] = s
            points.step[r] = d.steps[i]
            points.timestamp[r] = d.timestamps[i]
            points.value[r] = d.values[i]
            points.position[r] = e.position
            points.idx[r] = i
            if (++points.rows === CHUNK) points.send()
            last.set(d.keys[i], i)
          }
          for (const [k, i] of last) cols.latest_metric_values.add(id, k, d.values[i], false, BigInt(d.steps[i]), BigInt(d.timestamps[i]), key)
        } else if (e.type === "RunEnded") {
          const { key, e: s } = started.get(id)!
          const d = (s as Extract<RecordedEvent, { type: "RunStarted" }>).data
          cols.runs.add(id, d.experimentId, d.name, e.data.status, BigInt(s.at), BigInt(e.at), "active", d.parentRunId, null, null, listValue([]), d.source.git?.commit ?? null, JSON.stringify(d.source), JSON.stringify(d.environment), key)
        }
        if (++txEvents >= MAX_EVENTS) {
          txEvents = 0
          await commit()
        }
      }
      points.send()
      for (const c of Object.values(cols)) c.send()
      for (const a of appenders.values()) a.closeSync()
      await conn.run("COMMIT")
      return { seconds: (performance.now() - t0) / 1000 }
    } finally {
      conn.closeSync()
      instance.closeSync()
    }
  })

export const benchCatchupRuns = async (options: { readonly runs: number }): Promise<Row> => {
  const log = makeRunLog(options.runs)
  // Warm-up (JIT, DuckDB's first file): not measured.
  const warm = makeRunLog(Math.min(options.runs, 5_000))
  await timeCatchUp(warm)
  await timeAppender(warm)
  const ceiling = await timeAppender(log)
  const ours = await timeCatchUp(log)
  if (ours.events !== log.length) throw new Error(`catch-up bench: expected ${log.length} events, folded ${ours.events}`)
  const figure = options.runs / ours.seconds
  const ceilingRate = options.runs / ceiling.seconds
  const ratio = figure / ceilingRate
  return {
    name: `read model catch-up, ${options.runs.toLocaleString("en-US")} runs x ${POINTS} points`,
    figure,
    unit: "runs/s",
    ceiling: ceilingRate,
    ceilingName: "raw DuckDB appender, data chunks, the same rows into the same tables",
    ratio,
    target: ">= 0.5x ceiling",
    verdict: ratio >= 0.5 ? "PASS" : "MISS",
    note: `${log.length.toLocaleString("en-US")} events, ${(options.runs * POINTS).toLocaleString("en-US")} points; catch-up ${ours.seconds.toFixed(2)} s, ceiling ${ceiling.seconds.toFixed(2)} s`
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: "string" } } })
  const result = await benchCatchupRuns({ runs: values.runs !== undefined ? Number(values.runs) : 100_000 })
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}
