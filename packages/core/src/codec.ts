/**
 * The wire form of events: one JSON text per event, shared by every store.
 *
 * JSON cannot hold NaN, +/-Infinity or -0, and metric batches are large, so MetricsLogged
 * is encoded columnar and compact:
 *   - `names`: the distinct keys; `key`: each point's index into `names` (left out when there is one name)
 *   - `values`: the numbers, with every value JSON cannot hold written as 0 and listed exactly in
 *     `special` as [index, "NaN" | "Infinity" | "-Infinity" | "-0"]
 *   - `steps` and `timestamps`: an array, or a single number when every point shares it.
 * Everything else is plain JSON of the Schema's encoded form.
 */
import { Schema } from "effect"
import { CURRENT_SCHEMA, Event, type EventType, type MetricsBatch } from "./events.ts"

export class CodecError extends Error {
  readonly _tag = "CodecError"
}

interface WireMetrics {
  names: ReadonlyArray<string>
  key?: ReadonlyArray<number>
  values: ReadonlyArray<number>
  special?: ReadonlyArray<readonly [number, string]>
  steps: ReadonlyArray<number> | number
  timestamps: ReadonlyArray<number> | number
}

const specialName = (x: number): string | undefined =>
  x !== x ? "NaN" : x === Infinity ? "Infinity" : x === -Infinity ? "-Infinity" : x === 0 && 1 / x < 0 ? "-0" : undefined

const specialValue: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 }

const constantOrColumn = (xs: ReadonlyArray<number>): ReadonlyArray<number> | number => {
  const n = xs.length
  if (n === 0) return xs
  const first = xs[0]
  for (let i = 1; i < n; i++) if (xs[i] !== first) return xs
  return first
}

const expand = (column: ReadonlyArray<number> | number, n: number, field: string): ReadonlyArray<number> => {
  if (typeof column === "number") return new Array<number>(n).fill(column)
  if (!Array.isArray(column) || column.length !== n) {
    throw new CodecError(`MetricsLogged.${field} must be a number or an array of ${n} numbers`)
  }
  return column
}

export const metricsToWire = (batch: MetricsBatch): WireMetrics => {
  const n = batch.keys.length
  const names: string[] = []
  const index = new Map<string, number>()
  let key: number[] | undefined
  for (let i = 0; i < n; i++) {
    const k = batch.keys[i]
    let at = index.get(k)
    if (at === undefined) {
      at = names.length
      index.set(k, at)
      names.push(k)
    }
    if (at !== 0 && key === undefined) key = new Array<number>(i).fill(0)
    if (key !== undefined) key.push(at)
  }
  let values: ReadonlyArray<number> = batch.values
  let special: Array<readonly [number, string]> | undefined
  for (let i = 0; i < n; i++) {
    const name = specialName(batch.values[i])
    if (name !== undefined) {
      if (special === undefined) {
        special = []
        values = batch.values.slice()
      }
      special.push([i, name])
      ;(values as number[])[i] = 0
    }
  }
  const wire: WireMetrics = {
    names,
    ...(key ? { key } : {}),
    values,
    ...(special ? { special } : {}),
    steps: constantOrColumn(batch.steps),
    timestamps: constantOrColumn(batch.timestamps)
  }
  return wire
}

export const metricsFromWire = (u: unknown): MetricsBatch => {
  const w = u as WireMetrics
  if (typeof w !== "object" || w === null || !Array.isArray(w.names) || !Array.isArray(w.values)) {
    throw new CodecError("MetricsLogged data must have `names` and `values` arrays")
  }
  const n = w.values.length
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
  let values = w.values
  if (w.special !== undefined) {
    values = values.slice()
    for (const [i, name] of w.special) {
      const x = specialValue[name]
      if (x === undefined || !(i >= 0 && i < n)) throw new CodecError(`MetricsLogged.special has a bad entry [${i}, ${name}]`)
      ;(values as number[])[i] = x
    }
  }
  return { keys, values, steps: expand(w.steps, n, "steps"), timestamps: expand(w.timestamps, n, "timestamps") }
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
