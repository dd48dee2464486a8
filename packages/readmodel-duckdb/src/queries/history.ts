/**
 * Metric histories downsampled on read, for charts: full data stays in the read model; only the
 * buckets travel. A series with at most `maxPoints` points comes back whole. A longer one is cut
 * into at most `maxPoints` buckets, each with min, max (NaN skipped), first and last: the very
 * first point opens the first bucket and the very last point closes the last one, so a chart's
 * line starts and ends on real points. Superseded points (set aside by a resume) are left out.
 *
 * A bucket is an aligned range of 2^level steps (steps s with the same s >> level), at the
 * smallest level that cuts the series' step range into at most `maxPoints` of them: between half
 * of `maxPoints` and `maxPoints` buckets, all the same width, and at the same boundaries in every
 * series of that level, so runs compared on one chart are bucketed alike. Those ranges are what
 * the read model summarises at ingest (metric_blocks, levels 4 to 16), so a long series is read
 * from its summaries, one row per bucket: 100 runs x 100k steps to 1000 buckets reads 78k rows
 * rather than 10M points. Short series (no summaries yet) and narrow buckets are read from the
 * points.
 */
import { BLOCK_LEVELS, metricBlocks, signedZeroSql, stepOrderSql } from "../schema.ts"
import { SqlParams } from "@runledger/search-syntax"

/** One chart bucket of a series: charts draw the line through (step, last) and a min/max band. */
export interface MetricBucket {
  /** Step of the last point in the bucket: charts plot (step, last). */
  readonly step: number
  /** Step of the first point in the bucket. */
  readonly firstStep: number
  /** Value of the first point in the bucket. */
  readonly first: number
  /** Value of the last point in the bucket. */
  readonly last: number
  /** Smallest / largest non-NaN value in the bucket; NaN only if every value is NaN. */
  readonly min: number
  readonly max: number
  /** Number of points in the bucket (>= 1). */
  readonly count: number
  /** Timestamp of the last point in the bucket (pairs with `step`). */
  readonly timestamp: number
}

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

export const checkMaxPoints = (maxPoints: number): void => {
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) throw new RangeError(`maxPoints must be a whole number >= 1 (e.g. the chart's width in pixels), got ${maxPoints}.`)
}

const idList = (params: SqlParams, ids: ReadonlyArray<number>) => (ids.length === 0 ? "NULL" : ids.map((id) => params.bind(id)).join(", "))

/**
 * Each series' effective point count and step range, from its widest summaries (a few rows per
 * series). A series without summaries (too short so far) is missing: see `pointSpanSql`.
 */
export const spanSql = (seriesIds: ReadonlyArray<number>) => {
  const params = new SqlParams()
  const sql = `SELECT series_id::DOUBLE AS series_id, sum(n)::DOUBLE AS n, min(first_step)::DOUBLE AS lo, max(last_step)::DOUBLE AS hi
FROM ${metricBlocks(WIDEST).name} WHERE series_id IN (${idList(params, seriesIds)}) GROUP BY series_id`
  return { sql, params: params.values }
}

/** The same from the points, for series without summaries. */
export const pointSpanSql = (seriesIds: ReadonlyArray<number>) => {
  const params = new SqlParams()
  const sql = `SELECT series_id::DOUBLE AS series_id, count(*)::DOUBLE AS n, min(step)::DOUBLE AS lo, max(step)::DOUBLE AS hi
FROM metric_points WHERE series_id IN (${idList(params, seriesIds)}) AND NOT superseded GROUP BY series_id`
  return { sql, params: params.values }
}

const WIDEST = BLOCK_LEVELS[BLOCK_LEVELS.length - 1]

/**
 * The level a series of more than `maxPoints` points over steps lo..hi is bucketed at: the
 * smallest whose aligned ranges of 2^level steps cut lo..hi into at most `maxPoints`.
 */
export const bucketLevel = (lo: number, hi: number, maxPoints: number): number => {
  let level = 0
  while (Math.floor(hi / 2 ** level) - Math.floor(lo / 2 ** level) + 1 > maxPoints) level++
  return level
}

/** How a series is read: whole (every point a bucket), or bucketed at a level. */
export interface SeriesReading {
  readonly seriesId: number
  /** null: every point its own bucket (the series has at most maxPoints). */
  readonly level: number | null
}

/** The level of summaries a bucket level is read from: null when from the points. */
export const summaryLevel = (level: number): number | null => (level < BLOCK_LEVELS[0] ? null : Math.min(level, WIDEST))

const signed = signedZeroSql

/** Points by step, then log order. */
const ORD = stepOrderSql("p.step", "p.position", "p.idx")

/** A (series id, number) table of constants to join on. */
const perSeries = (params: SqlParams, rows: ReadonlyArray<readonly [number, number]>, column: string) =>
  `(VALUES ${rows.map(([id, x]) => `(${params.bind(id)}, ${params.bind(x)})`).join(", ")}) s(series_id, ${column})`

/**
 * The buckets of series read from their points: each point its own bucket (level null) or the
 * points grouped by step >> level. Columns as DOUBLE, in order of series, then steps.
 */
