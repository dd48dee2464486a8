/**
 * The wire form of events: one JSON text per event, shared by every store. It is the Encoded side
 * of each type's envelope Schema (events.ts): encoding is Schema.encode then JSON.stringify,
 * decoding is JSON.parse then Schema.decode, and MetricsLogged's columnar form is a Schema
 * transformation of its own (metrics-wire.ts).
 *
 * A body written under an older schema version is decoded with that version's Schema and lifted
 * by the type's upcasters, one version at a time, to the current one: the same path for every
 * type (MetricsLogged's bodies, of either version, are checked by a reader of their own that gives
 * the Schema's answer faster). Encoding always writes the current version, and owns the `schema` field.
 */
import { Schema } from "effect"
import { envelope, type Event, EVENTS, type EventSpec } from "./events.ts"
import { builtMetricsWire, metricsFromWireValue, MetricsLogged, wireJson } from "./metrics-wire.ts"

export { decodeIntColumn, encodeIntColumn, metricsFromWire, metricsToWire } from "./metrics-wire.ts"

export class CodecError extends Error {
  readonly _tag = "CodecError"
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * An encoder's answer that is JSON text already: an envelope with a built metric batch's body
 * (see encode below), written without JSON.stringify walking the body again.
 */
class RawJson {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
}

/** What stands for the body while its envelope is stringified; no JSON value it could be confused with precedes it (see below). */
const BODY_MARK = 0

export interface Codec {
  /** Encode one event (without its position) as JSON text with no newline. Throws CodecError when the event does not fit its Schema. */
  readonly encodeEvent: (e: Event) => string
  /** Decode a parsed JSON value into a validated event of the current schema. Throws CodecError. */
  readonly decodeEventValue: (u: unknown) => Event
}

/**
 * The codec of a table of event types. runledger's own is `makeCodec(EVENTS)` (exported below as
 * encodeEvent / decodeEventValue); tests build others to exercise upcasting.
 */
export const makeCodec = (table: Readonly<Record<string, EventSpec>>): Codec => {
  type Encoder = (e: Event) => unknown
  type Decoder = (u: unknown) => Event
  const types = Object.keys(table)
  /** Per type, one decoder per schema version: index v - 1 reads version v and lifts it to the current one. */
  const decoders = new Map<string, ReadonlyArray<Decoder>>()
  const encoders = new Map<string, Encoder>()
  for (const type of types) {
    const spec = table[type]
    const current = spec.history.length + 1
    const codecOf = (data: Schema.Top) => envelope(type, data) as unknown as Schema.Codec<Event, unknown>
    const checked = Schema.encodeSync(codecOf(spec.data))
    // A metric batch the run session built was checked point by point as it was built: only its
    // envelope goes through the Schema, and the body is laid out as the builder kept it, so the
    // columns of a batch are walked once, not again here (see MetricColumns in metrics-wire.ts).
    const envelopeOnly = type === "MetricsLogged" ? Schema.encodeSync(codecOf(Schema.Unknown)) : undefined
    const encode = envelopeOnly === undefined ? checked : (e: Event) => {
      const wire = builtMetricsWire(e.data)
      if (wire === undefined) return checked(e)
      // A copy, a mark in the body's place (the key order is the envelope's): the event itself is
      // never touched. The envelope's text has "data" after id, type and at, whose values are a
      // string, a string and a number; inside a JSON string every quote is escaped, so the first
      // `"data":0` is the envelope's own key, and the body's text goes there.
      const envelope = envelopeOnly(e) as object
      const text = JSON.stringify({ ...envelope, data: BODY_MARK })
      const mark = text.indexOf(`"data":${BODY_MARK}`)
      if (mark < 0) return { ...envelope, data: wire }
      const at = mark + 7
      return new RawJson(text.slice(0, at) + wireJson(wire) + text.slice(at + 1))
    }
    // The codec writes the version it encodes, the current one, and leaves `schema` out at 1.
    encoders.set(type, current > 1 ? (e) => encode({ ...e, schema: current }) : (e) => {
      if (e.schema === undefined) return encode(e)
      const { schema: _, ...rest } = e
      return encode(rest as Event)
    })
    // A MetricsLogged body of any version is read by metricsFromWireValue, which checks what the
    // Schema checks at a fraction of its cost (a replay decodes one batch per run); each version's
    // wire is the next one's with fewer forms, so the current reader reads them all.
    const envelopeOf = spec.data === MetricsLogged || spec.history.some((old) => old.data === MetricsLogged) ? Schema.decodeUnknownSync(codecOf(Schema.Unknown)) : undefined
    const fastMetrics = (u: unknown): Event => {
      const e = envelopeOf!(u)
      return { ...e, data: metricsFromWireValue(e.data) } as Event
    }
    const readers: Decoder[] = spec.history.map((old, i) => {
      const decodeOld = old.data === MetricsLogged ? fastMetrics : Schema.decodeUnknownSync(codecOf(old.data))
      return (u) => {
        const e = decodeOld(u)
        let data: unknown = e.data
        for (let v = i; v < spec.history.length; v++) data = (spec.history[v].up as (d: unknown) => unknown)(data)
        return { ...e, data, schema: current } as Event
      }
    })
    readers.push(spec.data === MetricsLogged ? fastMetrics : Schema.decodeUnknownSync(codecOf(spec.data)))
    decoders.set(type, readers)
  }

  const encodeEvent = (e: Event): string => {
    const encode = encoders.get(e.type)
    if (encode === undefined) throw new CodecError(`Cannot encode an event of unknown type ${JSON.stringify(e.type)}; known types: ${types.join(", ")}.`)
    try {
      const encoded = encode(e)
      return encoded instanceof RawJson ? encoded.text : JSON.stringify(encoded)
    } catch (err) {
      throw new CodecError(`Cannot encode ${e.type} event ${e.id}: ${message(err)}`)
    }
  }

  const decodeEventValue = (u: unknown): Event => {
    if (u === null || typeof u !== "object" || Array.isArray(u)) throw new CodecError("An event must be a JSON object.")
    const { type, schema } = u as { type?: unknown; schema?: unknown }
    const readers = typeof type === "string" ? decoders.get(type) : undefined
    if (readers === undefined) throw new CodecError(`Unknown event type ${JSON.stringify(type)}; this runledger reads ${types.join(", ")}.`)
    const current = readers.length
    const version = schema === undefined ? 1 : schema
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
      throw new CodecError(`${type} has schema version ${JSON.stringify(schema)}; a schema version is a whole number >= 1.`)
    }
    if (version > current) throw new CodecError(`${type} has schema version ${version}, newer than this runledger reads (${current}): upgrade runledger.`)
    try {
      return readers[version - 1](u)
    } catch (e) {
      throw new CodecError(message(e))
    }
  }

  return { encodeEvent, decodeEventValue }
}

const codec = makeCodec(EVENTS)

/** Encode one event (without its position) as JSON text with no newline. Throws CodecError when the event does not fit its Schema. */
export const encodeEvent = codec.encodeEvent

/** Decode a parsed JSON value into a validated event of the current schema. Throws CodecError. */
export const decodeEventValue = codec.decodeEventValue

/** Decode JSON text into a validated event. Throws CodecError. */
export const decodeEvent = (text: string): Event => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw new CodecError(`not JSON: ${message(e)}`)
  }
  return decodeEventValue(parsed)
}
