/**
 * MLflow's metrics/get-history: a metric's points in step order, paged. The points are the ones
 * the run's views use (a resume's set-aside points are left out, as everywhere else).
 *
 * metrics/get-history-bulk-interval: the metric of up to 100 runs, downsampled by the read model
 * in one call (the runtime's `downsampledHistories`, from the per-bucket summaries), optionally
 * within `start_step`..`end_step` (inclusive). Each point is the last of its bucket, so a run's
 * last point (in the range) is always there.
 */
import { call, type Handler, type Route } from "./context.ts"
import { metricJson } from "./entities.ts"
import { invalidParameter } from "./errors.ts"
import { double, optionalInt, page, requireString, runIdOf, stringList } from "./json.ts"

/** MLflow's server's page size when a client gives none. */
const DEFAULT_PAGE = 25_000

const getHistory: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  const key = requireString(f, "metric_key")
  const points = await call(ctx.tracker.metricHistory(runId, key))
  const p = page(points, f, DEFAULT_PAGE)
  return { metrics: p.items.map((x) => metricJson(key, x)), ...(p.next ? { next_page_token: p.next } : {}) }
}

/** This server's bounds for the bulk call: runs per request, points per run (and the default). */
const MAX_BULK_RUNS = 100
const MAX_BULK_POINTS = 2500
const DEFAULT_BULK_POINTS = 320

const getHistoryBulkInterval: Handler = async (ctx, f) => {
  const runIds = stringList(f, "run_ids")
  if (runIds.length === 0) throw invalidParameter("Missing value for required parameter 'run_ids'. See the API docs for more information about request parameters.")
  if (runIds.length > MAX_BULK_RUNS) throw invalidParameter(`GetMetricHistoryBulkInterval takes at most ${MAX_BULK_RUNS} run_ids; got ${runIds.length}. Split the request.`)
  const key = requireString(f, "metric_key")
  const max = optionalInt(f, "max_results") ?? DEFAULT_BULK_POINTS
  if (max < 1 || max > MAX_BULK_POINTS) throw invalidParameter(`max_results must be from 1 to ${MAX_BULK_POINTS}; got ${max}.`)
  const startStep = optionalInt(f, "start_step")
  const endStep = optionalInt(f, "end_step")
  const series = await call(ctx.tracker.downsampledHistories(runIds, key, { maxPoints: max, ...(startStep !== undefined ? { startStep } : {}), ...(endStep !== undefined ? { endStep } : {}) }))
  const metrics: Array<Record<string, unknown>> = []
  for (const s of series) {
    for (const b of s.buckets) metrics.push({ key, value: double(b.value), timestamp: b.timestamp, step: b.step, run_id: s.runId })
  }
  return { metrics }
}

export const METRIC_ROUTES: ReadonlyArray<Route> = [
  ["GET", "metrics/get-history", getHistory],
  ["GET", "metrics/get-history-bulk-interval", getHistoryBulkInterval]
]
