/**
 * Downsampling metric histories for charts: every bucket is checked against a direct
 * recomputation from the points it covers, plus the structural guarantees charts rely on
 * (bucket count, exact first/last points, identity for short histories).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { downsample, type MetricBucket, type MetricSeries } from "../src/analysis/downsample.ts"

const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity) }
)

/** A history with strictly increasing steps (gaps allowed) and timestamps, as the store returns. */
const history = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 5 }), value), { minLength: 0, maxLength: 300 })
  .map((rows) => {
    let step = -1
    const steps: number[] = []
    const values: number[] = []
    const timestamps: number[] = []
    for (const [gap, v] of rows) {
      step += gap
      steps.push(step)
      values.push(v)
      timestamps.push(1_700_000_000_000 + step * 1000)
    }
    return { steps, values, timestamps }
  })

const naiveMin = (vs: number[]): number => {
  const finite = vs.filter((v) => !Number.isNaN(v))
  return finite.length === 0 ? Number.NaN : Math.min(...finite)
}
const naiveMax = (vs: number[]): number => {
  const finite = vs.filter((v) => !Number.isNaN(v))
  return finite.length === 0 ? Number.NaN : Math.max(...finite)
}

/** Recover each bucket's index range from the counts and recompute it from scratch. */
const checkAgainstPoints = (series: { steps: number[]; values: number[]; timestamps: number[] }, out: MetricBucket[]) => {
  let start = 0
  for (const b of out) {
    expect(b.count).toBeGreaterThanOrEqual(1)
    const end = start + b.count
    const vs = series.values.slice(start, end)
    expect(b.firstStep).toBe(series.steps[start])
    expect(b.step).toBe(series.steps[end - 1])
    expect(b.timestamp).toBe(series.timestamps[end - 1])
    expect(Object.is(b.first, series.values[start])).toBe(true)
    expect(Object.is(b.last, series.values[end - 1])).toBe(true)
    expect(Object.is(b.min, naiveMin(vs))).toBe(true)
    expect(Object.is(b.max, naiveMax(vs))).toBe(true)
    if (!Number.isNaN(b.last)) {
      expect(b.min).toBeLessThanOrEqual(b.last)
      expect(b.last).toBeLessThanOrEqual(b.max)
    }
    start = end
  }
  expect(start).toBe(series.steps.length)
}

