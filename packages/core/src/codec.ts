/**
 * The wire form of events: one JSON text per event, shared by every store.
 *
 * Metric batches are large and JSON cannot hold NaN, +/-Infinity or -0, so MetricsLogged is
 * encoded columnar:
 *   - `names`: the distinct keys; `key`: each point's index into `names` (left out when there is one name)
 *   - `values`: base64 of the values' IEEE-754 doubles (little-endian): every value exact, and far
 *     cheaper to write and read than decimal text (see binary.ts)
 *   - `steps` and `timestamps`: integer columns, compressed: one number when every point shares it,
 *     { from, by } for an arithmetic run, { from, delta } with the differences otherwise, or a
 *     plain array when some value is not a safe integer. (A -0 step or timestamp reads back as 0.)
 * Everything else is plain JSON of the Schema's encoded form.
 */
import { Schema } from "effect"
import { base64ToFloat64s, float64sToBase64 } from "./binary.ts"
import { CURRENT_SCHEMA, Event, type EventType, type MetricsBatch, type NumberColumn } from "./events.ts"

export class CodecError extends Error {
  readonly _tag = "CodecError"
}

type IntColumn = number | { readonly from: number; readonly by: number } | { readonly from: number; readonly delta: ReadonlyArray<number> } | ReadonlyArray<number>

interface WireMetrics {
  names: ReadonlyArray<string>
  key?: ReadonlyArray<number>
  values: string
  steps: IntColumn
  timestamps: IntColumn
}

export const encodeIntColumn = (xs: NumberColumn): IntColumn => {
  const n = xs.length
  const plain = () => Array.from(xs)
  if (n === 0) return []
  const first = xs[0]
  if (!Number.isSafeInteger(first)) return plain()
  if (n === 1) return first
  const by = xs[1] - xs[0]
  let arithmetic = true
  for (let i = 1; i < n; i++) {
    const d = xs[i] - xs[i - 1]
    if (!Number.isSafeInteger(xs[i]) || !Number.isSafeInteger(d)) return plain()
    if (d !== by) arithmetic = false
  }
  if (arithmetic) return by === 0 ? first : { from: first, by }
  const delta = new Array<number>(n - 1)
  for (let i = 1; i < n; i++) delta[i - 1] = xs[i] - xs[i - 1]
  return { from: first, delta }
}

export const decodeIntColumn = (column: IntColumn, n: number, field: string): NumberColumn => {
  const bad = () => new CodecError(`MetricsLogged.${field} is not a column of ${n} numbers`)
  if (typeof column === "number") return new Float64Array(n).fill(column)
  if (Array.isArray(column)) {
    if (column.length !== n) throw bad()
    return column as number[]
  }
  if (typeof column !== "object" || column === null || typeof (column as { from?: unknown }).from !== "number") throw bad()
  const out = new Float64Array(n)
  if (n === 0) return out
  let x = (column as { from: number }).from
  out[0] = x
  if ("by" in column) {
    const by = column.by
    if (typeof by !== "number") throw bad()
    for (let i = 1; i < n; i++) out[i] = x += by
    return out
  }
  const delta = (column as { delta?: unknown }).delta
  if (!Array.isArray(delta) || delta.length !== n - 1) throw bad()
  for (let i = 1; i < n; i++) out[i] = x += delta[i - 1] as number
  return out
}

export const metricsToWire = (batch: MetricsBatch): WireMetrics => {
  const n = batch.keys.length
  const names: string[] = []
  const index = new Map<string, number>()
  let key: number[] | undefined
  let last = ""
  let lastAt = -1
  for (let i = 0; i < n; i++) {
    const k = batch.keys[i]
    let at = k === last ? lastAt : index.get(k)
    if (at === undefined) {
      at = names.length
      index.set(k, at)
      names.push(k)
    }
    last = k
    lastAt = at
    if (at !== 0 && key === undefined) key = new Array<number>(i).fill(0)
    if (key !== undefined) key.push(at)
  }
  return {
    names,
    ...(key ? { key } : {}),
    values: float64sToBase64(batch.values),
    steps: encodeIntColumn(batch.steps),
    timestamps: encodeIntColumn(batch.timestamps)
  }
}

