/**
 * The zoom's bucketing without log order (`bucketRange`, over `rangePointsSql`'s four columns)
 * against a brute-force downsampling of the same points and against the general path
 * (`planFromPoints` + `bucketPoints`, over `pointRowsSql`'s columns with log order): random series
 * in any row order, with ties at one step, NaN, -0 and infinities. Where log order decides a
 * bucket (two points at its first or last step, or at one step of a series not bucketed),
 * `bucketRange` must say so (undefined) rather than guess.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bucketLevel, bucketPoints, bucketRange, planFromPoints } from "../src/queries/history.ts"

interface Point {
  readonly series: number
  readonly step: number
  readonly value: number
  readonly timestamp: number
  /** Log order: position, then idx. */
  readonly position: number
  readonly idx: number
}

const valueArb = fc.oneof(fc.constantFrom(0, -0, 1, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), fc.double())

/**
 * Points of a few series, in log order (position, idx), then put in row order: as logged, sorted
 * by series and step (as a table of sequential runs reads), or shuffled (runs logging at once).
 * Steps from a narrow range (ties likely) or a wide one, negative ones included; `distinct`
 * keeps one point per step in each series.
 */
const pointsArb = (distinct: boolean) =>
  fc
    .record({
      spread: fc.constantFrom(8, 40, 5_000, 2 ** 40),
      shift: fc.constantFrom(0, -20, 1_000_003),
      raw: fc.array(fc.record({ series: fc.integer({ min: 1, max: 4 }), step: fc.double({ min: 0, max: 1, noNaN: true }), value: valueArb, timestamp: fc.integer({ min: 0, max: 3 }) }), { maxLength: 120, size: "max" }),
      order: fc.constantFrom("logged", "sorted", "shuffled"),
      seed: fc.nat()
    })
    .map(({ spread, shift, raw, order, seed }) => {
      const seen = new Set<string>()
      const points: Point[] = []
      raw.forEach((p, i) => {
        const step = shift + Math.floor(p.step * spread)
        if (distinct && seen.has(`${p.series}:${step}`)) return
        seen.add(`${p.series}:${step}`)
        // Several points an event: position rises every third point.
        points.push({ series: p.series * 7, step, value: p.value, timestamp: p.timestamp, position: 1 + Math.floor(i / 3), idx: i % 3 })
      })
      if (order === "sorted") points.sort((a, b) => a.series - b.series || a.step - b.step || a.position - b.position || a.idx - b.idx)
      if (order === "shuffled") {
        let x = seed
        for (let i = points.length - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) % 2 ** 31
          const j = x % (i + 1)
          const t = points[i]
          points[i] = points[j]
          points[j] = t
        }
      }
      return points
    })

const columnsOf = (points: ReadonlyArray<Point>, withLogOrder: boolean): Record<string, Float64Array> => {
  const col = (f: (p: Point) => number) => Float64Array.from(points, f)
  const c: Record<string, Float64Array> = { series_id: col((p) => p.series), step: col((p) => p.step), value: col((p) => p.value), timestamp: col((p) => p.timestamp) }
  if (withLogOrder) Object.assign(c, { position: col((p) => p.position), idx: col((p) => p.idx), level: new Float64Array(points.length) })
  return c
}

/** Downsampled plainly: each series' points by step, then log order; whole, or grouped by step >> level. */
const bruteForce = (points: ReadonlyArray<Point>, maxPoints: number) => {
  const rows: number[][] = []
  const counts = new Map<number, number>()
  for (const series of [...new Set(points.map((p) => p.series))].sort((a, b) => a - b)) {
    const ps = points.filter((p) => p.series === series).sort((a, b) => a.step - b.step || a.position - b.position || a.idx - b.idx)
    counts.set(series, ps.length)
    const whole = ps.length <= maxPoints
    const width = whole ? 1 : 2 ** bucketLevel(ps[0].step, ps.at(-1)!.step, maxPoints)
    const groups: Point[][] = []
    ps.forEach((p, i) => {
      if (whole || i === 0 || Math.floor(p.step / width) !== Math.floor(ps[i - 1].step / width)) groups.push([])
      groups.at(-1)!.push(p)
    })
    for (const g of groups) {
      const finite = g.map((p) => p.value).filter((v) => !Number.isNaN(v))
      const zeroless = (x: number) => (x === 0 ? 0 : x)
      const min = finite.length === 0 ? Number.NaN : zeroless(finite.reduce((a, b) => Math.min(a, b)))
      const max = finite.length === 0 ? Number.NaN : zeroless(finite.reduce((a, b) => Math.max(a, b)))
      rows.push([series, g.at(-1)!.step, g[0].step, g[0].value, g.at(-1)!.value, min, max, g.length, g.at(-1)!.timestamp])
    }
  }
  return { counts, rows }
}

