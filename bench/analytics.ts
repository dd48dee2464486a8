/**
 * Benchmarks of the analytics over the DuckDB read model, each beside a raw-DuckDB ceiling
 * measured in the same run on the same data:
 *
 * - searchRuns, two clauses and an order, over RUNS runs: p50 of warm calls (Analytics.searchRunIds,
 *   i.e. parse + compile + catch-up check + read-only query). Ceiling: the same selection written
 *   by hand as one join over the same tables, on a plain connection. Target: p50 < 50 ms.
 * - rankRuns over RANK_RUNS runs x RANK_STEPS steps by each run's min (window functions over every
 *   point). Ceiling: a bare GROUP BY min() over the same points. Reported in ms (no target).
 * - Downsampling DS_RUNS runs x DS_STEPS steps to 1000 buckets each (Analytics.metricHistories):
 *   one bulk call, DS_RUNS separate calls, and one bulk call over a step range cut mid-block.
 *   Ceiling: one aggregate scan of the same points (count, min, max per series). Target: < 200 ms.
 *   And a chart's zoom (5% of the steps at 2400 buckets: from the points), beside one aggregate
 *   scan of the points in that range.
 *
 * The read model is filled by catch-up from generated events (not timed here: catchup.ts measures it).
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { join } from "node:path"
import { ReadModel } from "../packages/readmodel-duckdb/src/index.ts"
import type { RecordedEvent } from "../packages/core/src/index.ts"
import { Analytics } from "../packages/readmodel-duckdb/src/index.ts"
import { type BenchOptions, median, msRow, type Row, timeIt, withTempDir } from "./report.ts"

const T0 = 1_700_000_000_000
const environment = { runtime: "node", os: "linux", arch: "x64", cpu: "bench", cpus: 2, memoryBytes: 0, host: "h", pid: 1 }
const runId = (prefix: string, r: number) => `${prefix}${r.toString(16).padStart(32 - prefix.length, "0")}`

/** A log of experiments and runs, with per-run metric series of `steps` points (batches of 10k). */
export const makeLog = (experiment: string, prefix: string, runs: number, steps: number, startPosition: number): RecordedEvent[] => {
  const log: RecordedEvent[] = []
  let position = startPosition
  const push = (stream: string, version: number, type: string, data: unknown) =>
    log.push({ id: `${prefix}-${position + 1}`, stream, version, type, at: T0 + position, data, position: ++position } as RecordedEvent)
  push("experiments", startPosition === 0 ? 1 : 2, "ExperimentCreated", { experimentId: experiment, name: experiment, tags: {} })
  const models = ["mlp", "rf", "logreg"]
  for (let r = 0; r < runs; r++) {
    const id = runId(prefix, r)
    const stream = `run-${id}`
    let v = 0
    push(stream, ++v, "RunStarted", { runId: id, experimentId: experiment, name: `${prefix}-${r}`, parentRunId: null, tags: {}, source: {}, environment })
    push(stream, ++v, "ParamsLogged", { params: { model: models[r % 3], lr: 10 ** -(1 + (r % 4)) } })
    for (let s0 = 0; s0 < steps; s0 += 10_000) {
      const n = Math.min(10_000, steps - s0)
      const keys = new Array<string>(n * 2)
      const values = new Float64Array(n * 2)
      const stepCol = new Float64Array(n * 2)
      const ts = new Float64Array(n * 2)
      for (let i = 0; i < n; i++) {
        const s = s0 + i
        keys[2 * i] = "acc"
        values[2 * i] = (r % 1000) / 1000 + Math.sin(s) * 1e-3
        keys[2 * i + 1] = "loss"
        values[2 * i + 1] = 1 / (1 + s) + (r % 97) / 97
        stepCol[2 * i] = stepCol[2 * i + 1] = s
        ts[2 * i] = ts[2 * i + 1] = T0 + s
      }
      push(stream, ++v, "MetricsLogged", { keys, values, steps: stepCol, timestamps: ts })
    }
    push(stream, ++v, "RunEnded", { status: "FINISHED" })
  }
  return log
}

export async function* batches(events: ReadonlyArray<RecordedEvent>): AsyncGenerator<RecordedEvent[]> {
  for (let i = 0; i < events.length; i += 512) yield events.slice(i, i + 512) as RecordedEvent[]
}

