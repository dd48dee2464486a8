/**
 * MetricsLogged: its body (columns of points) and its wire form, as one Schema whose Encoded side
 * is what the log holds. Metric batches are large and JSON cannot hold NaN, +/-Infinity or -0, so
 * the wire form is columnar:
 *   - `names`: the distinct keys; `key`: each point's index into `names` (left out when there is one name)
 *   - `values`: base64 of the values' IEEE-754 doubles (little-endian): every value exact, and far
 *     cheaper to write and read than decimal text (see binary.ts)
 *   - `steps` and `timestamps`: integer columns, compressed: one number when every point shares it,
 *     { from, by } for an arithmetic run, { from, delta } with the differences otherwise, or a
 *     plain array when some value is not a safe integer. (A -0 step or timestamp reads back as 0.)
 */
import { Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { base64ToFloat64s, float64sToBase64 } from "./binary.ts"

/**
 * A column of numbers: a plain array (what callers build) or a Float64Array (what decoding gives:
 * a view on the decoded bytes, no copy, and nothing for the garbage collector to trace).
 */
export type NumberColumn = ReadonlyArray<number> | Float64Array

const isNumberColumn = (u: unknown): u is NumberColumn => {
  if (u instanceof Float64Array) return true
  if (!Array.isArray(u)) return false
  for (let i = 0; i < u.length; i++) if (typeof u[i] !== "number") return false
  return true
}
const isStringColumn = (u: unknown): u is ReadonlyArray<string> => {
  if (!Array.isArray(u)) return false
  for (let i = 0; i < u.length; i++) if (typeof u[i] !== "string") return false
  return true
}
/** Columns are checked with one tight loop each: per-element Schema decoding is too slow for millions of points. */
const NumberColumnSchema = Schema.declare(isNumberColumn, { expected: "an array of numbers" })
const StringColumn = Schema.declare(isStringColumn, { expected: "an array of strings" })
/**
 * The wire's arrays of numbers (`key`, `delta`, a plain column) are checked element by element
 * where they are read anyway (metricsFromWire, decodeIntColumn), not in a loop of their own:
 * decoding a batch walks each column once.
 */
const WireNumbers = Schema.declare((u: unknown): u is ReadonlyArray<number> => Array.isArray(u), { expected: "an array of numbers" })

/** A batch of metric points, columnar: point i is (keys[i], values[i], steps[i], timestamps[i]). */
export const MetricsBatch = Schema.Struct({
  keys: StringColumn,
  values: NumberColumnSchema,
  steps: NumberColumnSchema,
  timestamps: NumberColumnSchema
}).check(
  Schema.makeFilter((b) =>
    b.values.length === b.keys.length && b.steps.length === b.keys.length && b.timestamps.length === b.keys.length
      ? undefined
      : `MetricsLogged columns must have one entry per point: ${b.keys.length} keys, ${b.values.length} values, ${b.steps.length} steps, ${b.timestamps.length} timestamps`
  )
)
export type MetricsBatch = typeof MetricsBatch.Type

const IntColumn = Schema.Union([
  Schema.Finite,
  Schema.Struct({ from: Schema.Finite, by: Schema.Finite }),
  Schema.Struct({ from: Schema.Finite, delta: WireNumbers }),
  WireNumbers
])
type IntColumn = typeof IntColumn.Type

/** The body as the log holds it. */
export const MetricsWire = Schema.Struct({
  names: StringColumn,
  key: Schema.optionalKey(WireNumbers),
  values: Schema.String,
  steps: IntColumn,
  timestamps: IntColumn
})
export type MetricsWire = typeof MetricsWire.Type

/** Throws a RangeError when the column holds NaN or +/-Infinity: JSON would write null, never read back. */
export const encodeIntColumn = (xs: NumberColumn, field = "steps"): IntColumn => {
  const n = xs.length
  const plain = () => {
    for (let i = 0; i < n; i++) if (!Number.isFinite(xs[i])) throw new RangeError(`MetricsLogged.${field} must hold finite numbers, not ${xs[i]} (point ${i})`)
    return Array.from(xs)
  }
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

/** Throws a RangeError naming the column when it does not hold `n` numbers. */
export const decodeIntColumn = (column: IntColumn, n: number, field: string): NumberColumn => {
  const bad = () => new RangeError(`MetricsLogged.${field} is not a column of ${n} numbers`)
  if (typeof column === "number") return new Float64Array(n).fill(column)
  if (Array.isArray(column)) {
    if (column.length !== n) throw bad()
    for (let i = 0; i < n; i++) if (typeof column[i] !== "number") throw bad()
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
  for (let i = 1; i < n; i++) {
    const d: unknown = delta[i - 1]
    if (typeof d !== "number") throw bad()
    out[i] = x += d
  }
  return out
}

export const metricsToWire = (batch: MetricsBatch): MetricsWire => {
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
    steps: encodeIntColumn(batch.steps, "steps"),
    timestamps: encodeIntColumn(batch.timestamps, "timestamps")
  }
}

/** The points of a wire body. Throws a RangeError naming the field that is malformed. */
export const metricsFromWire = (w: MetricsWire): MetricsBatch => {
  let values: Float64Array
  try {
    values = base64ToFloat64s(w.values)
  } catch (e) {
    throw new RangeError(`MetricsLogged.values: ${e instanceof Error ? e.message : String(e)}`)
  }
  const n = values.length
  const names = w.names
  let keys: string[]
  if (w.key === undefined) {
    if (n > 0 && names.length !== 1) throw new RangeError("MetricsLogged without `key` must have exactly one name")
    keys = new Array<string>(n).fill(names[0])
  } else {
    if (w.key.length !== n) throw new RangeError(`MetricsLogged.key must have ${n} entries`)
    keys = new Array<string>(n)
    for (let i = 0; i < n; i++) {
      const at: unknown = w.key[i]
      const k = typeof at === "number" ? names[at] : undefined
      if (typeof k !== "string") throw new RangeError(`MetricsLogged.key[${i}] points outside names`)
      keys[i] = k
    }
  }
  return { keys, values, steps: decodeIntColumn(w.steps, n, "steps"), timestamps: decodeIntColumn(w.timestamps, n, "timestamps") }
}

/** Run a conversion that throws RangeError on bad input, as a Schema transformation step. */
const attempt = <A>(f: () => A): Effect.Effect<A, SchemaIssue.Issue> => {
  try {
    return Effect.succeed(f())
  } catch (e) {
    return Effect.fail(new SchemaIssue.InvalidValue({ message: e instanceof Error ? e.message : String(e) }))
  }
}

/** MetricsLogged: Type is the batch of points, Encoded is the columnar wire form above. */
export const MetricsLogged = MetricsWire.pipe(
  Schema.decodeTo(
    MetricsBatch,
    SchemaTransformation.transformEffect({
      decode: (wire) => attempt(() => metricsFromWire(wire)),
      encode: (batch) => attempt(() => metricsToWire(batch))
    })
  )
)
