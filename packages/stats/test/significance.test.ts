/**
 * Significance tests between groups of runs: the Student t distribution against reference values
 * (SciPy 1.17 / mpmath) and closed forms, Welch's t-test against SciPy's
 * `ttest_ind(equal_var=False)`, and statistical behaviour of the test and the bootstrap interval.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { mulberry32 } from "../src/prng.ts"
import { bootstrapDifferenceCI, significanceVerdict, welchTTest } from "../src/significance.ts"
import { logGamma, studentTCdf, studentTTwoSidedPValue } from "../src/student-t.ts"

const relativeError = (actual: number, expected: number): number =>
  Math.abs(actual - expected) / Math.abs(expected)

/**
 * Independent oracle for integer df: Abramowitz & Stegun 26.7.3 (odd ν) and 26.7.4 (even ν),
 * finite trigonometric series for A(t|ν) = P(|T| < t); the two-sided p-value is 1 - A.
 */
const twoSidedByTrigSeries = (t: number, nu: number): number => {
  const theta = Math.atan(Math.abs(t) / Math.sqrt(nu))
  const s = Math.sin(theta)
  const c = Math.cos(theta)
  const c2 = c * c
  let a: number
  if (nu % 2 === 1) {
    let sum = 0
    if (nu > 1) {
      let term = c
      sum = term
      for (let j = 1; 2 * j + 1 <= nu - 2; j++) {
        term *= (c2 * (2 * j)) / (2 * j + 1)
        sum += term
      }
    }
    a = (2 / Math.PI) * (theta + s * sum)
  } else {
    let term = 1
    let sum = 1
    for (let j = 1; 2 * j <= nu - 2; j++) {
      term *= (c2 * (2 * j - 1)) / (2 * j)
      sum += term
    }
    a = s * sum
  }
  return 1 - a
}

/** Standard normal draws (Box–Muller) from the seeded PRNG, so statistical tests are reproducible. */
const normalSample = (random: () => number, n: number, mean = 0, sd = 1): number[] => {
  const out: number[] = []
  while (out.length < n) {
    const u = 1 - random()
    const v = random()
    const r = Math.sqrt(-2 * Math.log(u))
    out.push(mean + sd * r * Math.cos(2 * Math.PI * v))
    if (out.length < n) out.push(mean + sd * r * Math.sin(2 * Math.PI * v))
  }
  return out
}

const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 30 })

