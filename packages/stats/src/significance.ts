/**
 * Comparing two groups of runs on one metric (e.g. final accuracy of 5 seeds of model A vs 5 of
 * model B): Welch's t-test, which does not assume equal variances (different configurations
 * rarely have them), and a percentile bootstrap interval for the difference in means, which does
 * not assume normality. Both report on meanB - meanA, so "B is better" reads as a positive
 * difference for a higher-is-better metric.
 *
 * Non-finite values (NaN from a diverged run, ±Infinity from an overflowed loss) are excluded,
 * not propagated: one broken run should not turn the whole comparison into NaN. How many were
 * dropped is reported (`excludedA`, `excludedB`) so the UI can say so.
 */
import { mulberry32 } from "./prng.ts"
import { studentTTwoSidedPValue } from "./student-t.ts"

export interface WelchTTestResult {
  readonly meanA: number
  readonly meanB: number
  /** meanB - meanA. */
  readonly difference: number
  /** Sample variances (n - 1 denominator); may be Infinity for metrics beyond ~1e154 (t, df, p stay finite). */
  readonly varianceA: number
  readonly varianceB: number
  /** difference / standard error; has the sign of `difference`. */
  readonly t: number
  /** Welch–Satterthwaite degrees of freedom (see welchTTest for the zero-variance case). */
  readonly df: number
  /** Two-sided p-value for H0: the means are equal. */
  readonly pValue: number
  /** Finite values used. */
  readonly nA: number
  readonly nB: number
  /** Non-finite values (NaN, ±Infinity) dropped before testing. */
  readonly excludedA: number
  readonly excludedB: number
}

interface GroupSummary {
  readonly values: Float64Array
  readonly excluded: number
  readonly mean: number
  /**
   * Half the standard error of the mean, sd / (2√n): the one measure of spread that stays finite
   * for every finite input (values of ±1.7e308 have an sd, and even a variance, beyond double).
   */
  readonly halfSe: number
}

const summarize = (values: readonly number[], name: "a" | "b", what: string): GroupSummary => {
  const finite = new Float64Array(values.length)
  let n = 0
  for (const v of values) if (Number.isFinite(v)) finite[n++] = v
  const excluded = values.length - n
  if (n < 2) {
    throw new RangeError(
      `${what}: group ${name} has ${n} finite value${n === 1 ? "" : "s"}` +
        (excluded > 0 ? ` (${excluded} non-finite excluded)` : "") +
        `; at least 2 are needed to estimate its variance — add more runs to the group`
    )
  }
  const used = finite.subarray(0, n)
  let sum = 0
  let allEqual = true
  for (let i = 0; i < n; i++) {
    sum += used[i]
    if (used[i] !== used[0]) allEqual = false
  }
  // A constant group has exactly zero spread; computing it would leave ~1e-17 of rounding
  // noise (0.1 * 3 / 3 !== 0.1) and turn "both constant" into a spurious huge t.
  if (allEqual) return { values: used, excluded, mean: used[0], halfSe: 0 }
  // Only metrics near ±1.8e308 overflow the plain sum; dividing first costs precision nowhere else.
  let mean = sum / n
  if (!Number.isFinite(mean)) {
    mean = 0
    for (let i = 0; i < n; i++) mean += used[i] / n
  }
  // Two passes (mean, then deviations) rather than a sum of squares, which cancels
  // catastrophically for metrics like 0.9312 ± 0.0004. Deviations are halved and scaled by the
  // largest one so that diverged runs (losses of 1e200) do not overflow when squared.
  let largest = 0
  for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs(used[i] / 2 - mean / 2))
  // Subnormal values (below ~1e-308) can differ by less than halving preserves: no spread that
  // double precision can express, so treat the group as constant rather than divide 0 by 0.
  if (largest === 0) return { values: used, excluded, mean, halfSe: 0 }
  let squares = 0
  for (let i = 0; i < n; i++) {
    const d = (used[i] / 2 - mean / 2) / largest
    squares += d * d
  }
  return { values: used, excluded, mean, halfSe: largest * Math.sqrt(squares / (n - 1) / n) }
}

/**
 * Welch's unequal-variances t-test of meanB - meanA.
 *
 * Needs at least 2 finite values per group (RangeError otherwise). When both groups have zero
 * variance the test statistic is 0/0 or x/0, so the result is defined rather than computed:
 * equal means give t = 0 and pValue = 1; different means give t = ±Infinity (sign of the
 * difference) and pValue = 0 — with no spread at all, any difference is "certain". Welch's df is
 * 0/0 there too; df = nA + nB - 2 (the pooled-variance df) is reported instead.
 */
export const welchTTest = (a: readonly number[], b: readonly number[]): WelchTTestResult => {
  const ga = summarize(a, "a", "welchTTest")
  const gb = summarize(b, "b", "welchTTest")
  const nA = ga.values.length
  const nB = gb.values.length
  const difference = gb.mean - ga.mean
  const base = {
    meanA: ga.mean,
    meanB: gb.mean,
    difference,
    varianceA: (2 * ga.halfSe) ** 2 * nA,
    varianceB: (2 * gb.halfSe) ** 2 * nB,
    nA,
    nB,
    excludedA: ga.excluded,
    excludedB: gb.excluded
  }
  // Everything below works on half standard errors scaled by the larger one, so no
  // intermediate overflows for huge-but-finite metrics (diverged losses): t and df come out
  // finite and exact to rounding even when the variances themselves are beyond double range.
  const scale = Math.max(ga.halfSe, gb.halfSe)
  if (scale === 0) {
    const t = difference === 0 ? 0 : difference > 0 ? Infinity : -Infinity
    return { ...base, t, df: nA + nB - 2, pValue: difference === 0 ? 1 : 0 }
  }
  const sa = ga.halfSe / scale
  const sb = gb.halfSe / scale
  const t = ((gb.mean / 2 - ga.mean / 2) / scale) / Math.hypot(sa, sb)
  // Welch–Satterthwaite: df = (qa + qb)² / (qa²/(nA-1) + qb²/(nB-1)) with q = se², here in
  // ratios to the larger q (the scale cancels).
  const ra = sa * sa
  const rb = sb * sb
  const df = ((ra + rb) * (ra + rb)) / ((ra * ra) / (nA - 1) + (rb * rb) / (nB - 1))
  return { ...base, t, df, pValue: studentTTwoSidedPValue(t, df) }
}

