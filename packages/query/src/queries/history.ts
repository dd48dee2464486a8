/**
 * Metric histories downsampled on read, in SQL, for charts: full data stays in the read model;
 * only the buckets travel. A series with at most `maxPoints` points comes back whole. A longer one
 * is cut into at most `maxPoints` buckets of equal step range, each with min, max (NaN skipped),
 * first and last: the very first point opens the first bucket and the very last point closes the
 * last one, so a chart's line starts and ends on real points. Superseded points (set aside by a
 * resume) are left out. Buckets by step range need no sort of the points, only hash aggregation,
 * which keeps 100 runs x 100k points well inside a chart's time budget.
 */
import type { MetricBucket } from "../analysis/downsample.ts"
import { SqlParams } from "../sql/params.ts"

export interface DownsampledSeries {
  readonly runId: string
  readonly key: string
  /** Points in the full (effective) history. */
  readonly points: number
  readonly buckets: ReadonlyArray<MetricBucket>
}

/** The read model's series dictionary: which (run, key) series to read. */
export const seriesSql = (runIds: ReadonlyArray<string>, key: string) => {
  if (runIds.length === 0) throw new RangeError("Give at least one run.")
  const params = new SqlParams()
  const ids = runIds.map((id) => params.bind(id)).join(", ")
  return { sql: `SELECT series_id, run_id FROM metric_series WHERE run_id IN (${ids}) AND key = ${params.bind(key)}`, params: params.values }
}

/**
 * The buckets of the given series (ids from `seriesSql`), straight from the bulk table: the series
 * ids go in as a constant list, so DuckDB skips row groups that hold none of them, and no join or
 * view runs per point. Two passes: each series' span and count, then the buckets.
 */
export const historySql = (seriesIds: ReadonlyArray<number>, maxPoints: number) => {
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) throw new RangeError(`maxPoints must be a whole number >= 1 (e.g. the chart's width in pixels), got ${maxPoints}.`)
  const params = new SqlParams()
  const ids = seriesIds.length === 0 ? "NULL" : seriesIds.map((id) => params.bind(id)).join(", ")
  const max = params.bind(maxPoints)
  // One HUGEINT orders points by step, then log order (position, index in its event): cheaper than a struct.
  const ord = "(p.step::HUGEINT * 18446744073709551616 + p.position::HUGEINT * 4294967296 + p.idx)"
  const value = "CASE WHEN p.negative_zero THEN '-0'::DOUBLE ELSE p.value END"
  const sql = `WITH pts AS (
  SELECT p.series_id, p.step, p.timestamp, ${value} AS value, ${ord} AS ord FROM metric_points p
  WHERE p.series_id IN (${ids}) AND NOT p.superseded
), span AS (
  SELECT series_id, count(*) AS n, min(step) AS lo, max(step) AS hi FROM pts GROUP BY series_id
), p AS (
  SELECT pts.*, s.n,
    CASE WHEN s.n <= ${max} THEN NULL
         ELSE least(${max} - 1, floor((pts.step - s.lo)::DOUBLE * ${max} / (s.hi - s.lo + 1)::DOUBLE))::BIGINT END AS bucket
  FROM pts JOIN span s ON s.series_id = pts.series_id
)
SELECT series_id, n, step, first_step, first, last, min, max, count, timestamp FROM (
  SELECT series_id, n, step, step AS first_step, value AS first, value AS last, value AS min, value AS max, 1 AS count, timestamp, ord
  FROM p WHERE bucket IS NULL
  UNION ALL
  SELECT series_id, any_value(n), arg_max(step, ord), min(step), arg_min(value, ord), arg_max(value, ord),
    coalesce(min(value) FILTER (WHERE NOT isnan(value)), 'NaN'::DOUBLE), coalesce(max(value) FILTER (WHERE NOT isnan(value)), 'NaN'::DOUBLE),
    count(*), arg_max(timestamp, ord), max(ord)
  FROM p WHERE bucket IS NOT NULL GROUP BY series_id, bucket
) ORDER BY series_id, ord`
  return { sql, params: params.values }
}

type Columns = Record<string, unknown[]>

export const assembleHistories = (runIds: ReadonlyArray<string>, key: string, series: Columns, c: Columns): DownsampledSeries[] => {
  const runOf = new Map<number, string>()
  for (let i = 0; i < series.series_id.length; i++) runOf.set(series.series_id[i] as number, series.run_id[i] as string)
  const byRun = new Map<string, { points: number; buckets: MetricBucket[] }>(runIds.map((id) => [id, { points: 0, buckets: [] }]))
  const n = c.series_id.length
  for (let i = 0; i < n; i++) {
    const out = byRun.get(runOf.get(c.series_id[i] as number)!)!
    out.points = c.n[i] as number
    out.buckets.push({
      step: c.step[i] as number,
      firstStep: c.first_step[i] as number,
      first: c.first[i] as number,
      last: c.last[i] as number,
      min: c.min[i] as number,
      max: c.max[i] as number,
      count: c.count[i] as number,
      timestamp: c.timestamp[i] as number
    })
  }
  return runIds.map((runId) => ({ runId, key, ...byRun.get(runId)! }))
}
