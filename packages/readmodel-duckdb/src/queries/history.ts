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
 * the read model summarises at ingest (metric_blocks, levels 5 to 16), so a long series is read
 * from its summaries, one row per bucket: 100 runs x 100k steps to 1000 buckets reads 78k rows
 * rather than 10M points. Short series (no summaries yet) and narrow buckets are read from the
 * points.
 *
 * One call takes up to 100 runs (MLflow's get-history-bulk-interval) and answers them all with the
 * same few statements, whatever the number of runs. A step range (startStep..endStep) downsamples
 * the points in it as if they were the whole series: the buckets lying wholly in it come from the
 * summaries, and only the (at most two) buckets a bound cuts through are read from the points, in
 * the same scan as the points the span needs when those buckets are narrow. A range whose buckets
 * are narrower than any summary (a chart's zoom) is grouped by DuckDB into its buckets in one scan
 * (`rangeBucketsSql`): 62k buckets instead of 500k points for a zoom of 100 runs to 5,000 steps.
 * Elsewhere points are bucketed in JS (`bucketPoints`), where DuckDB's hash aggregate over many
 * narrow buckets cost several times the scan.
 */
import type { HistoryPoint } from "@runledger/core"
import { BLOCK_LEVELS, metricBlocks, signedZeroSql } from "../schema.ts"
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

/**
 * The most runs one call downsamples: MLflow's get-history-bulk-interval takes at most 100, and a
 * chart of more runs than that is no longer readable.
 */
export const MAX_HISTORY_RUNS = 100

/** Only the points at steps in startStep..endStep (both inclusive; either end may be left open). */
export interface StepRange {
  readonly startStep?: number
  readonly endStep?: number
}

/** A histories request's range, and the fields its caller reads (default: all; the others may be left NaN). */
export interface HistoryRequest extends StepRange {
  readonly fields?: ReadonlyArray<BucketField>
}

/** A range of steps as exact integers; null: open on that side. */
export interface StepBounds {
  readonly lo: bigint | null
  readonly hi: bigint | null
}

export const checkMaxPoints = (maxPoints: number): void => {
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) throw new RangeError(`maxPoints must be a whole number >= 1 (e.g. the chart's width in pixels), got ${maxPoints}.`)
}

const INT64 = 2 ** 63

/** Checks a downsampling request (before any work): the runs, maxPoints, and the step range as exact bounds. */
export const checkHistoryRequest = (runIds: ReadonlyArray<string>, maxPoints: number, range: StepRange = {}): StepBounds => {
  if (runIds.length === 0) throw new RangeError("Give at least one run.")
  const runs = new Set(runIds).size
  if (runs > MAX_HISTORY_RUNS) throw new RangeError(`At most ${MAX_HISTORY_RUNS} runs per call, got ${runs}: split them into calls of ${MAX_HISTORY_RUNS} runs or fewer.`)
  checkMaxPoints(maxPoints)
  const bound = (name: string, x: number | undefined): bigint | null => {
    if (x === undefined) return null
    if (!(Number.isInteger(x) && x >= -INT64 && x < INT64)) throw new RangeError(`${name} must be a whole number (a step, -2^63 to 2^63-1), got ${x}.`)
    return BigInt(x)
  }
  const lo = bound("startStep", range.startStep)
  const hi = bound("endStep", range.endStep)
  if (lo !== null && hi !== null && lo > hi) throw new RangeError(`startStep ${lo} is after endStep ${hi}: give startStep <= endStep.`)
  return { lo, hi }
}

/**
 * The runs of `runIds` the read model holds (deleted ones too), each with its series of `key` from
 * the series dictionary (series_id NULL when it has none): which runs are unknown, and which series
 * to read, in one statement.
 */
export const seriesSql = (runIds: ReadonlyArray<string>, key: string) => {
  if (runIds.length === 0) throw new RangeError("Give at least one run.")
  const params = new SqlParams()
  const ids = runIds.map((id) => params.bind(id)).join(", ")
  return {
    sql: `SELECT r.run_id, s.series_id, s.distinct_steps FROM runs r LEFT JOIN metric_series s ON s.run_key = r.run_key AND s.key = ${params.bind(key)} WHERE r.run_id IN (${ids})`,
    params: params.values
  }
}

/** Series ids are integers the read model assigned (read back from it): listed in the SQL text. */
const idList = (ids: ReadonlyArray<number>) =>
  ids.length === 0
    ? "NULL"
    : ids.map((id) => {
      if (!Number.isSafeInteger(id)) throw new RangeError(`A series id is a whole number, got ${id}.`)
      return String(id)
    }).join(", ")

// BigInt division truncates towards zero; steps and blocks may be negative.
const floorDiv = (a: bigint, w: bigint): bigint => (a % w !== 0n && a < 0n ? a / w - 1n : a / w)
const ceilDiv = (a: bigint, w: bigint): bigint => -floorDiv(-a, w)

/** A range of indices (blocks, buckets); null: open on that side. */
export interface IndexRange {
  readonly first: bigint | null
  readonly last: bigint | null
}

/**
 * The aligned ranges of `width` steps (index i: steps i*width .. (i+1)*width-1) lying wholly within
 * the bounds; undefined when there is none.
 */
export const wholeRanges = (b: StepBounds, width: bigint): IndexRange | undefined => {
  const first = b.lo === null ? null : ceilDiv(b.lo, width)
  const last = b.hi === null ? null : floorDiv(b.hi + 1n, width) - 1n
  return first !== null && last !== null && first > last ? undefined : { first, last }
}

/**
 * The steps of the bounds outside those whole ranges (at most one stretch at each end, or the
 * whole bounds when no range fits): there a range's summary would count points outside the
 * bounds, so those steps are read from the points.
 */
export const partialEdges = (b: StepBounds, width: bigint): StepBounds[] => {
  const whole = wholeRanges(b, width)
  if (whole === undefined) return [b]
  const edges: StepBounds[] = []
  if (b.lo !== null && b.lo < whole.first! * width) edges.push({ lo: b.lo, hi: whole.first! * width - 1n })
  if (b.hi !== null && b.hi > (whole.last! + 1n) * width - 1n) edges.push({ lo: (whole.last! + 1n) * width, hi: b.hi })
  return edges
}

/** `expr` within an index range, as SQL (whole numbers computed here, so safe in the text). */
const within = (expr: string, r: IndexRange): string => {
  const terms = [r.first === null ? null : `${expr} >= ${r.first}`, r.last === null ? null : `${expr} <= ${r.last}`].filter((t) => t !== null)
  return terms.length === 0 ? "true" : terms.join(" AND ")
}

const WIDEST = BLOCK_LEVELS[BLOCK_LEVELS.length - 1]
const widthOf = (level: number): bigint => 1n << BigInt(level)

/**
 * Each summarised series' effective point count and step range within the bounds, from its
 * summaries: every series with summaries is listed (n = 0 when none of its blocks lies wholly in
 * the bounds). The bounds' aligned inside (whole blocks of the narrowest level) is covered by the widest
 * blocks wholly in it, and, at its two ends, narrower ones whose wider block is not: a few rows
 * per series and level. The steps left over at the ends are read from the points (`partialEdges`
 * at the narrowest width). Without bounds this reads the widest level only.
 */
export const spanSql = (seriesIds: ReadonlyArray<number>, bounds: StepBounds) => {
  const ids = idList(seriesIds)
  const parts: string[] = []
  BLOCK_LEVELS.forEach((level, i) => {
    const table = metricBlocks(level).name
    const whole = wholeRanges(bounds, widthOf(level))
    if (level === WIDEST) {
      const inside = whole === undefined ? "false" : within("block", whole)
      parts.push(`SELECT series_id, CASE WHEN ${inside} THEN n ELSE 0 END AS n, CASE WHEN ${inside} THEN first_step END AS lo, CASE WHEN ${inside} THEN last_step END AS hi
FROM ${table} WHERE series_id IN (${ids})`)
      return
    }
    if (whole === undefined) return
    const wider = BLOCK_LEVELS[i + 1]
    const parent = wholeRanges(bounds, widthOf(wider))
    // Every block here lies in a wider block wholly within the bounds: counted there.
    if (parent !== undefined && parent.first === null && parent.last === null) return
    const notCounted = parent === undefined ? "" : ` AND NOT (${within(`block >> ${wider - level}`, parent)})`
    parts.push(`SELECT series_id, n, first_step AS lo, last_step AS hi FROM ${table} WHERE series_id IN (${ids}) AND ${within("block", whole)}${notCounted}`)
  })
  const sql = `SELECT series_id::DOUBLE AS series_id, sum(n)::DOUBLE AS n, min(lo)::DOUBLE AS lo, max(hi)::DOUBLE AS hi
FROM (${parts.join("\nUNION ALL ")}) GROUP BY series_id`
  return { sql, params: [] }
}

const INT64_MIN = "-9223372036854775808"
const INT64_MAX = "9223372036854775807"

/** Some steps of one series, read from its points (at a bucket level, or null: each point its own bucket). */
export interface PointReading extends StepBounds {
  readonly seriesId: number
  readonly level: number | null
}

/** The readings as a constant table r(series_id, lo, hi, level) to join the points on. */
const readingsTable = (readings: ReadonlyArray<PointReading>): string =>
  `(VALUES ${readings.map((r) => `(${idList([r.seriesId])}, CAST(${r.lo ?? INT64_MIN} AS BIGINT), CAST(${r.hi ?? INT64_MAX} AS BIGINT), ${r.level ?? -1})`).join(", ")}) r(series_id, lo, hi, level)`

/**
 * The steps the readings cover, as a filter on the points' step column, when they are a few
 * distinct ranges (the bounds' ends, shared by every series): DuckDB then skips the row groups
 * whose steps lie elsewhere, where the join alone would read them all. The join decides.
 */
const stepFilter = (readings: ReadonlyArray<PointReading>): string => {
  const ranges = new Map<string, StepBounds>()
  for (const r of readings) {
    if (r.lo === null && r.hi === null) return ""
    ranges.set(`${r.lo}..${r.hi}`, r)
  }
  if (ranges.size > 8) return ""
  const terms = [...ranges.values()].map((b) => `(${within("p.step", { first: b.lo, last: b.hi })})`)
  return ` AND (${terms.join(" OR ")})`
}

/**
 * The level a series of more than `maxPoints` points over steps lo..hi is bucketed at: the
 * smallest whose aligned ranges of 2^level steps cut lo..hi into at most `maxPoints`.
 */
export const bucketLevel = (lo: number, hi: number, maxPoints: number): number => {
  let level = 0
  while (Math.floor(hi / 2 ** level) - Math.floor(lo / 2 ** level) + 1 > maxPoints) level++
  return level
}

/** The level of summaries a bucket level is read from: null when from the points. */
export const summaryLevel = (level: number): number | null => (level < BLOCK_LEVELS[0] ? null : Math.min(level, WIDEST))

/** Buckets of a series read from its summaries: `level` the bucket level, `blocks` the summaries' indices to read. */
export interface BlockReading {
  readonly seriesId: number
  readonly level: number
  readonly blocks: IndexRange
}

/** How each series is read, and its effective point count within the bounds. */
export interface HistoryPlan {
  readonly counts: ReadonlyMap<number, number>
  readonly fromPoints: ReadonlyArray<PointReading>
  /** By summary level. */
  readonly fromBlocks: ReadonlyMap<number, ReadonlyArray<BlockReading>>
}

type Spans = Readonly<Record<string, ArrayLike<number>>>

/**
 * What to read from the points besides the blocks: series without summaries, and the bounds'
 * partial ends, at `width` (default: the narrowest summaries', what the span needs).
 */
export const pointSpanReadings = (seriesIds: ReadonlyArray<number>, spans: Spans, bounds: StepBounds, width = widthOf(BLOCK_LEVELS[0])): PointReading[] => {
  const summarised = new Set(Array.from(spans.series_id))
  const edges = partialEdges(bounds, width)
  return seriesIds.flatMap((seriesId) => (summarised.has(seriesId) ? edges.map((e) => ({ seriesId, level: null, ...e })) : [{ seriesId, level: null, ...bounds }]))
}

/** The widest ends of the bounds read ahead (steps each): a few hundred points per series at most. */
const READ_AHEAD_STEPS = 1024n

/**
 * The width at which to read the bounds' ends once, for both the spans and the buckets that a
 * bound cuts through: the buckets of the widest level the bounds allow (no series in them is
 * bucketed wider: its steps lie within the bounds), when that is at most READ_AHEAD_STEPS; else
 * the narrowest summaries' (the ends are then read again for the buckets).
 */
export const readAheadWidth = (bounds: StepBounds, maxPoints: number): bigint => {
  const narrowest = widthOf(BLOCK_LEVELS[0])
  if (bounds.lo === null || bounds.hi === null) return narrowest
  const widest = widthOf(bucketLevel(Number(bounds.lo), Number(bounds.hi), maxPoints))
  return widest > narrowest && widest <= READ_AHEAD_STEPS ? widest : narrowest
}

/** Does reading `outer` hold every step of `inner` (same series)? */
const holds = (outer: StepBounds, inner: StepBounds): boolean =>
  (outer.lo === null || (inner.lo !== null && outer.lo <= inner.lo)) && (outer.hi === null || (inner.hi !== null && inner.hi <= outer.hi))

/** Whether the rows read for `read` hold every point `wanted` asks for. */
export const readingsHold = (read: ReadonlyArray<PointReading>, wanted: ReadonlyArray<PointReading>): boolean =>
  wanted.every((w) => read.some((r) => r.seriesId === w.seriesId && holds(r, w)))

/**
 * The rows (`pointRowsSql`) at the steps of `readings`, each with its reading's level: the
 * readings of one series are disjoint, so a row is taken once at most.
 */
export const rowsOf = (c: Readonly<Record<string, Float64Array>>, readings: ReadonlyArray<PointReading>): Record<string, Float64Array> => {
  const bySeries = new Map<number, PointReading[]>()
  for (const r of readings) {
    const list = bySeries.get(r.seriesId)
    if (list === undefined) bySeries.set(r.seriesId, [r])
    else list.push(r)
  }
  const take: number[] = []
  const levels: number[] = []
  for (let i = 0; i < c.series_id.length; i++) {
    const step = c.step[i]
    const r = bySeries.get(c.series_id[i])?.find((r) => (r.lo === null || Number(r.lo) <= step) && (r.hi === null || step <= Number(r.hi)))
    if (r === undefined) continue
    take.push(i)
    levels.push(r.level ?? -1)
  }
  const out = pickRows(c, take)
  out.level = Float64Array.from(levels)
  return out
}

/**
 * The rows at the indices `take` (ascending, each once) of the columns `names` of `c`; a column is
 * passed on as it is when every row is taken.
 */
const pickRows = (c: Readonly<Record<string, Float64Array>>, take: ReadonlyArray<number>, names: ReadonlyArray<string> = Object.keys(c)): Record<string, Float64Array> => {
  const all = take.length === c.series_id.length
  const out: Record<string, Float64Array> = {}
  for (const name of names) out[name] = all ? c[name] : Float64Array.from(take, (i) => c[name][i])
  return out
}

/** Each series' effective point count and step range in the rows: one row a series that has any. */
export const spansOfRows = (c: Readonly<Record<string, Float64Array>>): Record<string, Float64Array> => {
  const span = new Map<number, { n: number; lo: number; hi: number }>()
  const { series_id: ids, step: steps } = c
  // The rows of a series mostly come together: the span of the row before is usually this one's.
  let s: { n: number; lo: number; hi: number } | undefined
  let id = Number.NaN
  for (let i = 0; i < ids.length; i++) {
    const step = steps[i]
    if (ids[i] !== id) {
      id = ids[i]
      s = span.get(id)
      if (s === undefined) span.set(id, (s = { n: 0, lo: step, hi: step }))
    }
    s!.n++
    if (step < s!.lo) s!.lo = step
    if (step > s!.hi) s!.hi = step
  }
  const keys = Array.from(span.keys())
  return {
    series_id: Float64Array.from(keys),
    n: Float64Array.from(keys, (k) => span.get(k)!.n),
    lo: Float64Array.from(keys, (k) => span.get(k)!.lo),
    hi: Float64Array.from(keys, (k) => span.get(k)!.hi)
  }
}

/**
 * How to read each series: whole (at most maxPoints points in the bounds), bucketed from its
 * points, or bucketed from its summaries, with the buckets that straddle a bound from the points.
 */
export const planHistories = (spans: Spans, pointSpans: Spans | undefined, bounds: StepBounds, maxPoints: number): HistoryPlan => {
  const summarised = new Set(Array.from(spans.series_id))
  const span = new Map<number, { n: number; lo: number; hi: number }>()
  for (const part of [spans, pointSpans]) {
    if (part === undefined) continue
    for (let i = 0; i < part.series_id.length; i++) {
      const n = part.n[i]
      if (n === 0) continue
      const id = part.series_id[i]
      const s = span.get(id)
      if (s === undefined) span.set(id, { n, lo: part.lo[i], hi: part.hi[i] })
      else {
        s.n += n
        s.lo = Math.min(s.lo, part.lo[i])
        s.hi = Math.max(s.hi, part.hi[i])
      }
    }
  }
  const counts = new Map<number, number>()
  const fromPoints: PointReading[] = []
  const fromBlocks = new Map<number, BlockReading[]>()
  for (const [seriesId, { n, lo, hi }] of span) {
    counts.set(seriesId, n)
    if (n <= maxPoints) {
      fromPoints.push({ seriesId, level: null, ...bounds })
      continue
    }
    const level = bucketLevel(lo, hi, maxPoints)
    const blockLevel = summarised.has(seriesId) ? summaryLevel(level) : null
    if (blockLevel === null) {
      fromPoints.push({ seriesId, level, ...bounds })
      continue
    }
    const width = widthOf(level)
    const whole = wholeRanges(bounds, width)
    if (whole !== undefined) {
      // A bucket above the widest level is several of its blocks.
      const shift = BigInt(level - blockLevel)
      const blocks = { first: whole.first === null ? null : whole.first << shift, last: whole.last === null ? null : ((whole.last + 1n) << shift) - 1n }
      const readings = fromBlocks.get(blockLevel)
      if (readings === undefined) fromBlocks.set(blockLevel, [{ seriesId, level, blocks }])
      else readings.push({ seriesId, level, blocks })
    }
    for (const edge of partialEdges(bounds, width)) fromPoints.push({ seriesId, level, ...edge })
  }
  return { counts, fromPoints, fromBlocks }
}

const signed = signedZeroSql

/** At most this many kinds of reading (step range and level) are read as plain range scans: more, by a join. */
const MAX_RANGE_SCANS = 8

/**
 * The points of the readings' steps, one row each, with their reading's level: bucketed in JS by
 * `bucketPoints`. Grouping them in SQL (a hash aggregate of arg_min/arg_max over a 128-bit order)
 * cost several times the scan itself: 0.6 s for a zoom of 100 runs to 125k buckets of 4 steps.
 * Steps, positions and indices are whole numbers below 2^53, exact as doubles.
 *
 * The readings usually share a few step ranges (the bounds, or their ends) and levels: then one
 * plain scan each (series IN, step range), their rows put together: a join on the readings as a
 * constant table cost 1.7 times as much (140 ms against 80 ms for the two ends of 100 series).
 * Else the join. The readings of one series are disjoint, so either way a point is read once at most.
 */
export const pointRowsSql = (readings: ReadonlyArray<PointReading>) => {
  if (readings.length === 0) throw new RangeError("Give at least one series.")
  const columns = `p.series_id::DOUBLE AS series_id, p.step::DOUBLE AS step, ${signed("p.value", "p.negative_zero")} AS value, p.timestamp::DOUBLE AS timestamp,
  p.position::DOUBLE AS position, p.idx::DOUBLE AS idx`
  const kinds = new Map<string, { bounds: StepBounds; level: number; ids: number[] }>()
  for (const r of readings) {
    const level = r.level ?? -1
    const kind = `${r.lo}..${r.hi}@${level}`
    const of = kinds.get(kind)
    if (of === undefined) kinds.set(kind, { bounds: r, level, ids: [r.seriesId] })
    else of.ids.push(r.seriesId)
  }
  if (kinds.size <= MAX_RANGE_SCANS) {
    const scans = [...kinds.values()].map(({ bounds, level, ids }) =>
      `SELECT ${columns}, CAST(${level} AS DOUBLE) AS level
FROM metric_points p WHERE p.series_id IN (${idList(ids)}) AND ${within("p.step", { first: bounds.lo, last: bounds.hi })} AND NOT p.superseded`
    )
    return { sql: scans.join("\nUNION ALL\n"), params: [] }
  }
  const sql = `SELECT ${columns}, r.level::DOUBLE AS level
FROM metric_points p JOIN ${readingsTable(readings)} ON r.series_id = p.series_id AND p.step BETWEEN r.lo AND r.hi
WHERE p.series_id IN (${idList(readings.map((r) => r.seriesId))}) AND NOT p.superseded${stepFilter(readings)}`
  return { sql, params: [] }
}

/**
 * Whether every series is surely bucketed from its points over these bounds: a narrow range (a
 * chart's zoom), cut into at most maxPoints buckets narrower than the narrowest summary. Then the
 * points of the range are read once, and each series planned from them (`planFromPoints`): no
 * summaries to consult, and no second scan for the span.
 */
export const fromPointsOnly = (bounds: StepBounds, maxPoints: number): boolean =>
  bounds.lo !== null && bounds.hi !== null && bucketLevel(Number(bounds.lo), Number(bounds.hi), maxPoints) < BLOCK_LEVELS[0]

/**
 * Plan series from all their points in the bounds (`pointRowsSql` of whole bounds): each series'
 * point count, and its bucket level written into the rows' level column (-1: at most maxPoints
 * points, each its own bucket), as `planHistories` would choose it.
 */
export const planFromPoints = (c: Readonly<Record<string, Float64Array>>, maxPoints: number): Map<number, number> => {
  const spans = spansOfRows(c)
  const counts = new Map<number, number>()
  const levels = new Map<number, number>()
  for (let k = 0; k < spans.series_id.length; k++) {
    const n = spans.n[k]
    counts.set(spans.series_id[k], n)
    levels.set(spans.series_id[k], n <= maxPoints ? -1 : bucketLevel(spans.lo[k], spans.hi[k], maxPoints))
  }
  const { series_id: ids, level: rowLevels } = c
  let id = Number.NaN
  let level = -1
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== id) {
      id = ids[i]
      level = levels.get(id)!
    }
    rowLevels[i] = level
  }
  return counts
}