/** A caught-up log as a batch reader that knows its head, like the directory store's FsEventLog. */
/** The log the read model was caught up from, as the source its analytics keep in step with (the read model checks the log's first event, so the source must hold it). */
const upTo = (log: ReadonlyArray<RecordedEvent>) => ({
  head: async () => log.length,
  readAll: async function*(from = 0): AsyncGenerator<RecordedEvent[]> {
    if (from < log.length) yield log.slice(from)
  }
})

export const benchAnalytics = async (opts: BenchOptions): Promise<Row[]> => {
  const SEARCH_RUNS = opts.quick ? 10_000 : 100_000
  const RANK_RUNS = opts.quick ? 1_000 : 10_000
  const RANK_STEPS = opts.quick ? 100 : 1_000
  const DS_RUNS = opts.quick ? 10 : 100
  const DS_STEPS = opts.quick ? 10_000 : 100_000
  return withTempDir("analytics", async (dir) => {
    const file = join(dir, "readmodel.duckdb")
    const model = await ReadModel.open({ file })
    const rows: Row[] = []
    try {
      // Search: runs with one point per metric (latest values), params model and lr.
      opts.log(`analytics: building ${SEARCH_RUNS.toLocaleString("en-US")} runs for search ...`)
      const searchLog = makeLog("search", "a", SEARCH_RUNS, 1, 0)
      await model.catchUp(batches(searchLog))
      const analytics = new Analytics(model, upTo(searchLog))
      const search = () => analytics.searchRunIds({ experimentIds: ["search"], filter: "metrics.acc > 0.5 and params.model = 'mlp'", orderBy: "metrics.acc DESC", maxResults: 100 })
      const found = await search()
      await timeIt(3, search)
      const ours = await timeIt(opts.quick ? 5 : 20, search)
      // The ceiling: the same answer by hand, on a plain connection to a copy of the tables.
      await model.close()
      const raw = await DuckDBInstance.create(file)
      const conn = await raw.connect()
      // Joined on the integer run_key, as the compiled search is: the fastest join these tables offer.
      const handSql = `SELECT r.run_id FROM runs r
        JOIN latest_metrics m ON m.run_key = r.run_key AND m.key = 'acc'
        JOIN params p ON p.run_key = r.run_key AND p.key = 'model'
        WHERE r.experiment_id = 'search' AND r.lifecycle = 'active' AND m.value > 0.5 AND p.value = 'mlp'
        ORDER BY m.value DESC, r.start_time DESC, r.run_id LIMIT 101`
      const hand = await conn.runAndReadAll(handSql)
      if (hand.currentRowCount !== Math.min(101, found.runIds.length + (found.nextPageToken ? 1 : 0))) {
        opts.log(`analytics: note: the hand-written search found ${hand.currentRowCount} rows, ours ${found.runIds.length}`)
      }
      await timeIt(3, () => conn.runAndReadAll(handSql))
      const ceiling = await timeIt(opts.quick ? 5 : 20, () => conn.runAndReadAll(handSql))
      conn.closeSync()
      raw.closeSync()
      rows.push(msRow(`searchRuns 2 clauses + order, ${SEARCH_RUNS.toLocaleString("en-US")} runs (p50, warm)`, ours, ceiling, "hand-written join, plain connection", 50, "p50 < 50 ms", `${found.runIds.length} runs on the first page; `))

      const model2 = await ReadModel.open({ file })
      try {
        opts.log(`analytics: adding ${RANK_RUNS.toLocaleString("en-US")} runs x ${RANK_STEPS} steps and ${DS_RUNS} runs x ${DS_STEPS.toLocaleString("en-US")} steps ...`)
        const rankLog = makeLog("rank", "b", RANK_RUNS, RANK_STEPS, searchLog.length)
        await model2.catchUp(batches(rankLog))
        const dsLog = makeLog("down", "c", DS_RUNS, DS_STEPS, searchLog.length + rankLog.length)
        // The third experiment's ExperimentCreated must follow on the experiments stream.
        ;(dsLog[0] as { version: number }).version = 3
        await model2.catchUp(batches(dsLog))
        const a2 = new Analytics(model2, upTo([...searchLog, ...rankLog, ...dsLog]))
        const rank = () => a2.rankRuns({ experimentIds: ["rank"], metric: "loss", goal: "min", by: "min", normalize: "zscore" })
        await rank()
        const rankMs = await timeIt(opts.quick ? 2 : 5, rank)
        const ids = Array.from({ length: DS_RUNS }, (_, r) => runId("c", r))
        const down = () => a2.metricHistories(ids, "loss", 1000)
        const series = await down()
        const dsMs = await timeIt(opts.quick ? 2 : 5, down)
        // The same runs one call each (what a client without the bulk call does), and the bulk call over a step range cut mid-block.
        const separate = async () => {
          for (const id of ids) await a2.metricHistories([id], "loss", 1000)
        }
        await separate()
        const sepMs = await timeIt(opts.quick ? 2 : 3, separate)
        const range = { startStep: Math.floor(DS_STEPS * 0.1) + 3, endStep: Math.floor(DS_STEPS * 0.9) - 5 }
        const ranged = () => a2.metricHistories(ids, "loss", 1000, range)
        await ranged()
        const rangedMs = await timeIt(opts.quick ? 2 : 5, ranged)
        // A chart's zoom: 5% of the steps at ~2400 buckets, narrower than any summary, so from the points.
        const zoom = { startStep: Math.floor(DS_STEPS * 0.4) + 3, endStep: Math.floor(DS_STEPS * 0.45) + 17 }
        const zoomed = () => a2.metricHistories(ids, "loss", 2400, zoom)
        const zoomSeries = await zoomed()
        const zoomMs = await timeIt(opts.quick ? 2 : 5, zoomed)
        await model2.close()
        const raw2 = await DuckDBInstance.create(file)
        const c2 = await raw2.connect()
        const rankCeil = await timeIt(opts.quick ? 2 : 5, () =>
          c2.runAndReadAll(`SELECT s.run_id, min(p.value) FROM metric_points p JOIN metric_series s USING (series_id) JOIN runs r ON r.run_id = s.run_id WHERE r.experiment_id = 'rank' AND s.key = 'loss' GROUP BY s.run_id`)
        )
        const dsCeil = await timeIt(opts.quick ? 2 : 5, () =>
          c2.runAndReadAll(`SELECT s.run_id, count(*), min(p.value), max(p.value) FROM metric_points p JOIN metric_series s USING (series_id) JOIN runs r ON r.run_id = s.run_id WHERE r.experiment_id = 'down' AND s.key = 'loss' GROUP BY s.run_id`)
        )
        const zoomCeil = await timeIt(opts.quick ? 2 : 5, () =>
          c2.runAndReadAll(`SELECT s.run_id, count(*), min(p.value), max(p.value) FROM metric_points p JOIN metric_series s USING (series_id) JOIN runs r ON r.run_id = s.run_id WHERE r.experiment_id = 'down' AND s.key = 'loss' AND p.step BETWEEN ${zoom.startStep} AND ${zoom.endStep} GROUP BY s.run_id`)
        )
        c2.closeSync()
        raw2.closeSync()
        const steps = DS_STEPS.toLocaleString("en-US")
        rows.push(msRow(`rankRuns by min over ${RANK_RUNS.toLocaleString("en-US")} runs x ${RANK_STEPS} steps (+ z-score)`, rankMs, rankCeil, "bare GROUP BY min() over the same points", undefined, "none (context)", ""))
        rows.push(msRow(`downsample ${DS_RUNS} runs x ${steps} steps to 1000 buckets`, dsMs, dsCeil, "one aggregate scan of the same points", 200, "< 200 ms", `${series.reduce((n, s) => n + s.buckets.length, 0).toLocaleString("en-US")} buckets returned; `))
        rows.push(msRow(`downsample ${DS_RUNS} runs x ${steps} steps, ${DS_RUNS} separate calls`, sepMs, dsCeil, "one aggregate scan of the same points", undefined, "none (context: the bulk call's figure is the row above)", `the bulk call takes ${(median(dsMs) / median(sepMs)).toFixed(2)}x the time of ${DS_RUNS} separate calls; `))
        rows.push(msRow(`downsample ${DS_RUNS} runs, steps ${range.startStep.toLocaleString("en-US")}-${range.endStep.toLocaleString("en-US")} of ${steps}, one bulk call`, rangedMs, dsCeil, "one aggregate scan of the same points (whole series)", 200, "< 200 ms", "the buckets the bounds cut through are read from the points; "))
        rows.push(msRow(`downsample ${DS_RUNS} runs, steps ${zoom.startStep.toLocaleString("en-US")}-${zoom.endStep.toLocaleString("en-US")} to 2400 buckets (a chart's zoom)`, zoomMs, zoomCeil, "one aggregate scan of the same points (count, min, max per run)", 200, "< 200 ms", `${zoomSeries.reduce((n, s) => n + s.buckets.length, 0).toLocaleString("en-US")} buckets, narrower than any summary: read from the points; `))
      } finally {
        await model2.close().catch(() => {})
      }
    } finally {
      await model.close().catch(() => {})
    }
    return rows
  })
}