const NAMES = ["series_id", "step", "first_step", "first", "last", "min", "max", "count", "timestamp"]
const rowsOf = (c: Readonly<Record<string, Float64Array>>): number[][] => Array.from(c.series_id, (_, i) => NAMES.map((name) => c[name][i]))

/** Every number the same, the sign of zero and NaN included. */
const expectSame = (actual: number[][], expected: number[][]) => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((row, i) => row.forEach((x, j) => expect(Object.is(x, expected[i][j]), `bucket ${i} ${NAMES[j]}: ${x} vs ${expected[i][j]}`).toBe(true)))
}

/** Whether log order decides something: two points of a series at one step. */
const hasTies = (points: ReadonlyArray<Point>): boolean => new Set(points.map((p) => `${p.series}:${p.step}`)).size < points.length

describe("bucketRange (a zoom's points bucketed without log order)", () => {
  it("equals the brute-force buckets and the general path, or says log order is needed (only when two points share a step)", () => {
    let answered = 0
    let declined = 0
    let bucketed = 0
    fc.assert(
      fc.property(fc.oneof(pointsArb(false), pointsArb(true)), fc.integer({ min: 1, max: 12 }), (points, maxPoints) => {
        const expected = bruteForce(points, maxPoints)
        const general = columnsOf(points, true)
        const generalCounts = planFromPoints(general, maxPoints)
        expectSame(rowsOf(bucketPoints(general)), expected.rows)
        expect(generalCounts).toEqual(expected.counts)
        const got = bucketRange(columnsOf(points, false), maxPoints)
        if (got === undefined) {
          declined++
          expect(hasTies(points)).toBe(true)
          return
        }
        answered++
        if ([...expected.counts.values()].some((n) => n > maxPoints)) bucketed++
        expect(got.counts).toEqual(expected.counts)
        expectSame(rowsOf(got.buckets), expected.rows)
      }),
      { numRuns: 400 }
    )
    // The generator reached both answers, and buckets of several points.
    expect(answered).toBeGreaterThan(0)
    expect(declined).toBeGreaterThan(0)
    expect(bucketed).toBeGreaterThan(0)
  })

  it("answers whenever each series has one point a step, in any row order", () => {
    fc.assert(
      fc.property(pointsArb(true), fc.integer({ min: 1, max: 12 }), (points, maxPoints) => {
        expect(bucketRange(columnsOf(points, false), maxPoints)).toBeDefined()
      }),
      { numRuns: 200 }
    )
  })

  it("a tie inside a bucket is no reason to decline; one at its first or last step is", () => {
    const at = (steps: number[]): Point[] => steps.map((step, i) => ({ series: 1, step, value: i, timestamp: i, position: i + 1, idx: 0 }))
    // Steps 0-7 in 2 buckets of 4: the tie at 1 lies inside the first.
    const inside = bucketRange(columnsOf(at([0, 1, 1, 3, 4, 7]), false), 2)
    expectSame(rowsOf(inside!.buckets), bruteForce(at([0, 1, 1, 3, 4, 7]), 2).rows)
    expect(bucketRange(columnsOf(at([0, 1, 3, 3, 4, 7]), false), 2)).toBeUndefined()
    expect(bucketRange(columnsOf(at([0, 0, 3, 4, 7]), false), 2)).toBeUndefined()
    // Each point its own bucket: any tie decides the order of two buckets.
    expect(bucketRange(columnsOf(at([5, 2, 5]), false), 3)).toBeUndefined()
    expect(bucketRange(columnsOf(at([5, 2, 4]), false), 3)!.buckets.step).toEqual(Float64Array.from([2, 4, 5]))
  })
})