/**
 * The points of whole bounds, the same for every series (a chart's zoom, `fromPointsOnly`): the
 * four columns the buckets need, and no join, for `bucketRange`. Log order (position, idx) is
 * left out: it only breaks ties between points at one step, and where those decide a bucket,
 * `bucketRange` says so and the caller reads `pointRowsSql`.
 */
export const rangePointsSql = (seriesIds: ReadonlyArray<number>, bounds: StepBounds) => {
  if (seriesIds.length === 0) throw new RangeError("Give at least one series.")
  const steps = within("p.step", { first: bounds.lo, last: bounds.hi })
  const sql = `SELECT p.series_id::DOUBLE AS series_id, p.step::DOUBLE AS step, ${signed("p.value", "p.negative_zero")} AS value, p.timestamp::DOUBLE AS timestamp
FROM metric_points p WHERE p.series_id IN (${idList(seriesIds)}) AND ${steps} AND NOT p.superseded`
  return { sql, params: [] }
}

/**
 * The narrowest buckets (2^level steps) `rangeBucketsSql` groups. Zooms of 100 runs to at most
 * 1200 buckets (median ms of 30, grouped against read as points): to 4,800 steps (8-step buckets)
 * 101 against 146; to 9,600 and 19,000 steps (16-step) 147 against 218 and 290 against 383; but
 * to 3,000 steps (4-step) 141 against 101, and to 1,200 (2-step) 109 against 74.
 */
