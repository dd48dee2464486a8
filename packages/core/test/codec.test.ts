import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { CodecError, decodeEvent, decodeIntColumn, encodeEvent, encodeIntColumn, metricsFromWire, metricsToWire } from "../src/codec.ts"
import { EVENT_TYPES } from "../src/index.ts"
import { anyNumber, event, sameValue } from "./arbitraries.ts"

describe("event codec", () => {
  it("every event type survives encode -> decode, numbers exactly (NaN, -0, Infinity)", () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(event, (e) => {
        seen.add(e.type)
        const text = encodeEvent(e)
        expect(text).not.toContain("\n")
        const back = decodeEvent(text)
        expect(sameValue(back, e)).toBe(true)
      }),
      { numRuns: 1000 }
    )
    expect([...seen].sort()).toEqual([...EVENT_TYPES].sort())
  })

  it("metric values JSON cannot hold are listed exactly, not turned into null", () => {
    fc.assert(
      fc.property(fc.array(anyNumber, { maxLength: 50 }), (values) => {
        const batch = { keys: values.map(() => "m"), values, steps: values.map((_, i) => i), timestamps: values.map(() => 5) }
        const wire = JSON.parse(JSON.stringify(metricsToWire(batch)))
        const back = metricsFromWire(wire)
        expect(sameValue(back.values, values)).toBe(true)
        expect(sameValue(back, batch)).toBe(true)
      })
    )
  })

  it("compresses integer columns: one shared value, an arithmetic run, or differences", () => {
    const wire = metricsToWire({ keys: ["loss", "loss"], values: [1, 2], steps: [3, 3], timestamps: [9, 9] })
    expect(wire).toMatchObject({ names: ["loss"], steps: 3, timestamps: 9 })
    expect(wire).not.toHaveProperty("key")
    expect(encodeIntColumn([5, 6, 7, 8])).toEqual({ from: 5, by: 1 })
    expect(encodeIntColumn([10, 12, 11])).toEqual({ from: 10, delta: [2, -1] })
    expect(encodeIntColumn([1.5, 2])).toEqual([1.5, 2])
  })

  it("integer columns round-trip exactly, whatever they hold", () => {
    const column = fc.array(fc.oneof(fc.integer(), fc.maxSafeNat(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60)), { maxLength: 30 })
    fc.assert(
      fc.property(column, (xs) => {
        const wire = JSON.parse(JSON.stringify(encodeIntColumn(xs)))
        // Steps and timestamps are counts and instants: -0 is written as 0, the one value not kept bit for bit.
        expect(sameValue(decodeIntColumn(wire, xs.length, "steps"), xs.map((x) => (x === 0 ? 0 : x)))).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })

  it("rejects malformed records with a CodecError naming the problem", () => {
    expect(() => decodeEvent("{not json")).toThrow(CodecError)
    expect(() => decodeEvent(JSON.stringify({ id: "x", stream: "s", version: 1, type: "Nope", at: 1, data: {} }))).toThrow(CodecError)
    const bad = { id: "x", stream: "s", version: 1, type: "MetricsLogged", at: 1, data: { names: ["a"], values: metricsToWire({ keys: ["a", "a"], values: [1, 2], steps: [0, 1], timestamps: [1, 1] }).values, steps: [1], timestamps: 1 } }
    expect(() => decodeEvent(JSON.stringify(bad))).toThrow(/steps/)
    expect(() => decodeEvent(JSON.stringify({ ...bad, data: { ...bad.data, values: "###" } }))).toThrow(/values/)
  })
})
