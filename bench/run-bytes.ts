/**
 * Benchmark: bytes the directory store's log takes per run and per metric point (issue 11, item 3).
 *
 * A typical run, built through the API: RunStarted with the run-start environment and source, ten
 * params, three tags, three metrics at one step, RunEnded (five events). And a run of 100k points,
 * logged as MLflow clients send them (awaited logBatch calls of 1000). Each log in the compact
 * record form (the default) is measured against MLflow's tracking store on SQLite holding the same
 * runs, measured in the same run (mlflow-sqlite.ts; issue 11's side-by-side published 3.4 KB per
 * run); target <= half of it.
 *
 * The same events are then written again, one run per append with fsync, by the log in each
 * record form: the text form's bytes are the "before" figure, and the time of the two is the cost
 * of compressing on ingest (compact / text, so a ratio above 1 is slower); reading each log back
 * whole gives the cost of inflating on replay.
 */
import { statSync } from "node:fs"
import { join } from "node:path"
import { FsEventLog, LOG_FILE, type RecordForm } from "../packages/store-fs/src/index.ts"
import { openTracker } from "../packages/cli/src/index.ts"
import type { NewEvent, RecordedEvent } from "../packages/core/src/index.ts"
import { makeBatches, MLFLOW_BATCH } from "./ingest.ts"
import { mlflowSqliteBytes, type MlflowRun } from "./mlflow-sqlite.ts"
import { type BenchOptions, median, nowMs, type Row, withTempDir } from "./report.ts"

/** MLflow's bytes per run on SQLite, as published in issue 11's side-by-side (343 MB / 100k runs): beside the figure measured here. */
export const MLFLOW_BYTES_PER_RUN = 3400

/** Run r of the typical runs: what both stores are given. */
const typicalRun = (r: number) => ({
  name: `run-${r}`,
  params: { lr: 0.001 * (r + 1), batch_size: 32, epochs: 10, optimizer: "adam", model: "resnet18", dropout: 0.1, weight_decay: 1e-4, seed: r, augment: true, scheduler: "cosine" },
  tags: { team: "vision", "mlflow.note.content": "baseline sweep", owner: "ana" },
  metrics: { loss: Math.random(), accuracy: Math.random(), val_loss: Math.random() }
})

const logRuns = async (dir: string, runs: ReadonlyArray<ReturnType<typeof typicalRun>>): Promise<void> => {
  const tracker = await openTracker({ dir })
  for (const t of runs) {
    const run = await tracker.startRun({ experiment: "bytes", name: t.name })
    void run.logParams(t.params)
    void run.setTags(t.tags)
    void run.logMetrics(t.metrics, { step: 0 })
    await run.end()
  }
  await tracker.close()
}

/** The same runs as MLflow stores them (params as the strings its clients send). */
const asMlflow = (t: ReturnType<typeof typicalRun>, at: number): MlflowRun => ({
  name: t.name,
  params: Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, String(v)])),
  tags: t.tags,
  points: Object.entries(t.metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: at }))
})

/** The events of a log, grouped by run stream in log order (what one run's appends were). */
const runsOf = async (dir: string): Promise<Map<string, RecordedEvent[]>> => {
  const log = await FsEventLog.open({ dir })
  const streams = new Map<string, RecordedEvent[]>()
  for await (const batch of log.readAll()) {
    for (const e of batch) {
      if (!e.stream.startsWith("run-")) continue
      let list = streams.get(e.stream)
      if (list === undefined) streams.set(e.stream, (list = []))
      list.push(e)
    }
  }
  await log.close()
  return streams
}

/** Append each run's events in one append, in the given form; elapsed ms and bytes. */
const rewrite = (runs: Map<string, RecordedEvent[]>, recordForm: RecordForm) =>
  withTempDir(`run-bytes-${recordForm}`, async (dir) => {
    const log = await FsEventLog.open({ dir, recordForm })
    const t0 = nowMs()
    for (const [stream, events] of runs) {
      const fresh = events.map(({ id, type, at, data, meta, schema }) => ({ id, type, at, data, ...(meta ? { meta } : {}), ...(schema ? { schema } : {}) }) as NewEvent)
      await log.append(stream, fresh, 0)
    }
    const ms = nowMs() - t0
    await log.close()
    // Reading it all back (open, then every event decoded): what a full replay pays per record.
    const r0 = nowMs()
    const reader = await FsEventLog.open({ dir })
    for await (const batch of reader.readAll()) void batch
    const readMs = nowMs() - r0
    await reader.close()
    return { ms, readMs, bytes: statSync(join(dir, LOG_FILE)).size }
  })

/** Points in the per-point row's run: 4 keys a step, logged in MLflow's batches. */
const POINT_RUN = 100_000

/** Our log's bytes for one run of `points` points (awaited logBatch calls of MLFLOW_BATCH), and that run's events. */
const logPoints = (points: number) =>
  withTempDir("point-bytes", async (dir) => {
    const tracker = await openTracker({ dir })
    const run = await tracker.startRun({ experiment: "bytes", name: "points" })
    const before = statSync(join(dir, LOG_FILE)).size
    for (const metrics of makeBatches(points, MLFLOW_BATCH)) await run.logBatch({ metrics })
    const bytes = statSync(join(dir, LOG_FILE)).size - before
    await run.end()
    await tracker.close()
    return { bytes, runs: await runsOf(dir) }
  })