export const RANGE_GROUPING_LEVEL = 3

/**
 * A zoom's buckets grouped by DuckDB (`fromPointsOnly` bounds), at `level`, the bounds' own bucket
 * level: one row a bucket, in order of series and step. Only for series whose points all have
 * steps of their own (metric_series.distinct_steps): where two share a step, log order decides
 * which is a bucket's first or last, and those are read as points. Reading the range's points into
 * JS instead moves ten times the rows: 500k points for a zoom of 100 runs to 5,000 steps, whose
 * copy out of DuckDB cost more than this aggregate. `rangeBuckets` keeps the series bucketed as
 * `bucketRange` would bucket them.
 */
export const rangeBucketsSql = (seriesIds: ReadonlyArray<number>, bounds: StepBounds, level: number, fields?: ReadonlyArray<BucketField>) => {
  if (seriesIds.length === 0) throw new RangeError("Give at least one series.")
  const steps = within("p.step", { first: bounds.lo, last: bounds.hi })
  const value = signed("p.value", "p.negative_zero")
  // The columns not asked for are not computed (NaN): a chart's zoom reads step, last and timestamp
  // only, and min, max and first were a third of this aggregate (cold 147 -> 124 ms for 100 runs).
  const asked = (field: BucketField, sql: string) => (fields === undefined || fields.includes(field) ? sql : "'NaN'::DOUBLE")
  const sql = `SELECT p.series_id::DOUBLE AS series_id, max(p.step)::DOUBLE AS step, min(p.step)::DOUBLE AS first_step,
  ${asked("first", `arg_min(${value}, p.step)`)} AS first, ${asked("last", `arg_max(${value}, p.step)`)} AS last,
  ${asked("min", "coalesce(min(p.value) FILTER (WHERE NOT isnan(p.value)), 'NaN'::DOUBLE)")} AS min, ${asked("max", "coalesce(max(p.value) FILTER (WHERE NOT isnan(p.value)), 'NaN'::DOUBLE)")} AS max,
  count(*)::DOUBLE AS count, ${asked("timestamp", "arg_max(p.timestamp, p.step)::DOUBLE")} AS timestamp
FROM metric_points p WHERE p.series_id IN (${idList(seriesIds)}) AND ${steps} AND NOT p.superseded
GROUP BY p.series_id, p.step >> ${level}
ORDER BY series_id, step`
  return { sql, params: [] }
}