export interface BootstrapOptions {
  /** Coverage of the interval, in (0, 1). Default 0.95. */
  readonly confidence?: number
  /** Number of bootstrap resamples, a positive integer. Default 10 000. */
  readonly resamples?: number
  /**
   * PRNG seed (reduced to uint32). Defaults to a fixed value so the same runs always give the
   * same interval; vary it to see how much Monte Carlo noise is in the bounds.
   */
  readonly seed?: number
}

export interface BootstrapResult {
  /** Observed meanB - meanA. */
  readonly difference: number
  /** Percentile bounds of the resampled differences. */
  readonly lower: number
  readonly upper: number
  readonly confidence: number
  readonly resamples: number
  readonly seed: number
  readonly nA: number
  readonly nB: number
  readonly excludedA: number
  readonly excludedB: number
}

const DEFAULT_SEED = 0x5eed

/** Mean of `n` draws with replacement from `values`. */
const resampledMean = (values: Float64Array, random: () => number): number => {
  const n = values.length
  let sum = 0
  // floor(u * n) with a 32-bit u has bias ~n / 2^32: invisible next to bootstrap noise.
  for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]
  return sum / n
}

/** Linear interpolation between order statistics (Hyndman–Fan type 7, numpy's default). */
const quantileSorted = (sorted: Float64Array, p: number): number => {
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo])
}

/**
 * Percentile bootstrap confidence interval for meanB - meanA: each group is resampled with
 * replacement independently (groups of runs are independent samples, not pairs), and the
 * interval is the (1-c)/2 and (1+c)/2 quantiles of the resampled differences. Deterministic for a
 * given seed. Non-finite values are excluded as in welchTTest; each group needs at least 2 finite
 * values (a single run has no spread to resample).
 *
 * Cost is resamples x (nA + nB) random draws — 10 000 x 100 runs is ~1e6, a few milliseconds.
 * (Resampled means are plain sums, so metrics beyond ~1e306 in magnitude can give infinite bounds;
 * welchTTest has no such limit.)
 */
export const bootstrapDifferenceCI = (
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions = {}
): BootstrapResult => {
  const confidence = options.confidence ?? 0.95
  const resamples = options.resamples ?? 10_000
  const seed = options.seed ?? DEFAULT_SEED
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(
      `bootstrapDifferenceCI: confidence must be strictly between 0 and 1 (e.g. 0.95), got ${confidence}`
    )
  }
  if (!Number.isSafeInteger(resamples) || resamples < 1) {
    throw new RangeError(
      `bootstrapDifferenceCI: resamples must be a positive integer (e.g. 10000), got ${resamples}`
    )
  }
  if (!Number.isFinite(seed)) {
    throw new RangeError(`bootstrapDifferenceCI: seed must be a finite number, got ${seed}`)
  }
  const ga = summarize(a, "a", "bootstrapDifferenceCI")
  const gb = summarize(b, "b", "bootstrapDifferenceCI")
  const random = mulberry32(seed)
  const differences = new Float64Array(resamples)
  for (let r = 0; r < resamples; r++) {
    differences[r] = resampledMean(gb.values, random) - resampledMean(ga.values, random)
  }
  differences.sort()
  const alpha = 1 - confidence
  return {
    difference: gb.mean - ga.mean,
    lower: quantileSorted(differences, alpha / 2),
    upper: quantileSorted(differences, 1 - alpha / 2),
    confidence,
    resamples,
    seed,
    nA: ga.values.length,
    nB: gb.values.length,
    excludedA: ga.excluded,
    excludedB: gb.excluded
  }
}

/** Below this many runs per group, neither the t-test nor the bootstrap interval is reliable. */
export const MIN_RUNS_PER_GROUP = 5

/**
 * What each method says at the same level, alpha = 1 - the interval's confidence. They can
 * disagree: Welch's p-value uses the t distribution, which widens for small groups to account for
 * not knowing the true spread; the percentile bootstrap only resamples the values seen, so with
 * few runs its interval is too narrow and excludes 0 more readily. Neither verdict is hidden
 * behind the other.
 */
export interface SignificanceVerdict {
  readonly alpha: number
  /** Welch's p < alpha. */
  readonly welchSignificant: boolean
  /** The bootstrap interval lies wholly above or wholly below 0. */
  readonly intervalExcludesZero: boolean
  readonly agree: boolean
}

export const significanceVerdict = (welch: WelchTTestResult, bootstrap: BootstrapResult): SignificanceVerdict => {
  const alpha = 1 - bootstrap.confidence
  const welchSignificant = welch.pValue < alpha
  const intervalExcludesZero = bootstrap.lower > 0 || bootstrap.upper < 0
  return { alpha, welchSignificant, intervalExcludesZero, agree: welchSignificant === intervalExcludesZero }
}
