import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { CodecError, decodeEvent, encodeEvent, EVENT_TYPES, metricsFromWire, metricsToWire } from "../src/index.ts"
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

  it("compresses a shared step or timestamp to one number and one key to no index", () => {
    const wire = metricsToWire({ keys: ["loss", "loss"], values: [1, 2], steps: [3, 3], timestamps: [9, 9] })
    expect(wire).toEqual({ names: ["loss"], values: [1, 2], steps: 3, timestamps: 9 })
  })

  it("rejects malformed records with a CodecError naming the problem", () => {
    expect(() => decodeEvent("{not json")).toThrow(CodecError)
    expect(() => decodeEvent(JSON.stringify({ id: "x", stream: "s", version: 1, type: "Nope", at: 1, data: {} }))).toThrow(CodecError)
    const bad = { id: "x", stream: "s", version: 1, type: "MetricsLogged", at: 1, data: { names: ["a"], values: [1, 2], steps: [1], timestamps: 1 } }
    expect(() => decodeEvent(JSON.stringify(bad))).toThrow(/steps/)
  })
})