/**
 * The series of `rangeBucketsSql`'s rows that are bucketed at that level: those with more than
 * maxPoints points whose own step range gives that level (a series that covers less of the bounds
 * may take a narrower one, and one of at most maxPoints points is returned whole). The others are
 * `redo`: read them as before (`bucketRange`).
 */
export const rangeBuckets = (c: Readonly<Record<string, Float64Array>>, maxPoints: number, level: number): RangeBuckets & { readonly redo: number[] } => {
  const { series_id: ids, first_step: firstSteps, step: steps, count } = c
  const counts = new Map<number, number>()
  const redo: number[] = []
  const take: number[] = []
  for (let start = 0; start < ids.length; ) {
    const id = ids[start]
    let end = start
    let n = 0
    while (end < ids.length && ids[end] === id) n += count[end++]
    // Rows of a series come by step: its range is its first row's first step to its last row's step.
    if (n > maxPoints && bucketLevel(firstSteps[start], steps[end - 1], maxPoints) === level) {
      counts.set(id, n)
      for (let i = start; i < end; i++) take.push(i)
    } else redo.push(id)
    start = end
  }
  return { counts, buckets: pickRows(c, take, BUCKET_COLUMNS), redo }
}

/** Buckets as `bucketPoints` returns them, with each series' point count. */
export interface RangeBuckets {
  readonly counts: Map<number, number>
  readonly buckets: Record<string, Float64Array>
}