export const benchRunBytes = async (opts: BenchOptions): Promise<Row[]> => {
  const runs = opts.quick ? 200 : 2000
  opts.log(`run-bytes: ${runs} typical runs through the API, and the same runs in MLflow's store on SQLite`)
  const typical = Array.from({ length: runs }, (_, r) => typicalRun(r))
  const perRunRow = await withTempDir("run-bytes", async (dir) => {
    await logRuns(dir, typical)
    const bytes = statSync(join(dir, LOG_FILE)).size
    const byRun = await runsOf(dir)
    const events = [...byRun.values()].reduce((n, e) => n + e.length, 0)
    const mlflow = mlflowSqliteBytes(join(dir, "mlflow.db"), typical.map((t) => asMlflow(t, 1_700_000_000_000)))
    const text: number[] = []
    const compact: number[] = []
    const textRead: number[] = []
    const compactRead: number[] = []
    let textBytes = 0
    let compactBytes = 0
    for (let r = 0; r < opts.reps; r++) {
      const t = await rewrite(byRun, "text")
      const c = await rewrite(byRun, "compact")
      text.push(t.ms)
      compact.push(c.ms)
      textRead.push(t.readMs)
      compactRead.push(c.readMs)
      textBytes = t.bytes
      compactBytes = c.bytes
      opts.log(`  rep ${r + 1}: write text ${t.ms.toFixed(0)} ms, compact ${c.ms.toFixed(0)} ms; read all text ${t.readMs.toFixed(0)} ms, compact ${c.readMs.toFixed(0)} ms`)
    }
    const perRun = bytes / runs
    const ceiling = mlflow / runs
    const ratio = perRun / ceiling
    const cost = median(compact.map((c, i) => c / text[i]))
    return {
      name: `log bytes per typical run (${runs} runs: start, 10 params, 3 tags, 3 metrics, end)`,
      figure: perRun,
      unit: "B/run",
      ceiling,
      ceilingName: "MLflow's store on SQLite, the same runs",
      ratio,
      target: "<= 0.5x",
      verdict: ratio <= 0.5 ? "PASS" : "MISS",
      note: `${(events / runs).toFixed(0)} events a run, ${(bytes / events).toFixed(0)} B an event. MLflow's store: ${(ceiling / 1000).toFixed(2)} KB a run here (its run row, 5 system tags, the params, tags, ` +
        `metrics and latest_metrics rows, and their indexes), ${(MLFLOW_BYTES_PER_RUN / 1000).toFixed(1)} KB in issue 11's side-by-side. The same events as text records (the form before): ` +
        `${(textBytes / runs).toFixed(0)} B/run; compact ${(compactBytes / runs).toFixed(0)} B/run. Writing them one run per append with fsync: ` +
        `compact takes ${cost.toFixed(2)}x the time of text (median ${median(compact).toFixed(0)} vs ${median(text).toFixed(0)} ms). ` +
        `Reading them all back (open + decode every event): compact ${median(compactRead).toFixed(0)} ms, text ${median(textRead).toFixed(0)} ms ` +
        `(${(median(compactRead) / median(textRead)).toFixed(2)}x: each small record is inflated).`
    } satisfies Row
  })
  const points = opts.quick ? 20_000 : POINT_RUN
  opts.log(`run-bytes: one run of ${points} points in logBatch calls of ${MLFLOW_BATCH}, and the same in MLflow's store`)
  const perPointRow = await withTempDir("point-bytes-mlflow", async (dir) => {
    const ours = await logPoints(points)
    const text = await rewrite(ours.runs, "text")
    const compact = await rewrite(ours.runs, "compact")
    const batches = makeBatches(points, MLFLOW_BATCH)
    const empty = mlflowSqliteBytes(join(dir, "empty.db"), [{ name: "points", params: {}, tags: {}, points: [] }])
    const full = mlflowSqliteBytes(join(dir, "points.db"), [{ name: "points", params: {}, tags: {}, points: batches.flat() }])
    const perPoint = ours.bytes / points
    const ceiling = (full - empty) / points
    const ratio = perPoint / ceiling
    return {
      name: `log bytes per metric point (1 run, ${points} points, 4 keys, logBatch of ${MLFLOW_BATCH})`,
      figure: perPoint,
      unit: "B/point",
      ceiling,
      ceilingName: "MLflow's store on SQLite, the same points",
      ratio,
      target: "<= 0.5x",
      verdict: ratio <= 0.5 ? "PASS" : "MISS",
      note: `MLflow keeps a metrics row a point (key, value, timestamp, run_uuid, step, is_nan) and its primary key over all six, and an index on run_uuid. ` +
        `The same events rewritten as text records (the form before): ${(text.bytes / points).toFixed(1)} B/point; compact ${(compact.bytes / points).toFixed(1)} B/point (metric batches carry their numbers as binary columns in either form).`
    } satisfies Row
  })
  return [perRunRow, perPointRow]
}