describe("downsample", () => {
  it("summarizes every bucket exactly, within maxPoints, covering all points in order", () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 1, max: 60 }), (series, maxPoints) => {
        const out = downsample(series, maxPoints)
        const n = series.steps.length
        expect(out.length).toBeLessThanOrEqual(maxPoints)
        expect(out.length).toBe(Math.min(n, maxPoints))
        expect(out.reduce((s, b) => s + b.count, 0)).toBe(n)
        checkAgainstPoints(series, out)
      }),
      { numRuns: 300 }
    )
  })

  it("keeps the first and last points exactly", () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 1, max: 60 }), (series, maxPoints) => {
        const n = series.steps.length
        fc.pre(n > 0)
        const out = downsample(series, maxPoints)
        const first = out[0]
        const last = out[out.length - 1]
        expect(first.firstStep).toBe(series.steps[0])
        expect(Object.is(first.first, series.values[0])).toBe(true)
        expect(last.step).toBe(series.steps[n - 1])
        expect(Object.is(last.last, series.values[n - 1])).toBe(true)
        expect(last.timestamp).toBe(series.timestamps[n - 1])
        // With room for two buckets the first point is a bucket of its own, so the drawn line
        // (step, last) starts exactly at it.
        if (maxPoints >= 2) {
          expect(first.count).toBe(1)
          expect(first.step).toBe(series.steps[0])
          expect(Object.is(first.last, series.values[0])).toBe(true)
        }
      }),
      { numRuns: 300 }
    )
  })

  it("splits the remaining points into near-equal buckets", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5000 }), fc.integer({ min: 2, max: 400 }), (n, maxPoints) => {
        fc.pre(n > maxPoints)
        const steps = Array.from({ length: n }, (_, i) => i)
        const out = downsample({ steps, values: steps, timestamps: steps }, maxPoints)
        expect(out.length).toBe(maxPoints)
        const sizes = out.slice(1).map((b) => b.count)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      })
    )
  })

  it("is the identity when n <= maxPoints", () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 0, max: 100 }), (series, extra) => {
        const n = series.steps.length
        const out = downsample(series, Math.max(1, n + extra))
        expect(out.length).toBe(n)
        out.forEach((b, i) => {
          expect(b.count).toBe(1)
          expect(b.step).toBe(series.steps[i])
          expect(b.firstStep).toBe(series.steps[i])
          expect(b.timestamp).toBe(series.timestamps[i])
          for (const field of [b.first, b.last, b.min, b.max]) expect(Object.is(field, series.values[i])).toBe(true)
        })
      }),
      { numRuns: 200 }
    )
  })

  it("gives the same answer for Float64Array and plain-array columns", () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 1, max: 40 }), (series, maxPoints) => {
        const typed: MetricSeries = {
          steps: Float64Array.from(series.steps),
          values: Float64Array.from(series.values),
          timestamps: Float64Array.from(series.timestamps)
        }
        expect(downsample(typed, maxPoints)).toEqual(downsample(series, maxPoints))
      }),
      { numRuns: 100 }
    )
  })

  it("ignores NaN in min/max, but an all-NaN bucket is NaN", () => {
    const nan = Number.NaN
    const series = {
      steps: [0, 1, 2, 3, 4, 5, 6],
      values: [1, nan, nan, 5, nan, 2, 3],
      timestamps: [0, 1, 2, 3, 4, 5, 6]
    }
    // maxPoints 4: [0] then the other 6 points in 3 buckets of 2.
    const out = downsample(series, 4)
    expect(out.map((b) => b.count)).toEqual([1, 2, 2, 2])
    expect(out[1].min).toBeNaN()
    expect(out[1].max).toBeNaN()
    expect(out[1].last).toBeNaN()
    expect(out[2]).toMatchObject({ min: 5, max: 5, first: 5, step: 4, firstStep: 3 })
    expect(out[2].last).toBeNaN()
    expect(out[3]).toMatchObject({ min: 2, max: 3, first: 2, last: 3, step: 6, count: 2 })
  })

  it("puts everything in one bucket when maxPoints is 1", () => {
    const out = downsample({ steps: [10, 20, 30], values: [3, -1, 2], timestamps: [100, 200, 300] }, 1)
    expect(out).toEqual([{ step: 30, firstStep: 10, first: 3, last: 2, min: -1, max: 3, count: 3, timestamp: 300 }])
  })

  it("handles large histories (1e6 points) in a single pass", () => {
    const n = 1_000_000
    const steps = new Float64Array(n)
    const values = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      steps[i] = i
      values[i] = Math.sin(i / 1000)
    }
    const out = downsample({ steps, values, timestamps: steps }, 1000)
    expect(out.length).toBe(1000)
    expect(out.reduce((s, b) => s + b.count, 0)).toBe(n)
    expect(out[out.length - 1].step).toBe(n - 1)
  })

  it("rejects mismatched columns and invalid maxPoints with a clear message", () => {
    expect(() => downsample({ steps: [1, 2], values: [1], timestamps: [1, 2] }, 10)).toThrow(
      /same length \(got 2, 1, 2\)/
    )
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => downsample({ steps: [], values: [], timestamps: [] }, bad)).toThrow(RangeError)
    }
    expect(() => downsample({ steps: [], values: [], timestamps: [] }, 0)).toThrow(/positive integer/)
    expect(downsample({ steps: [], values: [], timestamps: [] }, 5)).toEqual([])
  })
})