/** Columns of `bucketPoints`' result, in its order. */
const BUCKET_COLUMNS = ["series_id", "step", "first_step", "first", "last", "min", "max", "count", "timestamp"] as const

/** Per bucket (by index): its first and last row, point count, and min and max (NaN: every value NaN). */
interface BucketParts {
  readonly firstRow: Int32Array
  readonly lastRow: Int32Array
  readonly count: Float64Array
  readonly min: Float64Array
  readonly max: Float64Array
}

/** The buckets `order` lists (bucket indices), in that order, as the columns of `bucketPoints`' result. */
const bucketColumns = (c: Readonly<Record<string, Float64Array>>, order: Int32Array, parts: BucketParts): Record<string, Float64Array> => {
  const { series_id: ids, step: steps, value: values, timestamp: timestamps } = c
  const { firstRow, lastRow, count, min, max } = parts
  const out: Record<string, Float64Array> = {}
  for (const name of BUCKET_COLUMNS) out[name] = new Float64Array(order.length)
  const { series_id, step, first_step, first, last, min: outMin, max: outMax, count: outCount, timestamp } = out
  for (let k = 0; k < order.length; k++) {
    const b = order[k]
    const f = firstRow[b]
    const l = lastRow[b]
    series_id[k] = ids[l]
    step[k] = steps[l]
    first_step[k] = steps[f]
    first[k] = values[f]
    last[k] = values[l]
    // No sign of zero promised for min and max (the summaries store -0 as 0).
    outMin[k] = min[b] === 0 ? 0 : min[b]
    outMax[k] = max[b] === 0 ? 0 : max[b]
    outCount[k] = count[b]
    timestamp[k] = timestamps[l]
  }
  return out
}

/**
 * `planFromPoints` then `bucketPoints` over `rangePointsSql`'s rows, without log order, in two
 * passes whatever order the rows come in: a series' buckets are a dense array indexed by
 * step >> level (at most maxPoints of them, and fewer than its points), so each row goes straight
 * to its bucket: no map, no sort. A series of at most maxPoints points (each point its own
 * bucket) is ranked by step: in row order when its steps rise, else sorted (at most maxPoints rows).
 * Undefined when two points share a step where log order decides (a bucket's first or last
 * point, or the order of two buckets of one step): then read `pointRowsSql` and use
 * `bucketPoints`. Ties inside a bucket are no matter (they only count, and min and max).
 */
