/**
 * MetricsLogged: its body (columns of points) and its wire form, as one Schema whose Encoded side
 * is what the log holds. Metric batches are large and JSON cannot hold NaN, +/-Infinity or -0, so
 * the wire form is columnar:
 *   - `names`: the distinct keys; `key`: each point's index into `names` (left out when there is one
 *     name), or, since schema version 2, the number of names when the points take them in turn
 *     (point i has name i % names.length: every key of a step, step after step)
 *   - `values`: base64 of the values' IEEE-754 doubles (little-endian): every value exact, and far
 *     cheaper to write and read than decimal text (see binary.ts)
 *   - `steps` and `timestamps`: integer columns, compressed: one number when every point shares it,
 *     { from, by } for an arithmetic run, { from, by, each } (version 2) when each value is held by
 *     `each` points in a row and the next value is `by` more (every key of a step, step after step:
 *     the shape of a training loop's batch, a few bytes however many points), { from, delta } with
 *     the differences otherwise, or a plain array when some value is not a safe integer. (A -0
 *     step or timestamp reads back as 0.)
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
  // `each` is checked where it is read (decodeIntColumn), so that a malformed one is refused, never dropped.
  Schema.Struct({ from: Schema.Finite, by: Schema.Finite, each: Schema.optionalKey(Schema.Unknown) }),
  Schema.Struct({ from: Schema.Finite, delta: WireNumbers }),
  WireNumbers
])
type IntColumn = typeof IntColumn.Type

/** The body as the log holds it. */
export const MetricsWire = Schema.Struct({
  names: StringColumn,
  key: Schema.optionalKey(Schema.Union([WireNumbers, Schema.Number])),
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
  let each = 1
  while (each < n && xs[each] === first) each++
  if (each === n) return first
  if (each > 1) {
    const stepped = steppedBy(xs, each)
    if (stepped !== undefined) return { from: first, by: stepped, each }
  }
  const by = xs[1] - xs[0]
  let arithmetic = true
  for (let i = 1; i < n; i++) {
    const d = xs[i] - xs[i - 1]
    if (!Number.isSafeInteger(xs[i]) || !Number.isSafeInteger(d)) return plain()
    if (d !== by) arithmetic = false
  }
  if (arithmetic) return { from: first, by }
  const delta = new Array<number>(n - 1)
  for (let i = 1; i < n; i++) delta[i - 1] = xs[i] - xs[i - 1]
  return { from: first, delta }
}

/**
 * The `by` of a column whose values each fill `each` points in a row (the last run may be
 * shorter), each `by` more than the one before, all safe integers; undefined when it is not one.
 * The values are rebuilt by the additions decodeIntColumn makes, so what is checked is what reads back.
 */
const steppedBy = (xs: NumberColumn, each: number): number | undefined => {
  const n = xs.length
  const by = xs[each] - xs[0]
  if (!Number.isSafeInteger(by)) return undefined
  let x = xs[0]
  for (let i = each; i < n; i += each) {
    x += by
    if (!Number.isSafeInteger(x)) return undefined
    const end = Math.min(i + each, n)
    for (let j = i; j < end; j++) if (xs[j] !== x) return undefined
  }
  return by
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
  // { from, by } (with or without `each`) when `by` is a number, else { from, delta }: the order
  // the IntColumn union tries them in.
  const by = (column as { by?: unknown }).by
  if (typeof by === "number") {
    if (!("each" in column)) {
      for (let i = 1; i < n; i++) out[i] = x += by
      return out
    }
    const each: unknown = (column as { each?: unknown }).each
    if (typeof each !== "number" || !Number.isSafeInteger(each) || each < 1) throw new RangeError(`MetricsLogged.${field}.each must be a whole number of points >= 1`)
    for (let i = 1; i < n; i++) out[i] = i % each === 0 ? (x += by) : x
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
  const checked = built.get(batch)
  if (checked !== undefined) return wireOf(batch, checked.names, checked.key)
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
  return wireOf(batch, names, names.length > 1 ? key : undefined)
}

const wireOf = (batch: MetricsBatch, names: ReadonlyArray<string>, key: ReadonlyArray<number> | undefined): MetricsWire => ({
  names,
  ...(key ? { key: takingTurns(key, names.length) ? names.length : key } : {}),
  values: float64sToBase64(batch.values),
  steps: encodeIntColumn(batch.steps, "steps"),
  timestamps: encodeIntColumn(batch.timestamps, "timestamps")
})

/** Whether point i has name i % m throughout: the names taken in turn, as a training loop logs a step's keys. */
const takingTurns = (key: ReadonlyArray<number>, m: number): boolean => {
  for (let i = 0, at = 0; i < key.length; i++) {
    if (key[i] !== at) return false
    if (++at === m) at = 0
  }
  return true
}

/**
 * The JSON text of a wire body, exactly as JSON.stringify writes it (same keys, same order), put
 * together from its parts: the values are base64, which needs no escaping, so the longest part
 * is not scanned for characters to escape nor copied into a second string (the codec's fast path
 * for a batch MetricColumns built; a test holds it to JSON.stringify).
 */
export const wireJson = (w: MetricsWire): string =>
  `{"names":${JSON.stringify(w.names)}${w.key === undefined ? "" : `,"key":${JSON.stringify(w.key)}`},"values":"${w.values}","steps":${JSON.stringify(w.steps)},"timestamps":${JSON.stringify(w.timestamps)}}`

/** The wire's key index of a batch that MetricColumns built: its distinct names, and each point's index (none with one name). */
interface Built {
  readonly names: ReadonlyArray<string>
  readonly key: ReadonlyArray<number> | undefined
}

/** Batches MetricColumns built and finished, with their key index: only that class adds to it. */
const built = new WeakMap<MetricsBatch, Built>()

/**
 * The wire body of a batch MetricColumns built, without checking its columns again (its builder
 * checked every point as it took it, and nothing changes a finished batch); undefined for any
 * other batch, which the Schema checks as usual.
 */
export const builtMetricsWire = (batch: unknown): MetricsWire | undefined => {
  if (typeof batch !== "object" || batch === null) return undefined
  const checked = built.get(batch as MetricsBatch)
  return checked === undefined ? undefined : wireOf(batch as MetricsBatch, checked.names, checked.key)
}

/**
 * A growing batch of points, laid out as the wire holds them as the points arrive: the distinct
 * names with each point's index among them, and the values, steps and timestamps as typed
 * columns. The run session (run-session.ts) checks every point before it pushes it, so the
 * finished batch is encoded without walking its columns again, and without re-deriving its
 * names. Only the session pushes: the class checks nothing itself.
 */
/** The most slots `MetricColumns` makes its plain arrays with up front; past it they grow by `push`. */
const PRESIZE_MAX = 8192

export class MetricColumns {
  private readonly names: string[] = []
  private readonly index = new Map<string, number>()
  /** Each point's index into `names`; null while every point has the first name (the wire then leaves it out). */
  private key: number[] | null = null
  /**
   * Each point's name. Sized to the capacity asked for up front, as `key` is once made, and cut
   * to the points pushed at `finish`: grown by `push` from empty, the two arrays were copied about
   * ten times per batch of MLflow's size, most of a batch's garbage.
   */
  private readonly keys: string[]
  private values: Float64Array
  private steps: Float64Array
  private timestamps: Float64Array
  /** Per name, the largest step pushed (what a run's next default step follows). */
  private readonly maxSteps: number[] = []
  private lastName: string | undefined = undefined
  private lastAt = 0
  length = 0

  constructor(capacity = 64) {
    ;[this.values, this.steps, this.timestamps] = MetricColumns.columns(capacity)
    // Capped: V8 gives an array made larger than about 16k slots slow (dictionary) elements.
    this.keys = new Array<string>(Math.min(capacity, PRESIZE_MAX))
  }

  /**
   * Three columns of `capacity` in one allocation: a batch of MLflow's size is built per request,
   * and each typed array is memory outside the heap, whose allocation and release the garbage
   * collector tracks one by one.
   */
  private static columns(capacity: number): [Float64Array, Float64Array, Float64Array] {
    const all = new Float64Array(capacity * 3)
    return [all.subarray(0, capacity), all.subarray(capacity, capacity * 2), all.subarray(capacity * 2)]
  }

  /** Room for `extra` more points without growing mid-batch. */
  reserve(extra: number): void {
    const need = this.length + extra
    if (need <= this.values.length) return
    let cap = Math.max(this.values.length * 2, 64)
    while (cap < need) cap *= 2
    const [values, steps, timestamps] = MetricColumns.columns(cap)
    values.set(this.values.subarray(0, this.length))
    steps.set(this.steps.subarray(0, this.length))
    timestamps.set(this.timestamps.subarray(0, this.length))
    this.values = values
    this.steps = steps
    this.timestamps = timestamps
  }

  /** Append one checked point. */
  push(name: string, value: number, step: number, timestamp: number): void {
    const i = this.length
    if (i === this.values.length) this.reserve(1)
    let at = this.lastAt
    if (name !== this.lastName) {
      let found = this.find(name)
      if (found < 0) {
        found = this.names.length
        this.index.set(name, found)
        this.names.push(name)
        this.maxSteps.push(step)
      }
      at = found
      this.lastName = name
      this.lastAt = at
    }
    const key = this.key
    if (key !== null) {
      if (i < key.length) key[i] = at
      else key.push(at)
    } else if (at !== 0) {
      this.key = new Array<number>(Math.max(this.keys.length, i + 1)).fill(0, 0, i)
      this.key[i] = at
    }
    if (i < this.keys.length) this.keys[i] = name
    else this.keys.push(name)
    if (step > this.maxSteps[at]) this.maxSteps[at] = step
    this.values[i] = value
    this.steps[i] = step
    this.timestamps[i] = timestamp
    this.length = i + 1
  }

  /**
   * A name's index, or -1. A batch usually has a few names taking turns point by point (MLflow's
   * log-batch: every key of a step, step after step): comparing against a handful of names costs
   * less than hashing the name into the map each time.
   */
  private find(name: string): number {
    const names = this.names
    if (names.length <= 8) {
      for (let j = 0; j < names.length; j++) if (names[j] === name) return j
      return -1
    }
    return this.index.get(name) ?? -1
  }

  /** Append every point of another builder (already checked, as every pushed point is). */
  pushAll(other: MetricColumns): void {
    this.reserve(other.length)
    for (let i = 0; i < other.length; i++) this.push(other.keys[i], other.values[i], other.steps[i], other.timestamps[i])
  }

  /** Each name with the largest step pushed for it. */
  forEachMaxStep(f: (name: string, step: number) => void): void {
    for (let i = 0; i < this.names.length; i++) f(this.names[i], this.maxSteps[i])
  }

  /** The batch as every reader takes it; the builder is spent after this (it shares its arrays with the batch). */
  finish(): MetricsBatch {
    const n = this.length
    if (this.keys.length > n) this.keys.length = n
    if (this.key !== null && this.key.length > n) this.key.length = n
    const batch: MetricsBatch = {
      keys: this.keys,
      values: this.values.subarray(0, n),
      steps: this.steps.subarray(0, n),
      timestamps: this.timestamps.subarray(0, n)
    }
    built.set(batch, { names: this.names, key: this.key ?? undefined })
    return batch
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
  } else if (typeof w.key === "number") {
    if (w.key !== names.length || names.length < 2) throw new RangeError(`MetricsLogged.key, a number, must be the number of names (${names.length}), and there must be two or more`)
    keys = new Array<string>(n)
    for (let i = 0, at = 0; i < n; i++) {
      keys[i] = names[at]
      if (++at === w.key) at = 0
    }
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

const isFiniteNumber = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

/** Whether `u` has the shape of an IntColumn (its array elements are checked where they are read, in decodeIntColumn). */
const isIntColumn = (u: unknown): boolean => {
  if (typeof u === "number") return Number.isFinite(u)
  if (Array.isArray(u)) return true
  if (typeof u !== "object" || u === null) return false
  const c = u as { from?: unknown; by?: unknown; delta?: unknown }
  if (!isFiniteNumber(c.from)) return false
  return isFiniteNumber(c.by) || Array.isArray(c.delta)
}

/**
 * The points of a wire body as JSON.parse gave it, checked as the MetricsLogged Schema checks it
 * (the shape of MetricsWire, then every column while metricsFromWire reads it), without the
 * Schema's machinery: a replay of a log of many small runs decodes one batch per run, and the
 * Schema's walk over the wire object cost several times the reading of its columns. The codec
 * uses it for the current MetricsLogged (codec.ts); a property test holds it to the Schema's
 * answer on good and malformed bodies alike. Throws a RangeError saying what is malformed.
 */
export const metricsFromWireValue = (u: unknown): MetricsBatch => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) throw new RangeError("MetricsLogged.data must be an object")
  const w = u as { names?: unknown; key?: unknown; values?: unknown; steps?: unknown; timestamps?: unknown }
  if (!isStringColumn(w.names)) throw new RangeError("MetricsLogged.names must be an array of strings")
  if ("key" in w && !Array.isArray(w.key) && typeof w.key !== "number") throw new RangeError("MetricsLogged.key must be an array of numbers, or the number of names")
  if (typeof w.values !== "string") throw new RangeError("MetricsLogged.values must be a string (base64)")
  if (!isIntColumn(w.steps)) throw new RangeError("MetricsLogged.steps must be a number, { from, by }, { from, delta } or an array")
  if (!isIntColumn(w.timestamps)) throw new RangeError("MetricsLogged.timestamps must be a number, { from, by }, { from, delta } or an array")
  return metricsFromWire(w as MetricsWire)
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
