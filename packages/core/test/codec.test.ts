import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { CodecError, decodeEvent, decodeIntColumn, encodeEvent, encodeIntColumn, makeCodec, metricsFromWire, metricsToWire } from "../src/codec.ts"
import { type Event, EVENT_TYPES, EVENTS, evolve, type MetricsBatch, MetricsLogged, v1 } from "../src/index.ts"
import { MetricColumns } from "../src/write.ts"
import { base64ToFloat64s } from "../src/binary.ts"
import { metricsFromWireValue } from "../src/metrics-wire.ts"
import { anyNumber, event, sameValue } from "@runledger/store-conformance/arbitraries"

/** The same event with the keys of its envelope, its body and its meta in reverse order (maps such as tags keep theirs: their order is data). */
const reversedKeys = (e: Event): Event => {
  const reverse = (o: object) => Object.fromEntries(Object.entries(o).reverse())
  return { ...reverse({ ...e, data: reverse(e.data), ...(e.meta ? { meta: reverse(e.meta) } : {}) }) } as Event
}

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

  it("a metric batch MetricColumns built encodes to the very text the Schema path writes for the same points", () => {
    let checked = 0
    fc.assert(
      // Any capacity: the builder's arrays are sized to it up front, then grown past it or cut to the points pushed.
      fc.property(event, fc.nat(80), (e, extra) => {
        if (e.type !== "MetricsLogged") return
        const plain = e.data as MetricsBatch
        const capacity = Math.max(0, plain.keys.length + extra - 40)
        const columns = new MetricColumns(capacity)
        for (let i = 0; i < plain.keys.length; i++) columns.push(plain.keys[i], plain.values[i], plain.steps[i], plain.timestamps[i])
        const built = columns.finish()
        expect(built.keys).toEqual(plain.keys)
        // The built batch takes the fast path (its body's text put into the envelope's); the plain one goes through the Schema.
        expect(encodeEvent({ ...e, data: built } as Event)).toBe(encodeEvent(e))
        checked++
      }),
      { numRuns: 2000 }
    )
    expect(checked).toBeGreaterThan(0)
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

  it("writes a training loop's batch (every key of a step, step after step) in a few bytes, whatever its length", () => {
    const steps = 250
    const names = ["loss", "accuracy", "learning_rate", "grad_norm"]
    const batch = { keys: [] as string[], values: [] as number[], steps: [] as number[], timestamps: [] as number[] }
    for (let s = 0; s < steps; s++) {
      for (const k of names) {
        batch.keys.push(k)
        batch.values.push(s / 7)
        batch.steps.push(100 + s)
        batch.timestamps.push(1_700_000_000_000 + 10 * s)
      }
    }
    const wire = metricsToWire(batch)
    expect(wire).toMatchObject({ names, key: 4, steps: { from: 100, by: 1, each: 4 }, timestamps: { from: 1_700_000_000_000, by: 10, each: 4 } })
    expect(sameValue(metricsFromWire(JSON.parse(JSON.stringify(wire))), batch)).toBe(true)
    // A last step with fewer keys is still the same form; one point out of line is not.
    expect(encodeIntColumn([3, 3, 3, 5, 5, 5, 7])).toEqual({ from: 3, by: 2, each: 3 })
    expect(encodeIntColumn([3, 3, 5, 5, 6, 6])).toEqual({ from: 3, delta: [0, 2, 0, 1, 0] })
    expect(metricsToWire({ keys: ["a", "b", "a", "a"], values: [1, 2, 3, 4], steps: [0, 0, 1, 1], timestamps: [1, 1, 1, 1] }).key).toEqual([0, 1, 0, 0])
  })

  it("refuses a malformed stepped column or count of names, saying which field", () => {
    const values = metricsToWire({ keys: ["a", "b"], values: [1, 2], steps: [0, 0], timestamps: [1, 1] }).values
    const body = { names: ["a", "b"], key: 2, values, steps: 0, timestamps: 1 }
    expect(metricsFromWireValue(body).keys).toEqual(["a", "b"])
    expect(() => metricsFromWireValue({ ...body, key: 3 })).toThrow(/key, a number, must be the number of names \(2\)/)
    expect(() => metricsFromWireValue({ ...body, names: ["a"], key: 1 })).toThrow(/key, a number/)
    for (const each of [0, 1.5, -2, "2", null]) {
      expect(() => metricsFromWireValue({ ...body, steps: { from: 0, by: 1, each } })).toThrow(/steps/)
    }
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

  it("a record decodes and encodes again to the same bytes, whatever the key order it was handed in", () => {
    fc.assert(
      fc.property(event, (e) => {
        const text = encodeEvent(e)
        expect(encodeEvent(decodeEvent(text))).toBe(text)
        // Encoding writes the Schema's field order, not the caller's: one event, one text, one hash.
        expect(encodeEvent(reversedKeys(e))).toBe(text)
      }),
      { numRuns: 1000 }
    )
  })

  it("records written by runledger before this codec decode and encode again to the same bytes, hashes and chain unchanged", () => {
    // packages/core/test/fixtures/records-v1.ndjson: the event JSON of every record of a store written through
    // openTracker by the codec that hand-wrote JSON (every event type, NaN/-0/Infinity values, every column form).
    const lines = readFileSync(new URL("./fixtures/records-v1.ndjson", import.meta.url), "utf8").split("\n").filter((l) => l !== "")
    const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")
    const last = new Map<string, string>()
    const types = new Set<string>()
    for (const line of lines) {
      const e = decodeEvent(line)
      types.add(e.type)
      // A MetricsLogged of v1 is read as v2 (a v1 body is a v2 body): written back, it says so, and nothing else changes.
      expect(encodeEvent(e)).toBe(e.type === "MetricsLogged" ? line.replace('"stream"', '"schema":2,"stream"') : line)
      // Each record's `prev` is the hash of the stored text before it in its stream.
      expect(e.prev).toBe(last.get(e.stream))
      last.set(e.stream, sha256(line))
    }
    // Every type there was when the fixture was written; a type added since cannot be in it (its
    // round trip is the property above), and is named here so that the list stays exact.
    const ADDED_SINCE_FIXTURE = ["RunHeartbeat", "ExperimentTagsSet", "ModelDescribed", "ModelVersionDescribed", "InputLogged", "ModelDeleted", "ModelRenameClaimed", "ModelRenamed", "ModelRenameAbandoned"]
    expect([...types].sort()).toEqual(EVENT_TYPES.filter((t) => !ADDED_SINCE_FIXTURE.includes(t)).sort())
  })

  it("a MetricsLogged of a newer schema version is refused, not read as if it were the current one", () => {
    const line = readFileSync(new URL("./fixtures/records-v1.ndjson", import.meta.url), "utf8").split("\n").find((l) => l.includes('"type":"MetricsLogged"'))!
    expect(() => decodeEvent(line.replace('"meta":', '"schema":3,"meta":'))).toThrow(/MetricsLogged has schema version 3, newer than this runledger reads \(2\)/)
    expect(decodeEvent(line.replace('"meta":', '"schema":2,"meta":')).schema).toBe(2)
    expect(() => decodeEvent(line.replace('"meta":', '"schema":0,"meta":'))).toThrow(/a schema version is a whole number >= 1/)
  })

  it("an ExperimentCreated of schema v1 is lifted to v2 by its upcaster, and written back as v2", () => {
    const line = '{"id":"01a2052c-9796-7545-8659-9a7d842b35a2","type":"ExperimentCreated","at":1795383138198,"data":{"experimentId":"e1","name":"exp"},"meta":{"host":"vm","pid":5994},"stream":"experiments","version":1}'
    const e = decodeEvent(line)
    expect(e).toMatchObject({ schema: 2, data: { experimentId: "e1", name: "exp", tags: {} } })
    expect(encodeEvent(e)).toBe(line.replace('"name":"exp"}', '"name":"exp","tags":{}}').replace('"stream"', '"schema":2,"stream"'))
  })

  it("a MetricsLogged body read without the Schema's machinery gives the Schema's answer, on good and malformed bodies alike", () => {
    const bySchema = Schema.decodeUnknownSync(MetricsLogged)
    const outcome = (f: () => unknown): { ok: true; value: unknown } | { ok: false } => {
      try {
        return { ok: true, value: f() }
      } catch {
        return { ok: false }
      }
    }
    const randomOrder = fc.array(fc.record({ key: fc.constantFrom("loss", "acc", "lr"), value: anyNumber, step: fc.nat(), timestamp: fc.nat() }), { maxLength: 20 }).map((points) =>
      metricsToWire({ keys: points.map((p) => p.key), values: points.map((p) => p.value), steps: points.map((p) => p.step), timestamps: points.map((p) => p.timestamp) })
    )
    // A training loop's batch: `k` keys at each of `steps` steps (the last maybe cut short), steps `by` apart.
    const loop = fc.record({ k: fc.integer({ min: 1, max: 4 }), steps: fc.integer({ min: 1, max: 8 }), cut: fc.nat(3), from: fc.integer(), by: fc.integer({ min: -3, max: 3 }) }).map(({ k, steps, cut, from, by }) => {
      const keys = ["loss", "acc", "lr", "grad"].slice(0, k)
      const n = Math.max(1, k * steps - Math.min(cut, k - 1))
      const at = (i: number) => from + by * Math.floor(i / k)
      return metricsToWire({ keys: Array.from({ length: n }, (_, i) => keys[i % k]), values: Array.from({ length: n }, (_, i) => i / 3), steps: Array.from({ length: n }, (_, i) => at(i)), timestamps: Array.from({ length: n }, (_, i) => 1000 + at(i)) })
    })
    const good = fc.oneof(randomOrder, loop)
    const column = fc.oneof(
      fc.integer(),
      fc.constantFrom(Number.NaN, Infinity, 1.5),
      fc.record({ from: fc.integer(), by: fc.integer(), each: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constantFrom(1.5, "2", null, Number.NaN)), delta: fc.array(fc.integer(), { maxLength: 20 }) }, { requiredKeys: ["from", "by"] }),
      fc.record({ from: fc.oneof(fc.integer(), fc.constant("0")), by: fc.oneof(fc.integer(), fc.constant("1")) }, { requiredKeys: ["from"] }),
      fc.record({ from: fc.integer(), by: fc.constant("x"), delta: fc.array(fc.oneof(fc.integer(), fc.constant("1")), { maxLength: 20 }) }, { requiredKeys: ["from", "delta"] }),
      fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 20 }),
      fc.constant(null),
      fc.string()
    )
    // Good bodies, and good bodies with one field replaced by something of another shape.
    const body = fc.oneof(
      good,
      fc.tuple(good, fc.constantFrom("names", "key", "values", "steps", "timestamps"), fc.oneof(column, fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 20 }), fc.base64String(), fc.integer({ min: -1, max: 5 }), fc.constant(undefined)))
        .map(([w, field, v]) => ({ ...w, [field]: v })),
      fc.anything()
    )
    fc.assert(
      fc.property(body, (w) => {
        const fast = outcome(() => metricsFromWireValue(w))
        const slow = outcome(() => bySchema(w))
        expect(fast.ok).toBe(slow.ok)
        if (fast.ok && slow.ok) expect(sameValue(fast.value, slow.value)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })

  it("base64 of metric values is refused exactly when it is not the alphabet, up to two '=', in groups of four", () => {
    const strict = (t: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(t) && t.length % 4 === 0
    const text = fc.oneof(fc.base64String(), fc.string({ unit: fc.constantFrom("A", "z", "0", "+", "/", "=", "-", "_", " ", "é", "\n") }))
    fc.assert(
      fc.property(text, (t) => {
        let refused = false
        try {
          base64ToFloat64s(t)
        } catch (e) {
          refused = e instanceof RangeError && e.message === "not base64"
        }
        expect(refused).toBe(!strict(t))
      }),
      { numRuns: 3000 }
    )
  })

  it("an older MetricsLogged goes through the same upcasting path as every other type", () => {
    // A synthetic history: MetricsLogged v1 held a list of point objects; v2 (current) is the columnar batch.
    const PointsV1 = Schema.Struct({ points: Schema.Array(Schema.Struct({ key: Schema.String, value: Schema.Number, step: Schema.Number, timestamp: Schema.Number })) })
    const codec = makeCodec({
      ...EVENTS,
      MetricsLogged: evolve(v1(PointsV1), MetricsLogged, (old) => ({
        keys: old.points.map((p) => p.key),
        values: old.points.map((p) => p.value),
        steps: old.points.map((p) => p.step),
        timestamps: old.points.map((p) => p.timestamp)
      }))
    })
    const old = { id: "m1", type: "MetricsLogged", at: 5, data: { points: [{ key: "loss", value: 0.5, step: 1, timestamp: 9 }, { key: "acc", value: 1, step: 1, timestamp: 9 }] }, stream: "run-a", version: 2 }
    const e = codec.decodeEventValue(old)
    expect(e.schema).toBe(2)
    expect(sameValue(e.data, { keys: ["loss", "acc"], values: [0.5, 1], steps: [1, 1], timestamps: [9, 9] })).toBe(true)
    // Written back in the current, columnar form, marked v2; that reads straight back.
    const text = codec.encodeEvent(e)
    expect(JSON.parse(text)).toMatchObject({ schema: 2, data: { names: ["loss", "acc"], key: 2, steps: 1, timestamps: 9 } })
    expect(sameValue(codec.decodeEventValue(JSON.parse(text)), e)).toBe(true)
    expect(() => codec.decodeEventValue({ ...old, schema: 3 })).toThrow(/newer than this runledger reads \(2\)/)
    expect(() => codec.decodeEventValue({ ...old, data: { points: "no" } })).toThrow(CodecError)
  })

  it("refuses to encode an event that does not fit its Schema, rather than write a record no one can read", () => {
    const ok = { id: "x", type: "MetricsLogged", at: 1, data: { keys: ["a"], values: [1], steps: [0], timestamps: [1] }, stream: "s", version: 1 } as Event
    expect(() => encodeEvent({ ...ok, data: { keys: ["a", "b"], values: [1], steps: [0], timestamps: [1] } } as Event)).toThrow(/one entry per point/)
    expect(() => encodeEvent({ ...ok, data: { keys: ["a", "a"], values: [1, 2], steps: [0.5, NaN], timestamps: [1, 1] } } as Event)).toThrow(/steps must hold finite numbers/)
    expect(() => encodeEvent({ ...ok, type: "TagsSet", data: { tags: { a: 1 } } } as unknown as Event)).toThrow(CodecError)
    expect(() => encodeEvent({ ...ok, type: "Nope" } as unknown as Event)).toThrow(/unknown type "Nope"/)
  })
})