describe("Student t distribution", () => {
  it("log-gamma matches factorials and Γ(1/2) = √π", () => {
    let factorial = 1
    for (let n = 1; n <= 20; n++) {
      factorial *= n
      expect(Math.abs(logGamma(n + 1) - Math.log(factorial))).toBeLessThan(1e-13 * Math.max(1, Math.log(factorial)))
    }
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 14)
    expect(logGamma(1)).toBeCloseTo(0, 14)
  })

  it("matches reference two-sided p-values (SciPy 2*t.sf, cross-checked with mpmath)", () => {
    // The last two rows are mpmath values quoted to 5 digits.
    const reference: Array<[t: number, df: number, p: number, tolerance?: number]> = [
      [2.0, 10, 0.07338803477074037],
      [1.96, 1e6, 0.04999606758526985],
      [2.228138851986, 10, 0.050000000000023255],
      [0.5, 3.7, 0.6453356333199318],
      [3.1, 7.25, 0.01657246968060819],
      [10, 2.5, 0.0044414957673074235],
      [0.01, 50, 0.992061081367143],
      [40, 30, 1.3726045194406417e-27],
      [1.5, 0.5, 0.5079017906481084],
      [6, 1e4, 2.0416184729226213e-9],
      [1.0, 200.5, 0.3185158383611313],
      [8, 1e10, 1.2442e-15, 1e-4],
      [30, 9999, 2.048e-189, 1e-4]
    ]
    for (const [t, df, p, tolerance = 1e-9] of reference) {
      expect(relativeError(studentTTwoSidedPValue(t, df), p), `t=${t} df=${df}`).toBeLessThan(tolerance)
      expect(relativeError(studentTTwoSidedPValue(-t, df), p)).toBeLessThan(tolerance)
    }
    expect(studentTTwoSidedPValue(1.96, Infinity)).toBeCloseTo(0.04999579029644087, 14)
  })

  it("df = 1 is the Cauchy distribution: p = 1 - 2 atan(|t|) / π", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (t) => {
        const expected = 1 - (2 * Math.atan(Math.abs(t))) / Math.PI
        expect(Math.abs(studentTTwoSidedPValue(t, 1) - expected)).toBeLessThan(1e-13)
      })
    )
  })

  it("df = 2 has p = 1 - |t| / √(t² + 2)", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (t) => {
        const expected = 1 - Math.abs(t) / Math.sqrt(t * t + 2)
        expect(Math.abs(studentTTwoSidedPValue(t, 2) - expected)).toBeLessThan(1e-13)
      })
    )
  })

  it("agrees with the finite trigonometric series for integer df", () => {
    expect(twoSidedByTrigSeries(2, 10)).toBeCloseTo(0.07338803477074037, 13)
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), fc.integer({ min: 1, max: 300 }), (t, df) => {
        expect(Math.abs(studentTTwoSidedPValue(t, df) - twoSidedByTrigSeries(t, df))).toBeLessThan(1e-11)
      })
    )
  })

  it("is a probability, decreasing in |t|, and the CDF is consistent with it", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: 0.05, max: 1e8, noNaN: true }),
        (t1, t2, df) => {
          const p1 = studentTTwoSidedPValue(t1, df)
          const p2 = studentTTwoSidedPValue(t2, df)
          expect(p1).toBeGreaterThanOrEqual(0)
          expect(p1).toBeLessThanOrEqual(1)
          if (t1 < t2) expect(p1).toBeGreaterThanOrEqual(p2 - 1e-15)
          expect(studentTCdf(t1, df) + studentTCdf(-t1, df)).toBeCloseTo(1, 12)
        }
      )
    )
  })

  it("handles the edges: t = 0, t = ±Infinity, invalid df", () => {
    expect(studentTTwoSidedPValue(0, 3)).toBe(1)
    expect(studentTTwoSidedPValue(Infinity, 3)).toBe(0)
    expect(studentTTwoSidedPValue(-Infinity, 3)).toBe(0)
    expect(studentTTwoSidedPValue(1, 0)).toBeNaN()
    expect(studentTTwoSidedPValue(Number.NaN, 3)).toBeNaN()
  })
})