export const metricsFromWire = (u: unknown): MetricsBatch => {
  const w = u as WireMetrics
  if (typeof w !== "object" || w === null || !Array.isArray(w.names) || typeof w.values !== "string") {
    throw new CodecError("MetricsLogged data must have `names` (an array) and `values` (base64 doubles)")
  }
  let values: Float64Array
  try {
    values = base64ToFloat64s(w.values)
  } catch (e) {
    throw new CodecError(`MetricsLogged.values: ${e instanceof Error ? e.message : String(e)}`)
  }
  const n = values.length
  const names = w.names
  let keys: string[]
  if (w.key === undefined) {
    if (n > 0 && names.length !== 1) throw new CodecError("MetricsLogged without `key` must have exactly one name")
    keys = new Array<string>(n).fill(names[0])
  } else {
    if (!Array.isArray(w.key) || w.key.length !== n) throw new CodecError(`MetricsLogged.key must have ${n} entries`)
    keys = new Array<string>(n)
    for (let i = 0; i < n; i++) {
      const k = names[w.key[i]]
      if (typeof k !== "string") throw new CodecError(`MetricsLogged.key[${i}] points outside names`)
      keys[i] = k
    }
  }
  return { keys, values, steps: decodeIntColumn(w.steps, n, "steps"), timestamps: decodeIntColumn(w.timestamps, n, "timestamps") }
}

/** Encode one event (without its position) as JSON text with no newline. */
export const encodeEvent = (e: Event): string => {
  const { position: _position, ...rest } = e as Event & { position?: number }
  if (rest.type === "MetricsLogged") return JSON.stringify({ ...rest, data: metricsToWire(rest.data) })
  return JSON.stringify(rest)
}

const decodeEventSchema = Schema.decodeUnknownSync(Event)

/**
 * Upcasters: how a body written under an older schema version reads as the current one. Bytes in
 * the log are never rewritten; old events are lifted on every read. Keyed by type, then by the
 * version they lift from (to that version + 1).
 */
export const UPCASTERS: Readonly<Record<string, Readonly<Record<number, (data: Record<string, unknown>) => Record<string, unknown>>>>> = {
  // v2 gave experiments tags; an experiment created under v1 has none.
  ExperimentCreated: { 1: (data) => ({ ...data, tags: {} }) }
}

const upcast = (value: { type?: unknown; data?: unknown; schema?: unknown }): typeof value => {
  const type = value.type as EventType
  const current = CURRENT_SCHEMA[type] ?? 1
  let version = typeof value.schema === "number" ? value.schema : 1
  if (version === current) return value
  if (version > current) throw new CodecError(`${String(type)} has schema version ${version}, newer than this runledger reads (${current}): upgrade runledger.`)
  let data = value.data as Record<string, unknown>
  for (; version < current; version++) {
    const lift = UPCASTERS[type]?.[version]
    if (lift === undefined) throw new CodecError(`No upcaster for ${type} from schema version ${version}.`)
    data = lift(data)
  }
  return { ...value, data, schema: current }
}

/** Decode a parsed JSON value into a validated event of the current schema. Throws CodecError. */
export const decodeEventValue = (u: unknown): Event => {
  let value = u as { type?: unknown; data?: unknown; schema?: unknown }
  if (value !== null && typeof value === "object") {
    if (value.type === "MetricsLogged") value = { ...value, data: metricsFromWire(value.data) }
    else if (value.schema !== undefined || CURRENT_SCHEMA[value.type as EventType] !== undefined) value = upcast(value)
  }
  try {
    return decodeEventSchema(value)
  } catch (e) {
    throw new CodecError(e instanceof Error ? e.message : String(e))
  }
}

/** Decode JSON text into a validated event. Throws CodecError. */
export const decodeEvent = (text: string): Event => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw new CodecError(`not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  return decodeEventValue(parsed)
}
