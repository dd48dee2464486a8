/**
 * The native API's histories as columns (api-schemas.ts): the server's one-pass JSON writer gives
 * exactly what the Schema's JSON codec would, and the remote client's decoding gives back the
 * Tracker's histories, NaN, ±Infinity and -0 included.
 */
import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type DownsampledHistoryColumns, HISTORY_FIELDS, HistoriesResponse, historiesF64, historiesJson, historiesOfF64, historyColumns, historyColumnsF64, historyOfColumns } from "../src/api-schemas.ts"

const value = fc.oneof(fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5), fc.double())
const whole = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
const bucket = fc.record({ step: whole, firstStep: whole, first: value, last: value, min: value, max: value, count: fc.integer({ min: 1, max: 1e6 }), timestamp: whole })
const history = fc.record({
  runId: fc.string(),
  key: fc.string(),
  points: fc.nat(),
  buckets: fc.array(bucket, { maxLength: 20 }).map((bs) => bs.map((b) => ({ ...b, value: b.last })))
})

/** A history's columns, as the Tracker's downsampledHistoryColumns gives them. */
const columnsOf = (h: { runId: string; key: string; points: number; buckets: ReadonlyArray<Record<string, number>> }): DownsampledHistoryColumns =>
  ({ runId: h.runId, key: h.key, points: h.points, ...Object.fromEntries(HISTORY_FIELDS.map((f) => [f, Float64Array.from(h.buckets, (b) => b[f])])) }) as DownsampledHistoryColumns

describe("histories as columns", () => {
  it("are the Tracker's histories, and the remote client reads the native API's columns back as the same doubles", () => {
    fc.assert(
      fc.property(fc.array(history, { maxLength: 4 }), (histories) => {
        expect(histories.map(columnsOf).map(historyOfColumns)).toEqual(histories)
        const json = Schema.decodeUnknownSync(Schema.toCodecJson(HistoriesResponse))(JSON.parse(JSON.stringify(historiesJson({ series: histories.map((h) => historyColumns(columnsOf(h))) }))))
        expect(json.series.map(historyColumnsF64)).toEqual(histories.map(columnsOf))
      }),
      { numRuns: 200 }
    )
  })

  it("are written as the Schema's JSON codec writes them, and read back as the same histories", () => {
    const encode = Schema.encodeUnknownSync(Schema.toCodecJson(HistoriesResponse))
    const decode = Schema.decodeUnknownSync(Schema.toCodecJson(HistoriesResponse))
    fc.assert(
      fc.property(fc.array(history, { maxLength: 4 }), (histories) => {
        const answer = { series: histories.map((h) => historyColumns(columnsOf(h))) }
        const json = historiesJson(answer)
        expect(json).toEqual(encode(answer))
        // Through JSON text, as the client gets it: toEqual tells -0 from 0 and NaN equals NaN.
        const back = decode(JSON.parse(JSON.stringify(json))).series.map(historyOfColumns)
        expect(back).toEqual(histories)
      }),
      { numRuns: 300 }
    )
  })

  it("of the fields asked for are step and those only, written as the Schema's JSON codec writes them", () => {
    const encode = Schema.encodeUnknownSync(Schema.toCodecJson(HistoriesResponse))
    fc.assert(
      fc.property(fc.array(history, { maxLength: 4 }), fc.subarray([...HISTORY_FIELDS]), (histories, fields) => {
        const answer = { series: histories.map((h) => historyColumns(columnsOf(h), fields)) }
        for (const s of answer.series) expect(Object.keys(s).sort()).toEqual(["runId", "key", "points", ...new Set(["step", ...fields])].sort())
        expect(historiesJson(answer)).toEqual(encode(answer))
        // The remote client asks for all and says so when a server answers fewer.
        const complete = HISTORY_FIELDS.every((f) => f === "step" || fields.includes(f))
        if (histories.length > 0 && !complete) expect(() => historyOfColumns(answer.series[0])).toThrow(/lacks columns/)
      }),
      { numRuns: 200 }
    )
  })

  it("are written as doubles and read back as the same columns; a cut or padded body is refused, not misread", () => {
    fc.assert(
      fc.property(fc.array(history, { maxLength: 4 }), fc.subarray([...HISTORY_FIELDS]), fc.nat(), (histories, fields, cut) => {
        const answer = { series: histories.map((h) => historyColumns(columnsOf(h), fields)) }
        const bytes = historiesF64(answer)
        // A fresh buffer, as fetch's arrayBuffer() gives.
        const back = historiesOfF64(bytes.slice().buffer).series
        const present = (s: Record<string, unknown>) => HISTORY_FIELDS.filter((f) => s[f] !== undefined)
        expect(back.map((s) => ({ runId: s.runId, key: s.key, points: s.points, ...Object.fromEntries(present(s).map((f) => [f, Array.from(s[f]!)])) }))).toEqual(answer.series)
        // A reader that needs a field the answer lacks says so.
        const missing = HISTORY_FIELDS.find((f) => f !== "step" && !fields.includes(f))
        if (missing !== undefined) expect(() => historiesOfF64(bytes.slice().buffer, [missing])).toThrow(new RegExp(`lack ${missing}`))
        // Any shorter body (a cut transfer) or a longer one fails with the reason, never gives other numbers.
        const short = bytes.slice(0, cut % bytes.length)
        expect(() => historiesOfF64(short.buffer)).toThrow(/binary answer is malformed/)
        const long = new Uint8Array(bytes.length + 8)
        long.set(bytes)
        expect(() => historiesOfF64(long.buffer)).toThrow(/binary answer is malformed/)
      }),
      { numRuns: 300 }
    )
  })
})