export const bucketRange = (c: Readonly<Record<string, Float64Array>>, maxPoints: number): RangeBuckets | undefined => {
  const { series_id: ids, step: steps, value: values } = c
  const rows = ids.length
  // Pass 1: each row's series (dense index k, by first appearance), each series' count and step range,
  // and whether its steps rise strictly in row order.
  const indexOf = new Map<number, number>()
  const seriesOf = new Int32Array(rows)
  const seriesIds: number[] = []
  const n: number[] = []
  const lo: number[] = []
  const hi: number[] = []
  const rising: boolean[] = []
  let id = Number.NaN
  let k = -1
  for (let i = 0; i < rows; i++) {
    const step = steps[i]
    if (ids[i] !== id) {
      id = ids[i]
      const known = indexOf.get(id)
      if (known === undefined) {
        k = seriesIds.length
        indexOf.set(id, k)
        seriesIds.push(id)
        n.push(0)
        lo.push(step)
        hi.push(step)
        rising.push(true)
        seriesOf[i] = k
        n[k]++
        continue
      }
      k = known
    }
    seriesOf[i] = k
    n[k]++
    if (step > hi[k]) hi[k] = step
    else rising[k] = false
    if (step < lo[k]) lo[k] = step
  }
  const series = seriesIds.length
  // Each series' buckets: slots base[k] .. base[k+1]-1; a bucketed series' slot is step / width - origin.
  const base = new Int32Array(series + 1)
  const width = new Float64Array(series)
  const origin = new Float64Array(series)
  const counts = new Map<number, number>()
  for (let s = 0; s < series; s++) {
    counts.set(seriesIds[s], n[s])
    let slots = n[s]
    if (n[s] > maxPoints) {
      width[s] = 2 ** bucketLevel(lo[s], hi[s], maxPoints)
      origin[s] = Math.floor(lo[s] / width[s])
      slots = Math.floor(hi[s] / width[s]) - origin[s] + 1
    }
    base[s + 1] = base[s] + slots
  }
  // A whole series (each point its own bucket) whose steps do not rise in row order: its rows' ranks by step.
  const unranked = new Map<number, number[]>()
  for (let s = 0; s < series; s++) if (width[s] === 0 && !rising[s]) unranked.set(s, [])
  let rank: Int32Array | undefined
  if (unranked.size > 0) {
    rank = new Int32Array(rows)
    for (let i = 0; i < rows; i++) unranked.get(seriesOf[i])?.push(i)
    for (const of of unranked.values()) {
      of.sort((a, b) => steps[a] - steps[b])
      for (let r = 0; r < of.length; r++) {
        // Two points at one step: two buckets, in log order.
        if (r > 0 && steps[of[r]] === steps[of[r - 1]]) return undefined
        rank[of[r]] = r
      }
    }
  }
  const slots = base[series]
  const count = new Float64Array(slots)
  const min = new Float64Array(slots)
  const max = new Float64Array(slots)
  const firstRow = new Int32Array(slots)
  const lastRow = new Int32Array(slots)
  const firstTie = new Uint8Array(slots)
  const lastTie = new Uint8Array(slots)
  // Pass 2: each row into its bucket.
  const ordinal = new Int32Array(series)
  for (let i = 0; i < rows; i++) {
    const s = seriesOf[i]
    const step = steps[i]
    const v = values[i]
    const w = width[s]
    // Slots are fewer than the rows: small integers (| 0 keeps them so for the typed arrays' sake).
    const b = (base[s] + (w !== 0 ? Math.floor(step / w) - origin[s] : rank === undefined || rising[s] ? ordinal[s]++ : rank[i])) | 0
    if (count[b] === 0) {
      count[b] = 1
      firstRow[b] = lastRow[b] = i
      // NaN is skipped: min and max stay NaN until the first other value.
      min[b] = max[b] = v
      continue
    }
    count[b]++
    // Another point at the bucket's first (last) step so far: which is first (last) is log order's
    // to say, unless an earlier (later) step comes.
    const first = steps[firstRow[b]]
    if (step < first) {
      firstRow[b] = i
      firstTie[b] = 0
    } else if (step === first) firstTie[b] = 1
    const last = steps[lastRow[b]]
    if (step > last) {
      lastRow[b] = i
      lastTie[b] = 0
    } else if (step === last) lastTie[b] = 1
    if (v === v) {
      if (!(v >= min[b])) min[b] = v
      if (!(v <= max[b])) max[b] = v
    }
  }
  // By series id, then slot (step order); empty slots left out.
  let buckets = 0
  for (let b = 0; b < slots; b++) {
    if (firstTie[b] !== 0 || lastTie[b] !== 0) return undefined
    if (count[b] !== 0) buckets++
  }
  const order = new Int32Array(buckets)
  let o = 0
  for (const s of Array.from(seriesIds.keys()).sort((a, b) => seriesIds[a] - seriesIds[b])) {
    for (let b = base[s]; b < base[s + 1]; b++) if (count[b] !== 0) order[o++] = b
  }
  return { counts, buckets: bucketColumns(c, order, { firstRow, lastRow, count, min, max }) }
}

/** Whether point i comes after point j by step, then log order (its event's position, then its index in the event). */
const laterPoint = (steps: Float64Array, positions: Float64Array, idx: Float64Array) => (i: number, j: number): boolean =>
  steps[i] !== steps[j] ? steps[i] > steps[j] : positions[i] !== positions[j] ? positions[i] > positions[j] : idx[i] > idx[j]

/**
 * The buckets of the points `pointRowsSql` read: each point its own bucket (level -1), or the
 * points grouped by series and step >> level. A bucket's first point is its earliest by step, then
 * log order, its last the latest; min and max skip NaN (NaN when every value is). Columns as
 * `blockBucketsSql`'s, in order of series, then steps.
 */
