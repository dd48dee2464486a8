/**
 * Downsampling a metric history on read, for charts: a run logging loss every step has 10^5–10^6
 * points, a chart is ~1000 pixels wide. Each output bucket keeps min, max, first and last so the
 * chart can draw the line through `last` and a min/max band that still shows spikes a plain
 * stride would skip.
 *
 * Buckets split the point *index* range, not the step range: it is exact (every bucket is
 * non-empty, counts are as equal as integers allow), needs no assumptions about step spacing,
 * and logging gaps show up as longer segments rather than empty buckets.
 */

/** Columnar numeric input: typed arrays straight from the store, or plain arrays. */
export type NumericColumn = Float64Array | readonly number[]

/** A metric history, sorted by step (not checked: sorting is the reader's job). */
export interface MetricSeries {
  readonly steps: NumericColumn
  readonly values: NumericColumn
  readonly timestamps: NumericColumn
}

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

/**
 * Reduce `points` to at most `maxPoints` buckets in one O(n) pass.
 *
 * - n <= maxPoints: every point is its own bucket (identity; nothing is lost).
 * - otherwise, with maxPoints >= 2: the first point is a bucket on its own, and the remaining
 *   n - 1 points are split by index into maxPoints - 1 contiguous buckets of near-equal size
 *   (sizes differ by at most one). Since charts draw (step, last), this makes the drawn line
 *   start exactly at the first point and end exactly at the last one.
 * - maxPoints = 1: a single bucket holding everything.
 *
 * Throws RangeError if the three columns differ in length or maxPoints is not a positive integer.
 */
export const downsample = (points: MetricSeries, maxPoints: number): MetricBucket[] => {
  const { steps, values, timestamps } = points
  const n = steps.length
  if (values.length !== n || timestamps.length !== n) {
    throw new RangeError(
      `downsample: steps, values and timestamps must have the same length ` +
        `(got ${n}, ${values.length}, ${timestamps.length}); pass the columns of one metric history`
    )
  }
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1) {
    throw new RangeError(
      `downsample: maxPoints must be a positive integer (e.g. the chart width in pixels), got ${maxPoints}`
    )
  }
  const out: MetricBucket[] = []
  if (n <= maxPoints) {
    for (let i = 0; i < n; i++) {
      const v = values[i]
      out.push({
        step: steps[i],
        firstStep: steps[i],
        first: v,
        last: v,
        min: v,
        max: v,
        count: 1,
        timestamp: timestamps[i]
      })
    }
    return out
  }
  if (maxPoints === 1) {
    out.push(bucket(steps, values, timestamps, 0, n))
    return out
  }
  out.push(bucket(steps, values, timestamps, 0, 1))
  // Bucket k of the rest covers [1 + floor(k*m/b), 1 + floor((k+1)*m/b)); with m > b every
  // bucket is non-empty. k*m stays far below 2^53 for any realistic history.
  const rest = n - 1
  const buckets = maxPoints - 1
  let start = 1
  for (let k = 1; k <= buckets; k++) {
    const end = 1 + Math.floor((k * rest) / buckets)
    out.push(bucket(steps, values, timestamps, start, end))
    start = end
  }
  return out
}

/** Summarize points [start, end), end > start. The hot loop: no allocation, one compare each. */
const bucket = (
  steps: NumericColumn,
  values: NumericColumn,
  timestamps: NumericColumn,
  start: number,
  end: number
): MetricBucket => {
  // NaN fails every comparison, so starting at ±Infinity and comparing skips NaN for free. Any
  // non-NaN value v ends with min <= v <= max, so min > max afterwards means there was none.
  let min = Infinity
  let max = -Infinity
  for (let i = start; i < end; i++) {
    const v = values[i]
    if (v < min) min = v
    if (v > max) max = v
  }
  if (min > max) {
    min = Number.NaN
    max = Number.NaN
  }
  return {
    step: steps[end - 1],
    firstStep: steps[start],
    first: values[start],
    last: values[end - 1],
    min,
    max,
    count: end - start,
    timestamp: timestamps[end - 1]
  }
}
