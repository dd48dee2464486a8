/**
 * Axis ticks for charts: "nice" linear ticks (1, 2 or 5 x 10^k apart, the steps people read
 * without effort) and log-scale ticks (decades, or finer marks on narrow ranges). The domain is widened to the outer ticks so
 * the data never pokes past the first or last gridline.
 */

export interface Ticks {
  /** Axis domain: the outermost tick values. */
  readonly lo: number
  readonly hi: number
  /** Tick values, ascending. */
  readonly values: readonly number[]
  /** Labels for `values`, same order. */
  readonly labels: readonly string[]
}

export interface LogTicks extends Ticks {
  /** log10 of the domain's ends (whole numbers on a decade axis), so callers can map log10(v) without recomputing it. */
  readonly loExponent: number
  readonly hiExponent: number
}

/** Largest number of ticks ever produced, whatever the caller asks; guards degenerate input. */
const MAX_TICKS = 50

/**
 * Ticks for the data range [min, max] (finite, min <= max), aiming for about `target` ticks.
 * A zero-width range is widened around the value so a constant metric still gets an axis.
 */
export const niceTicks = (min: number, max: number, target = 5): Ticks => {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`niceTicks: need finite min <= max, got [${min}, ${max}]`)
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1
    min = Math.max(-Number.MAX_VALUE, min - pad)
    max = Math.min(Number.MAX_VALUE, max + pad)
  }
  // Ticks closer together than ~1e-12 of their magnitude would collide after rounding (1 + 2e-16
  // is 1), and subnormal spans have no usable log10; widen such ranges around their centre.
  const minSpan = Math.max(Math.max(Math.abs(min), Math.abs(max)) * 1e-12, 1e-300)
  if (max / 2 - min / 2 < minSpan / 2) {
    const centre = min / 2 + max / 2
    min = centre - minSpan / 2
    max = centre + minSpan / 2
  }
  const count = Math.min(MAX_TICKS - 1, Math.max(1, Math.round(target)))
  // Halving before subtracting keeps spans like [-1e308, 1e308] finite.
  const rough = ((max / 2 - min / 2) * 2) / count
  if (!(rough > 0 && Number.isFinite(rough))) return boundsOnly(min, max)
  const exponent = Math.floor(Math.log10(rough))
  const magnitude = Number(`1e${exponent}`)
  const residual = rough / magnitude
  const multiplier = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10
  const step = multiplier * magnitude
  let first = Math.floor(min / step)
  let last = Math.ceil(max / step)
  if (!Number.isFinite(step) || !Number.isFinite(first * step) || !Number.isFinite(last * step)) {
    return boundsOnly(min, max)
  }
  // The divisions round (and underflow to -0 for subnormal min), so make sure the outer ticks
  // really enclose the data.
  if (first * step > min) first--
  if (last * step < max) last++
  const stepExponent = multiplier === 10 ? exponent + 1 : exponent
  // Significant digits down to a hundredth of the step: enough to keep every tick exact, few
  // enough to strip the 0.30000000000000004-style residue so data-values and labels agree.
  const magnitudeExponent = Math.floor(Math.log10(Math.max(Math.abs(first), Math.abs(last)) * step))
  const precision = Math.min(17, Math.max(1, magnitudeExponent - stepExponent + 3))
  const values: number[] = []
  for (let i = first; i <= last && values.length < MAX_TICKS; i++) {
    // i * step, not repeated addition, so errors do not accumulate.
    values.push(i === 0 ? 0 : Number((i * step).toPrecision(precision)))
  }
  const maxAbs = Math.max(Math.abs(values[0]), Math.abs(values[values.length - 1]))
  return {
    lo: values[0],
    hi: values[values.length - 1],
    values,
    labels: values.map((v) => formatLinearTick(v, stepExponent, maxAbs))
  }
}

/**
 * Ticks for a log axis over [min, max], both > 0, with the axis fitted to the data and at least 3
 * ticks on it. Over many decades: powers of ten (every k-th decade labelled past ~`target`).
 * Within a few decades, powers of ten alone would leave one or two ticks far from the data
 * (0.26-0.58 showed only 0.1 and 1), so finer marks are used, the coarsest that gives 3 ticks:
 * 1-2-5 x 10^k or 1..9 x 10^k, whichever the data fills most, and for a range narrower than one
 * of those steps, linear nice ticks (which a log axis places just as well). The axis runs from the
 * last tick at or below min to the first at or above max.
 */
export const logTicks = (min: number, max: number, target = 6): LogTicks => {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) {
    throw new RangeError(`logTicks: need 0 < min <= max < Infinity, got [${min}, ${max}]`)
  }
  // Of the tick sets with 3 to about `target` ticks, the one whose axis the data fills most
  // (0.26-0.58: 0.2..0.6 in steps of 0.1 rather than 0.2, 0.5, 1); on a tie, the coarser.
  const most = Math.max(3, Math.round(target)) + 2
  const candidates = [decadeTicks(min, max, target), mantissaTicks(min, max, [1, 2, 5]), mantissaTicks(min, max, [1, 2, 3, 4, 5, 6, 7, 8, 9])]
  const fill = (t: LogTicks) => (max === min ? 0 : Math.log(max / min)) / (Math.log(t.hi / t.lo) || 1)
  let best: LogTicks | undefined
  for (const t of candidates) {
    if (t !== undefined && t.values.length >= 3 && t.values.length <= most && (best === undefined || fill(t) > fill(best))) best = t
  }
  if (best !== undefined) return best
  // Narrower than a 1..9 step (e.g. 0.95-0.99): linear ticks, positive here because the span is
  // less than min (the range lies within a factor of 2), so the step and the margin are too.
  const linear = niceTicks(min, max, Math.max(3, Math.round(target)))
  if (linear.lo > 0 && linear.values.length >= 3) return withExponents(linear)
  // Only at the edges of double precision (subnormals, near Number.MAX_VALUE): a decade more.
  return decadeTicks(min, max, target, 1)
}