export const bucketPoints = (c: Readonly<Record<string, Float64Array>>): Record<string, Float64Array> => {
  const { series_id: ids, step: steps, value: values, level: levels } = c
  const after = laterPoint(steps, c.position, c.idx)
  const n = ids.length
  // Per bucket (at most one a point): its first and last point (row indices), count, min, max.
  const firstRow = new Int32Array(n)
  const lastRow = new Int32Array(n)
  const count = new Float64Array(n)
  const min = new Float64Array(n)
  const max = new Float64Array(n)
  let buckets = 0
  // The rows come in the table's order: usually each series' together, by step. Then a bucket's
  // points are next to each other, and a point starts a new bucket unless it is in the one before.
  let grouped = true
  for (let i = 1; i < n && grouped; i++) grouped = ids[i] > ids[i - 1] || (ids[i] === ids[i - 1] && steps[i] >= steps[i - 1])
  // Else: the buckets by series, then bucket index (step >> level); level -1 needs none: each point is a new bucket.
  const bucketOf = new Map<number, Map<number, number>>()
  let prevSeries = Number.NaN
  let prevIndex = Number.NaN
  let b = -1
  let width = 1
  let widthLevel = 0
  for (let i = 0; i < n; i++) {
    const series = ids[i]
    const level = levels[i]
    const v = values[i]
    if (level !== widthLevel) {
      widthLevel = level
      width = 2 ** level
    }
    const index = level < 0 ? -1 : Math.floor(steps[i] / width)
    if (level < 0 || series !== prevSeries || index !== prevIndex) {
      let found: number | undefined
      if (level >= 0 && !grouped) {
        let of = bucketOf.get(series)
        if (of === undefined) bucketOf.set(series, (of = new Map()))
        found = of.get(index)
        if (found === undefined) of.set(index, buckets)
      }
      prevSeries = series
      prevIndex = index
      if (found === undefined) {
        b = buckets++
        firstRow[b] = lastRow[b] = i
        count[b] = 1
        // NaN is skipped: min and max stay NaN until the first other value.
        min[b] = max[b] = v
        continue
      }
      b = found
    }
    count[b]++
    if (after(firstRow[b], i)) firstRow[b] = i
    if (after(i, lastRow[b])) lastRow[b] = i
    if (v === v) {
      if (!(v >= min[b])) min[b] = v
      if (!(v <= max[b])) max[b] = v
    }
  }
  // By series, then by the last point (buckets are disjoint step ranges, so this is step order).
  const compare = (a: number, b: number): number => {
    const s = ids[lastRow[a]] - ids[lastRow[b]]
    if (s !== 0 || a === b) return s
    return after(lastRow[a], lastRow[b]) ? 1 : -1
  }
  const order = new Int32Array(buckets)
  for (let k = 0; k < buckets; k++) order[k] = k
  // Usually already in order (the rows came in step order): then no sort.
  let sorted = true
  for (let k = 1; k < buckets && sorted; k++) sorted = compare(order[k - 1], order[k]) < 0
  if (!sorted) order.sort(compare)
  return bucketColumns(c, order, { firstRow, lastRow, count, min, max })
}

/**
 * The buckets of series read from their summaries at one summary level (`summaryLevel` of each
 * series' bucket level), within each reading's blocks: a bucket is one summary, or, above the
 * widest level, several merged. A bucket is then a run of whole blocks, which split the steps in
 * order: its first point is its first block's, its last point its last block's. Columns as
 * those of `bucketPoints`; in order of series, then steps only when blocks are merged (else in
 * the table's order: `assembleHistoryColumns` puts each run's buckets in step order).
 */
export const blockBucketsSql = (readings: ReadonlyArray<BlockReading>, blockLevel: number) => {
  if (readings.length === 0) throw new RangeError("Give at least one series.")
  const ids = idList(readings.map((r) => r.seriesId))
  const table = metricBlocks(blockLevel).name
  const columns = (first: string, last: string, firstNegativeZero: string, lastNegativeZero: string) => `
  ${signed(first, firstNegativeZero)} AS first, ${signed(last, lastNegativeZero)} AS last`
  // One summary a bucket, the same blocks of each (the common case): no aggregation, which would cost several times the scan,
  // and no ORDER BY, which cost as much again as the read (the rows come in the table's order, each series' mostly by block).
  const { first, last } = readings[0].blocks
  if (readings.every((r) => r.level === blockLevel && r.blocks.first === first && r.blocks.last === last)) {
    const sql = `SELECT series_id::DOUBLE AS series_id, last_step::DOUBLE AS step, first_step::DOUBLE AS first_step,${columns("first", "last", "first_negative_zero", "last_negative_zero")},
  coalesce(min, 'NaN'::DOUBLE) AS min, coalesce(max, 'NaN'::DOUBLE) AS max, n::DOUBLE AS count, last_timestamp::DOUBLE AS timestamp
FROM ${table} WHERE series_id IN (${ids}) AND ${within("block", readings[0].blocks)}`
    return { sql, params: [] }
  }
  const shifts = `(VALUES ${readings.map((r) => `(${idList([r.seriesId])}, ${r.level - blockLevel}, CAST(${r.blocks.first ?? INT64_MIN} AS BIGINT), CAST(${r.blocks.last ?? INT64_MAX} AS BIGINT))`).join(", ")}) s(series_id, shift, first, last)`
  const sql = `SELECT b.series_id::DOUBLE AS series_id, max(b.last_step)::DOUBLE AS step, min(b.first_step)::DOUBLE AS first_step,${columns(
    "arg_min(b.first, b.block)", "arg_max(b.last, b.block)", "arg_min(b.first_negative_zero, b.block)", "arg_max(b.last_negative_zero, b.block)"
  )},
  coalesce(min(b.min), 'NaN'::DOUBLE) AS min, coalesce(max(b.max), 'NaN'::DOUBLE) AS max,
  sum(b.n)::DOUBLE AS count, arg_max(b.last_timestamp, b.block)::DOUBLE AS timestamp
FROM ${table} b JOIN ${shifts} ON s.series_id = b.series_id AND b.block BETWEEN s.first AND s.last
WHERE b.series_id IN (${ids})
GROUP BY b.series_id, b.block >> s.shift
ORDER BY series_id, step`
  return { sql, params: [] }
}

type Columns = Record<string, ArrayLike<unknown>>

/** A run's buckets as columns (bucket i is index i of each), in order of step: what a server sends and a chart draws. */
export interface DownsampledColumns {
  readonly runId: string
  readonly key: string
  /** Points in the full (effective) history. */
  readonly points: number
  readonly step: Float64Array
  readonly firstStep: Float64Array
  readonly first: Float64Array
  readonly last: Float64Array
  readonly min: Float64Array
  readonly max: Float64Array
  readonly count: Float64Array
  readonly timestamp: Float64Array
}

/** Each field of `DownsampledColumns` and the column of the read model's bucket rows it comes from. */
const BUCKET_FIELDS = [["step", "step"], ["firstStep", "first_step"], ["first", "first"], ["last", "last"], ["min", "min"], ["max", "max"], ["count", "count"], ["timestamp", "timestamp"]] as const
/** A field of `DownsampledColumns`: the bucket's step, first step, first, last, min, max, count or timestamp. */
export type BucketField = (typeof BUCKET_FIELDS)[number][0]

