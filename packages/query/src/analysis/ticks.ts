/**
 * Axis ticks for charts: "nice" linear ticks (1, 2 or 5 x 10^k apart, the steps people read
 * without effort) and decade ticks for log scales. The domain is widened to the outer ticks so
 * the data never pokes past the first or last gridline.
 */

export interface Ticks {
  /** Axis domain: the outermost tick values (for log scales, 10^lo and 10^hi). */
  readonly lo: number
  readonly hi: number
  /** Tick values, ascending. */
  readonly values: readonly number[]
  /** Labels for `values`, same order. */
  readonly labels: readonly string[]
}

export interface LogTicks extends Ticks {
  /** Decade exponents of the domain, so callers can map log10(v) without recomputing it. */
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
 * Decade ticks (powers of ten) spanning [min, max], both > 0. With more than ~`target` decades
 * only every k-th decade is labelled, still at powers of ten.
 */
export const logTicks = (min: number, max: number, target = 6): LogTicks => {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) {
    throw new RangeError(`logTicks: need 0 < min <= max < Infinity, got [${min}, ${max}]`)
  }
  // 1e-323 is the smallest power of ten a double holds (denormal); 1e308 the largest.
  let lo = Math.max(-323, Math.floor(Math.log10(min)))
  let hi = Math.min(308, Math.ceil(Math.log10(max)))
  // log10 rounds: log10(1.0000000000000002e-290) is exactly -290, whose power is below max.
  if (lo > -323 && Number(`1e${lo}`) > min) lo--
  if (hi < 308 && Number(`1e${hi}`) < max) hi++
  if (lo === hi) {
    // A constant series (or one exactly at a power of ten) sits mid-axis, not on the border.
    lo = Math.max(-323, lo - 1)
    hi = Math.min(308, hi + 1)
  }
  const stride = Math.max(1, Math.ceil((hi - lo) / Math.max(1, Math.round(target))))
  hi = Math.min(308, lo + stride * Math.ceil((hi - lo) / stride))
  const values: number[] = []
  const labels: string[] = []
  for (let k = lo; k <= hi; k += stride) {
    values.push(Number(`1e${k}`))
    labels.push(k >= -4 && k <= 5 ? String(Number(`1e${k}`)) : `1e${k}`)
  }
  return { lo: Number(`1e${lo}`), hi: Number(`1e${hi}`), values, labels, loExponent: lo, hiExponent: hi }
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