describe("welchTTest", () => {
  it("matches SciPy's ttest_ind(equal_var=False) (with the sign of meanB - meanA)", () => {
    const r = welchTTest([1.2, 3.4, 2.2, 5.1, 4.4], [6.1, 7.3, 5.5, 8.0, 6.6, 7.7])
    expect(r.t).toBeCloseTo(4.4393503040966875, 12)
    expect(r.df).toBeCloseTo(6.378771135135392, 12)
    expect(relativeError(r.pValue, 0.003775364467057356)).toBeLessThan(1e-10)
    expect(r.difference).toBeCloseTo(r.meanB - r.meanA, 15)
    expect([r.nA, r.nB, r.excludedA, r.excludedB]).toEqual([5, 6, 0, 0])

    const s = welchTTest([0.1, 0.2, 0.15], [10, 11, 9.5, 12, 30])
    expect(s.t).toBeCloseTo(3.6805964459453877, 12)
    expect(s.df).toBeCloseTo(4.000438584465661, 10)
    expect(relativeError(s.pValue, 0.02118878955210459)).toBeLessThan(1e-10)
  })

  it("swapping the groups negates t and the difference and keeps p", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ab = welchTTest(a, b)
        const ba = welchTTest(b, a)
        // === rather than toBe: equal means give 0 one way and -0 the other.
        expect(ba.t === -ab.t).toBe(true)
        expect(ba.difference === -ab.difference).toBe(true)
        expect(ba.pValue).toBe(ab.pValue)
        expect(ba.df).toBe(ab.df)
      })
    )
  })

  it("always gives p in [0, 1] and a positive df", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = welchTTest(a, b)
        expect(r.pValue).toBeGreaterThanOrEqual(0)
        expect(r.pValue).toBeLessThanOrEqual(1)
        expect(r.df).toBeGreaterThan(0)
        expect(Number.isNaN(r.t)).toBe(false)
      })
    )
  })

  it("gives large p on average for identical distributions and ~5% false positives", () => {
    const random = mulberry32(42)
    const ps: number[] = []
    for (let i = 0; i < 400; i++) ps.push(welchTTest(normalSample(random, 8), normalSample(random, 12, 0, 2)).pValue)
    const meanP = ps.reduce((s, p) => s + p, 0) / ps.length
    const falsePositives = ps.filter((p) => p < 0.05).length / ps.length
    // Under H0 p is uniform: mean 0.5, P(p < 0.05) = 0.05 (Welch is very close to exact here).
    expect(meanP).toBeGreaterThan(0.42)
    expect(meanP).toBeLessThan(0.58)
    expect(falsePositives).toBeGreaterThan(0.02)
    expect(falsePositives).toBeLessThan(0.09)
  })

  it("gives tiny p for clearly shifted groups", () => {
    const random = mulberry32(7)
    for (let i = 0; i < 20; i++) {
      const r = welchTTest(normalSample(random, 20), normalSample(random, 20, 3))
      expect(r.pValue).toBeLessThan(1e-6)
      expect(r.t).toBeGreaterThan(0)
    }
  })

  it("excludes non-finite values and counts them", () => {
    const r = welchTTest([1, Number.NaN, 2, 3, Infinity], [4, 5, -Infinity, 6])
    expect(r.nA).toBe(3)
    expect(r.nB).toBe(3)
    expect(r.excludedA).toBe(2)
    expect(r.excludedB).toBe(1)
    expect(r.meanA).toBe(2)
    expect(r.meanB).toBe(5)
    expect(r.pValue).toEqual(welchTTest([1, 2, 3], [4, 5, 6]).pValue)
  })

  it("refuses groups with fewer than 2 finite values, saying what to do", () => {
    expect(() => welchTTest([1], [1, 2])).toThrow(RangeError)
    expect(() => welchTTest([1], [1, 2])).toThrow(/group a has 1 finite value; at least 2 .* add more runs/)
    expect(() => welchTTest([1, 2], [Number.NaN, 3])).toThrow(/group b has 1 finite value \(1 non-finite excluded\)/)
    expect(() => welchTTest([], [])).toThrow(/0 finite values/)
  })

  it("defines the zero-variance cases", () => {
    const same = welchTTest([0.1, 0.1, 0.1], [0.1, 0.1])
    expect(same).toMatchObject({ t: 0, pValue: 1, difference: 0, df: 3, varianceA: 0, varianceB: 0 })
    const up = welchTTest([1, 1], [2, 2, 2])
    expect(up).toMatchObject({ t: Infinity, pValue: 0, difference: 1, df: 3 })
    const down = welchTTest([2, 2], [1, 1])
    expect(down).toMatchObject({ t: -Infinity, pValue: 0, difference: -1 })
    // Only one constant group: an ordinary test with df = n - 1 of the other group.
    const one = welchTTest([5, 5, 5], [1, 2, 3, 4])
    expect(one.df).toBeCloseTo(3, 12)
    expect(Number.isFinite(one.t)).toBe(true)
  })

  it("stays finite for metrics at extreme magnitudes", () => {
    const r = welchTTest([1e300, 1.5e300, 1.2e300], [1.7e308, 1.6e308, 1.75e308])
    expect(Number.isFinite(r.meanB)).toBe(true)
    expect(Number.isFinite(r.df)).toBe(true)
    expect(r.pValue).toBeGreaterThanOrEqual(0)
  })
})