/**
 * The runs' histories from the series dictionary, each series' point count, and the buckets
 * (from `bucketPoints`, `bucketRange`, `rangeBuckets` or `blockBucketsSql`), as columns: no object
 * per bucket (a zoom of 100 runs is 30k to 125k buckets). A series' buckets are disjoint step
 * ranges; when they come out of step order (read in several parts: its buckets straddling a
 * bound from the points, the others from the summaries; or summaries in the table's order) they
 * are sorted by step, else left as they are.
 */
export const assembleHistoryColumns = (runIds: ReadonlyArray<string>, key: string, series: Columns, counts: ReadonlyMap<number, number>, parts: ReadonlyArray<Columns>): DownsampledColumns[] => {
  const runOf = new Map<number, string>()
  for (let i = 0; i < series.series_id.length; i++) runOf.set(series.series_id[i] as number, series.run_id[i] as string)
  // A series' buckets come together in a part: its run is looked up once per stretch of rows.
  const stretches: Array<{ readonly part: Record<string, ArrayLike<number>>; readonly from: number; readonly to: number; readonly runId: string; readonly seriesId: number }> = []
  for (const c of parts) {
    const part = c as Record<string, ArrayLike<number>>
    const ids = part.series_id
    for (let from = 0; from < ids.length;) {
      let to = from + 1
      while (to < ids.length && ids[to] === ids[from]) to++
      stretches.push({ part, from, to, runId: runOf.get(ids[from])!, seriesId: ids[from] })
      from = to
    }
  }
  const runs = new Map<string, { points: number; length: number; filled: number; stretches: number; columns: Record<BucketField, Float64Array> | undefined }>(runIds.map((id) => [id, { points: 0, length: 0, filled: 0, stretches: 0, columns: undefined }]))
  for (const s of stretches) {
    const run = runs.get(s.runId)!
    run.length += s.to - s.from
    run.stretches++
    run.points = counts.get(s.seriesId) ?? 0
  }
  for (const s of stretches) {
    const run = runs.get(s.runId)!
    // A run whose buckets are one stretch of a part (the usual case): its columns are views of
    // that part's, not copies (a zoom of 100 runs copied 60k buckets more, and the GC paid for it).
    if (run.stretches === 1 && BUCKET_FIELDS.every(([, column]) => s.part[column] instanceof Float64Array)) {
      run.columns = Object.fromEntries(BUCKET_FIELDS.map(([field, column]) => [field, (s.part[column] as Float64Array).subarray(s.from, s.to)])) as Record<BucketField, Float64Array>
      continue
    }
    run.columns ??= Object.fromEntries(BUCKET_FIELDS.map(([field]) => [field, new Float64Array(run.length)])) as Record<BucketField, Float64Array>
    for (const [field, column] of BUCKET_FIELDS) {
      const from = s.part[column]
      const to = run.columns![field]
      for (let i = s.from, at = run.filled; i < s.to; i++, at++) to[at] = from[i]
    }
    run.filled += s.to - s.from
  }
  for (const run of runs.values()) {
    run.columns ??= Object.fromEntries(BUCKET_FIELDS.map(([field]) => [field, new Float64Array(0)])) as Record<BucketField, Float64Array>
    sortByFirstStep(run.columns)
  }
  return runIds.map((runId) => {
    const { points, columns } = runs.get(runId)!
    return { runId, key, points, ...columns! }
  })
}

/**
 * Histories downsampled from each run's points given whole, bucketed as the read model buckets
 * its own (`planFromPoints`, then `bucketPoints`): time travel's charts. The read model holds the
 * present only, so a past moment's histories are read from the log and bucketed here, and look as
 * a chart of that moment looked then. `histories`: each run's effective points in step order,
 * those at one step in log order (as `metricHistoryOf` gives them); a run absent has no buckets.
 */
export const historyColumnsOfPoints = (runIds: ReadonlyArray<string>, key: string, histories: ReadonlyMap<string, ReadonlyArray<HistoryPoint>>, maxPoints: number, bounds: StepBounds): DownsampledColumns[] => {
  const lo = bounds.lo === null ? -Infinity : Number(bounds.lo)
  const hi = bounds.hi === null ? Infinity : Number(bounds.hi)
  const runs = [...histories.keys()]
  let n = 0
  for (const points of histories.values()) for (let i = 0; i < points.length; i++) if (points[i].step >= lo && points[i].step <= hi) n++
  const c: Record<string, Float64Array> = {}
  for (const name of ["series_id", "step", "value", "timestamp", "position", "idx", "level"]) c[name] = new Float64Array(n)
  const { series_id, step, value, timestamp, position } = c
  let row = 0
  for (let k = 0; k < runs.length; k++) {
    const points = histories.get(runs[k])!
    for (let i = 0; i < points.length; i++) {
      const p = points[i]
      if (!(p.step >= lo && p.step <= hi)) continue
      series_id[row] = k
      step[row] = p.step
      value[row] = p.value
      timestamp[row] = p.timestamp
      // A point's index in its history stands for its log order: within one step, that is the order.
      position[row] = i
      row++
    }
  }
  const counts = planFromPoints(c, maxPoints)
  return assembleHistoryColumns(runIds, key, { series_id: runs.map((_, k) => k), run_id: runs }, counts, n === 0 ? [] : [bucketPoints(c)])
}

/** Put a run's buckets in order of their first step, when they are not (all columns alike). */
const sortByFirstStep = (columns: Record<BucketField, Float64Array>): void => {
  const firstStep = columns.firstStep
  let sorted = true
  for (let i = 1; i < firstStep.length && sorted; i++) sorted = firstStep[i - 1] < firstStep[i]
  if (sorted) return
  const order = Array.from(firstStep.keys()).sort((a, b) => firstStep[a] - firstStep[b])
  for (const [field] of BUCKET_FIELDS) {
    const before = columns[field].slice()
    for (let i = 0; i < order.length; i++) columns[field][i] = before[order[i]]
  }
}

/** A run's columns as one object per bucket (`metricHistories`' answer). */
export const seriesOfColumns = (c: DownsampledColumns): DownsampledSeries => {
  const buckets = new Array<MetricBucket>(c.step.length)
  for (let i = 0; i < buckets.length; i++) {
    buckets[i] = { step: c.step[i], firstStep: c.firstStep[i], first: c.first[i], last: c.last[i], min: c.min[i], max: c.max[i], count: c.count[i], timestamp: c.timestamp[i] }
  }
  return { runId: c.runId, key: c.key, points: c.points, buckets }
}
