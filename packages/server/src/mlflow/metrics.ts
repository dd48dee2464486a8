/**
 * MLflow's metrics/get-history: a metric's points in step order, paged. The points are the ones
 * the run's views use (a resume's set-aside points are left out, as everywhere else).
 */
import { call, type Handler } from "./context.ts"
import { metricJson } from "./entities.ts"
import { page, requireString, runIdOf } from "./json.ts"

/** MLflow's server's page size when a client gives none. */
const DEFAULT_PAGE = 25_000

const getHistory: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  const key = requireString(f, "metric_key")
  const points = await call(ctx.tracker.metricHistory(runId, key))
  const p = page(points, f, DEFAULT_PAGE)
  return { metrics: p.items.map((x) => metricJson(key, x)), ...(p.next ? { next_page_token: p.next } : {}) }
}

export const METRIC_ROUTES: ReadonlyArray<readonly [method: "GET" | "POST", path: string, handler: Handler]> = [
  ["GET", "metrics/get-history", getHistory]
]