const withExponents = (t: Ticks): LogTicks => ({ ...t, loExponent: Math.log10(t.lo), hiExponent: Math.log10(t.hi) })

/** A power of ten as people read it: 0.01 .. 100000 in full, else 1e-7. */
const decadeLabel = (k: number): string => (k >= -4 && k <= 5 ? String(Number(`1e${k}`)) : `1e${k}`)

/** Powers of ten spanning [min, max]; `extraBelow` decades are added under the data (above it at 1e-323). */
const decadeTicks = (min: number, max: number, target: number, extraBelow = 0): LogTicks => {
  // 1e-323 is the smallest power of ten a double holds (denormal); 1e308 the largest.
  let lo = Math.max(-323, Math.floor(Math.log10(min)))
  let hi = Math.min(308, Math.ceil(Math.log10(max)))
  // log10 rounds: log10(1.0000000000000002e-290) is exactly -290, whose power is below max.
  if (lo > -323 && Number(`1e${lo}`) > min) lo--
  if (hi < 308 && Number(`1e${hi}`) < max) hi++
  // A constant series (or one exactly at a power of ten) sits mid-axis, not on the border; at
  // the ends of the doubles, the axis grows to the side that has room.
  const widen = (decades: number) => {
    for (let i = 0; i < decades; i++) {
      if (lo > -323) lo--
      else hi = Math.min(308, hi + 1)
    }
  }
  if (lo === hi) {
    widen(1)
    if (hi < 308) hi++
    else widen(1)
  }
  widen(extraBelow)
  const stride = Math.max(1, Math.ceil((hi - lo) / Math.max(2, Math.round(target))))
  hi = Math.min(308, lo + stride * Math.ceil((hi - lo) / stride))
  const values: number[] = []
  const labels: string[] = []
  for (let k = lo; k <= hi; k += stride) {
    values.push(Number(`1e${k}`))
    labels.push(decadeLabel(k))
  }
  // No power of ten lies below 5e-324 or above 1e308: there the data's own bound ends the axis.
  if (values[0] > min) {
    values.unshift(min)
    labels.unshift(formatPlain(min))
  }
  if (values[values.length - 1] < max) {
    values.push(max)
    labels.push(formatPlain(max))
  }
  const first = values[0]
  const last = values[values.length - 1]
  return { lo: first, hi: last, values, labels, loExponent: Math.log10(first), hiExponent: Math.log10(last) }
}

/**
 * m x 10^k marks (m from `mantissas`) from the last one at or below min to the first at or above
 * max, if that makes at least 3 ticks; undefined otherwise. Only asked for ranges within about a
 * decade, so the candidates are few.
 */
const mantissaTicks = (min: number, max: number, mantissas: ReadonlyArray<number>): LogTicks | undefined => {
  const from = Math.max(-324, Math.floor(Math.log10(min)) - 1)
  const to = Math.min(308, Math.ceil(Math.log10(max)) + 1)
  const marks: Array<{ value: number; label: string }> = []
  for (let k = from; k <= to; k++) {
    for (const m of mantissas) {
      // Parsed from decimal text, so 3e-7 is the double nearest 3 x 10^-7, not 3 * 1e-7's rounding.
      const value = Number(`${m}e${k}`)
      // Subnormals round several marks to one double (2e-324 is 0, 3e-324 is 5e-324): keep one.
      if (value > 0 && Number.isFinite(value) && value > (marks.at(-1)?.value ?? 0)) marks.push({ value, label: k >= -4 && k <= 5 ? String(value) : `${m}e${k}` })
    }
  }
  let first = -1
  let last = -1
  for (let i = 0; i < marks.length; i++) {
    if (marks[i].value <= min) first = i
    if (last === -1 && marks[i].value >= max) last = i
  }
  if (first === -1 || last === -1 || last - first + 1 < 3) return undefined
  const chosen = marks.slice(first, last + 1)
  return withExponents({ lo: chosen[0].value, hi: chosen[chosen.length - 1].value, values: chosen.map((c) => c.value), labels: chosen.map((c) => c.label) })
}

/**
 * Linear tick label: fixed decimals matching the step (0.25 → no, steps are 1/2/5 x 10^e, so
 * -e decimals suffice), switching to exponent notation for very large or very small axes where
 * fixed notation would be unreadably long.
 */
const formatLinearTick = (v: number, stepExponent: number, maxAbs: number): string => {
  if (v === 0) return "0"
  if (maxAbs >= 1e6 || stepExponent < -4) {
    const digits = Math.min(15, Math.max(0, Math.floor(Math.log10(maxAbs)) - stepExponent))
    return v.toExponential(digits).replace("e+", "e")
  }
  return v.toFixed(Math.min(20, Math.max(0, -stepExponent)))
}

/** Only for ranges at the edge of double precision: label the data bounds themselves. */
const boundsOnly = (min: number, max: number): Ticks => ({
  lo: min,
  hi: max,
  values: [min, max],
  labels: [formatPlain(min), formatPlain(max)]
})

const formatPlain = (v: number): string => (v === 0 ? "0" : v.toPrecision(4).replace("e+", "e"))
