/**
 * MLflow's metrics/get-history: a metric's points in step order, paged. The points are the ones
 * the run's views use (a resume's set-aside points are left out, as everywhere else).
 *
 * metrics/get-history-bulk-interval: the metric of several runs, downsampled by the read model
 * (the runtime's `downsampledHistory`, one call per run: the runtime has no bulk call yet). Each
 * point is the last of its bucket, so a run's last point is always there. `start_step` /
 * `end_step` are refused for now: the read model downsamples whole series.
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
  if (f.start_step !== undefined || f.end_step !== undefined) {
    throw invalidParameter("runledger downsamples whole series: start_step and end_step are not supported yet. Ask without them, or page a run's points with metrics/get-history.")
  }
  const max = optionalInt(f, "max_results") ?? DEFAULT_BULK_POINTS
  if (max < 1 || max > MAX_BULK_POINTS) throw invalidParameter(`max_results must be from 1 to ${MAX_BULK_POINTS}; got ${max}.`)
  const metrics: Array<Record<string, unknown>> = []
  for (const runId of runIds) {
    for (const b of await call(ctx.tracker.downsampledHistory(runId, key, { maxPoints: max }))) {
      metrics.push({ key, value: double(b.value), timestamp: b.timestamp, step: b.step, run_id: runId })
    }
  }
  return { metrics }
}

export const METRIC_ROUTES: ReadonlyArray<Route> = [
  ["GET", "metrics/get-history", getHistory],
  ["GET", "metrics/get-history-bulk-interval", getHistoryBulkInterval]
]
