/**
 * Benchmark: bytes the directory store's log takes per run (issue 11, item 3).
 *
 * A typical run, built through the API: RunStarted with the run-start environment and source, ten
 * params, three tags, three metrics at one step, RunEnded (five events). Its log in the compact
 * record form (the default) is measured against MLflow's published figure for the same kind of
 * run on SQLite, 3.4 KB (issue 11's side-by-side: 343 MB for 100k runs); target <= half of it.
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
import { type BenchOptions, median, nowMs, type Row, withTempDir } from "./report.ts"

/** MLflow's bytes per run on SQLite, as published in issue 11's side-by-side (343 MB / 100k runs). */
export const MLFLOW_BYTES_PER_RUN = 3400

const logRuns = async (dir: string, runs: number): Promise<void> => {
  const tracker = await openTracker({ dir })
  for (let r = 0; r < runs; r++) {
    const run = await tracker.startRun({ experiment: "bytes" })
    void run.logParams({ lr: 0.001 * (r + 1), batch_size: 32, epochs: 10, optimizer: "adam", model: "resnet18", dropout: 0.1, weight_decay: 1e-4, seed: r, augment: true, scheduler: "cosine" })
    void run.setTags({ team: "vision", "mlflow.note.content": "baseline sweep", owner: "ana" })
    void run.logMetrics({ loss: Math.random(), accuracy: Math.random(), val_loss: Math.random() }, { step: 0 })
    await run.end()
  }
  await tracker.close()
}

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

export const benchRunBytes = async (opts: BenchOptions): Promise<Row[]> => {
  const runs = opts.quick ? 200 : 2000
  opts.log(`run-bytes: ${runs} typical runs through the API`)
  return withTempDir("run-bytes", async (dir) => {
    await logRuns(dir, runs)
    const bytes = statSync(join(dir, LOG_FILE)).size
    const byRun = await runsOf(dir)
    const events = [...byRun.values()].reduce((n, e) => n + e.length, 0)
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
    const ratio = perRun / MLFLOW_BYTES_PER_RUN
    const cost = median(compact.map((c, i) => c / text[i]))
    return [{
      name: `log bytes per typical run (${runs} runs: start, 10 params, 3 tags, 3 metrics, end)`,
      figure: perRun,
      unit: "B/run",
      ceiling: MLFLOW_BYTES_PER_RUN,
      ceilingName: "MLflow on SQLite, published",
      ratio,
      target: "<= 0.5x",
      verdict: ratio <= 0.5 ? "PASS" : "MISS",
      note: `${(events / runs).toFixed(0)} events a run, ${(bytes / events).toFixed(0)} B an event. The same events as text records (the form before): ` +
        `${(textBytes / runs).toFixed(0)} B/run; compact ${(compactBytes / runs).toFixed(0)} B/run. Writing them one run per append with fsync: ` +
        `compact takes ${cost.toFixed(2)}x the time of text (median ${median(compact).toFixed(0)} vs ${median(text).toFixed(0)} ms). ` +
        `Reading them all back (open + decode every event): compact ${median(compactRead).toFixed(0)} ms, text ${median(textRead).toFixed(0)} ms ` +
        `(${(median(compactRead) / median(textRead)).toFixed(2)}x: each small record is inflated).`
    }]
  })
}