export const pointBucketsSql = (readings: ReadonlyArray<SeriesReading>) => {
  if (readings.length === 0) throw new RangeError("Give at least one series.")
  const params = new SqlParams()
  // Level -1: each point its own group (its ord is unique).
  const levels = perSeries(params, readings.map((r) => [r.seriesId, r.level ?? -1]), "level")
  const ids = idList(params, readings.map((r) => r.seriesId))
  const sql = `WITH p AS (
  SELECT p.series_id, p.step, p.timestamp, ${signed("p.value", "p.negative_zero")} AS value, ${ORD} AS ord, s.level
  FROM metric_points p JOIN ${levels} ON s.series_id = p.series_id
  WHERE p.series_id IN (${ids}) AND NOT p.superseded
)
SELECT series_id::DOUBLE AS series_id, arg_max(step, ord)::DOUBLE AS step, min(step)::DOUBLE AS first_step,
  arg_min(value, ord) AS first, arg_max(value, ord) AS last,
  coalesce(min(value) FILTER (WHERE NOT isnan(value)), 'NaN'::DOUBLE) AS min, coalesce(max(value) FILTER (WHERE NOT isnan(value)), 'NaN'::DOUBLE) AS max,
  count(*)::DOUBLE AS count, arg_max(timestamp, ord)::DOUBLE AS timestamp
FROM p GROUP BY series_id, CASE WHEN level < 0 THEN ord ELSE step >> level END
ORDER BY series_id, max(ord)`
  return { sql, params: params.values }
}

/**
 * The buckets of series read from their summaries at one summary level (`summaryLevel` of each
 * series' bucket level): a bucket is one summary, or, above the widest level, several merged. A
 * bucket is then a run of whole blocks, which split the steps in order: its first point is its
 * first block's, its last point its last block's. Columns as `pointBucketsSql`.
 */
export const blockBucketsSql = (readings: ReadonlyArray<SeriesReading>, blockLevel: number) => {
  if (readings.length === 0) throw new RangeError("Give at least one series.")
  const params = new SqlParams()
  const ids = idList(params, readings.map((r) => r.seriesId))
  const table = metricBlocks(blockLevel).name
  const columns = (first: string, last: string, firstNegativeZero: string, lastNegativeZero: string) => `
  ${signed(first, firstNegativeZero)} AS first, ${signed(last, lastNegativeZero)} AS last`
  // One summary a bucket (the common case): no aggregation, which would cost several times the scan.
  if (readings.every((r) => r.level === blockLevel)) {
    const sql = `SELECT series_id::DOUBLE AS series_id, last_step::DOUBLE AS step, first_step::DOUBLE AS first_step,${columns("first", "last", "first_negative_zero", "last_negative_zero")},
  coalesce(min, 'NaN'::DOUBLE) AS min, coalesce(max, 'NaN'::DOUBLE) AS max, n::DOUBLE AS count, last_timestamp::DOUBLE AS timestamp
FROM ${table} WHERE series_id IN (${ids})
ORDER BY series_id, block`
    return { sql, params: params.values }
  }
  const shifts = perSeries(params, readings.map((r) => [r.seriesId, (r.level ?? blockLevel) - blockLevel]), "shift")
  const sql = `SELECT b.series_id::DOUBLE AS series_id, max(b.last_step)::DOUBLE AS step, min(b.first_step)::DOUBLE AS first_step,${columns(
    "arg_min(b.first, b.block)", "arg_max(b.last, b.block)", "arg_min(b.first_negative_zero, b.block)", "arg_max(b.last_negative_zero, b.block)"
  )},
  coalesce(min(b.min), 'NaN'::DOUBLE) AS min, coalesce(max(b.max), 'NaN'::DOUBLE) AS max,
  sum(b.n)::DOUBLE AS count, arg_max(b.last_timestamp, b.block)::DOUBLE AS timestamp
FROM ${table} b JOIN ${shifts} ON s.series_id = b.series_id
WHERE b.series_id IN (${ids})
GROUP BY b.series_id, b.block >> s.shift
ORDER BY series_id, step`
  return { sql, params: params.values }
}

type Columns = Record<string, ArrayLike<unknown>>

/**
 * The runs' histories from the series dictionary, each series' point count, and the buckets
 * (one or more result sets of `historySql` / `blockHistorySql`, each ordered by series).
 */
export const assembleHistories = (runIds: ReadonlyArray<string>, key: string, series: Columns, counts: ReadonlyMap<number, number>, parts: ReadonlyArray<Columns>): DownsampledSeries[] => {
  const runOf = new Map<number, string>()
  for (let i = 0; i < series.series_id.length; i++) runOf.set(series.series_id[i] as number, series.run_id[i] as string)
  const byRun = new Map<string, { points: number; buckets: MetricBucket[] }>(runIds.map((id) => [id, { points: 0, buckets: [] }]))
  for (const c of parts) {
    const n = c.series_id.length
    for (let i = 0; i < n; i++) {
      const id = c.series_id[i] as number
      const out = byRun.get(runOf.get(id)!)!
      out.points = counts.get(id) ?? 0
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
  }
  return runIds.map((runId) => ({ runId, key, ...byRun.get(runId)! }))
}