describe("bootstrapDifferenceCI", () => {
  it("contains the observed difference and has lower <= upper", () => {
    const group = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }), {
      minLength: 5,
      maxLength: 25
    })
    fc.assert(
      fc.property(group, group, fc.integer(), (a, b, seed) => {
        const r = bootstrapDifferenceCI(a, b, { resamples: 400, seed })
        expect(r.lower).toBeLessThanOrEqual(r.upper)
        expect(r.lower).toBeLessThanOrEqual(r.difference + 1e-9 * Math.abs(r.difference))
        expect(r.upper).toBeGreaterThanOrEqual(r.difference - 1e-9 * Math.abs(r.difference))
      }),
      { numRuns: 60 }
    )
  })

  it("is deterministic for a seed and varies with it", () => {
    const random = mulberry32(1)
    const a = normalSample(random, 15)
    const b = normalSample(random, 15, 0.5)
    const r1 = bootstrapDifferenceCI(a, b, { seed: 123, resamples: 2000 })
    const r2 = bootstrapDifferenceCI(a, b, { seed: 123, resamples: 2000 })
    const r3 = bootstrapDifferenceCI(a, b, { seed: 124, resamples: 2000 })
    expect(r2).toEqual(r1)
    expect(r3.lower).not.toBe(r1.lower)
    expect(bootstrapDifferenceCI(a, b)).toEqual(bootstrapDifferenceCI(a, b))
  })

  it("narrows with more data (width ~ 1/√n)", () => {
    const random = mulberry32(99)
    const small = bootstrapDifferenceCI(normalSample(random, 20), normalSample(random, 20, 1), { seed: 1, resamples: 1000 })
    const large = bootstrapDifferenceCI(normalSample(random, 1000), normalSample(random, 1000, 1), { seed: 1, resamples: 1000 })
    const ratio = (small.upper - small.lower) / (large.upper - large.lower)
    // √(1000 / 20) ≈ 7.1
    expect(ratio).toBeGreaterThan(4)
    expect(ratio).toBeLessThan(12)
  })

  it("agrees with the normal-theory interval for large normal samples", () => {
    const random = mulberry32(5)
    const a = normalSample(random, 400, 0, 1)
    const b = normalSample(random, 400, 0.3, 2)
    const r = bootstrapDifferenceCI(a, b, { seed: 9, resamples: 4000, confidence: 0.9 })
    const t = welchTTest(a, b)
    const halfWidth = 1.6448536269514722 * Math.sqrt(t.varianceA / t.nA + t.varianceB / t.nB)
    expect(r.upper - r.lower).toBeCloseTo(2 * halfWidth, 1)
    expect((r.upper + r.lower) / 2).toBeCloseTo(t.difference, 1)
    expect(r.confidence).toBe(0.9)
    expect(r.resamples).toBe(4000)
  })

  it("excludes non-finite values and validates its options", () => {
    const r = bootstrapDifferenceCI([1, 2, Number.NaN, 3], [2, 3, 4, Infinity], { resamples: 100 })
    expect([r.nA, r.nB, r.excludedA, r.excludedB]).toEqual([3, 3, 1, 1])
    expect(r.difference).toBe(1)
    expect(() => bootstrapDifferenceCI([1, 2], [3, 4], { confidence: 1 })).toThrow(/strictly between 0 and 1/)
    expect(() => bootstrapDifferenceCI([1, 2], [3, 4], { resamples: 0 })).toThrow(/positive integer/)
    expect(() => bootstrapDifferenceCI([1, 2], [3, 4], { seed: Number.NaN })).toThrow(RangeError)
    expect(() => bootstrapDifferenceCI([1], [3, 4])).toThrow(/group a has 1 finite value/)
  })
})

describe("significanceVerdict", () => {
  it("reports each method's own verdict, and that they disagree when they do (tiny groups: narrow bootstrap, wide t)", () => {
    // With 2 runs a group, every resampled mean of A is in {0, 0.5, 1} and of B in {2, 2.5, 3}:
    // the bootstrap interval is [1, 3] and excludes 0, while Welch's p (t = 2.83, df = 2) is 0.106.
    const welch = welchTTest([0, 1], [2, 3])
    const bootstrap = bootstrapDifferenceCI([0, 1], [2, 3])
    expect(welch.pValue).toBeCloseTo(0.105573, 6)
    expect([bootstrap.lower, bootstrap.upper]).toEqual([1, 3])
    expect(significanceVerdict(welch, bootstrap)).toEqual({ alpha: expect.closeTo(0.05, 15), welchSignificant: false, intervalExcludesZero: true, agree: false })
  })

  it("agrees with its definitions for any groups: p < 1 - confidence, the interval wholly on one side of 0", () => {
    const group = fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 12 })
    fc.assert(
      fc.property(group, group, fc.constantFrom(0.8, 0.9, 0.95, 0.99), (a, b, confidence) => {
        const welch = welchTTest(a, b)
        const bootstrap = bootstrapDifferenceCI(a, b, { confidence, resamples: 200 })
        const v = significanceVerdict(welch, bootstrap)
        expect(v.alpha).toBeCloseTo(1 - confidence, 15)
        expect(v.welchSignificant).toBe(welch.pValue < 1 - confidence)
        expect(v.intervalExcludesZero).toBe(bootstrap.lower > 0 || bootstrap.upper < 0)
        expect(v.agree).toBe(v.welchSignificant === v.intervalExcludesZero)
      }),
      { numRuns: 200 }
    )
  })
})
