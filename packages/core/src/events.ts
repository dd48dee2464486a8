/**
 * The event model: one Schema per event type, and the envelope every event travels in.
 * This file is the single source of truth for what the log may contain; TypeScript types
 * are derived from the Schemas. Published types never change: evolve with a new version
 * and an upcaster (see codec.ts).
 */
import { Schema } from "effect"

export const RunStatus = Schema.Literals(["RUNNING", "FINISHED", "FAILED", "KILLED"])
export type RunStatus = typeof RunStatus.Type

/** The statuses a run may end with. */
export const EndStatus = Schema.Literals(["FINISHED", "FAILED", "KILLED"])
export type EndStatus = typeof EndStatus.Type

/** Params keep their JSON type (MLflow stores strings; searches compare them as strings). */
export const ParamValue = Schema.Union([Schema.String, Schema.Finite, Schema.Boolean])
export type ParamValue = typeof ParamValue.Type

const StringMap = Schema.Record(Schema.String, Schema.String)

/** The code version, when the run started inside a git work tree. */
export const Source = Schema.Struct({
  git: Schema.optionalKey(
    Schema.Struct({
      commit: Schema.String,
      branch: Schema.NullOr(Schema.String),
      dirty: Schema.Boolean,
      root: Schema.String
    })
  ),
  /** The command line that started the process. */
  command: Schema.optionalKey(Schema.Array(Schema.String)),
  cwd: Schema.optionalKey(Schema.String)
})
export type Source = typeof Source.Type

export const Environment = Schema.Struct({
  runtime: Schema.String,
  os: Schema.String,
  arch: Schema.String,
  cpu: Schema.String,
  cpus: Schema.Number,
  memoryBytes: Schema.Number,
  host: Schema.String,
  pid: Schema.Number,
  user: Schema.optionalKey(Schema.String)
})
export type Environment = typeof Environment.Type

// ---------------------------------------------------------------------------
// Event bodies

export const ExperimentCreated = Schema.Struct({ experimentId: Schema.String, name: Schema.String })

export const RunStarted = Schema.Struct({
  runId: Schema.String,
  experimentId: Schema.String,
  name: Schema.String,
  parentRunId: Schema.NullOr(Schema.String),
  tags: StringMap,
  source: Source,
  environment: Environment
})

export const ParamsLogged = Schema.Struct({ params: Schema.Record(Schema.String, ParamValue) })

const isNumberColumn = (u: unknown): u is ReadonlyArray<number> => {
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
const NumberColumn = Schema.declare(isNumberColumn, { expected: "an array of numbers" })
const StringColumn = Schema.declare(isStringColumn, { expected: "an array of strings" })

/** A batch of metric points, columnar: point i is (keys[i], values[i], steps[i], timestamps[i]). */
export const MetricsLogged = Schema.Struct({
  keys: StringColumn,
  values: NumberColumn,
  steps: NumberColumn,
  timestamps: NumberColumn
})
export type MetricsBatch = typeof MetricsLogged.Type

export const TagsSet = Schema.Struct({ tags: StringMap })
export const TagDeleted = Schema.Struct({ key: Schema.String })

export const ArtifactStored = Schema.Struct({
  path: Schema.String,
  sha256: Schema.String,
  size: Schema.Number,
  mediaType: Schema.String
})
export type ArtifactRef = typeof ArtifactStored.Type

export const RunEnded = Schema.Struct({
  status: EndStatus,
  error: Schema.optionalKey(Schema.Struct({ message: Schema.String, stack: Schema.optionalKey(Schema.String) }))
})

// ---------------------------------------------------------------------------
// The envelope

/** Who and where an event was recorded. */
export const Meta = Schema.Struct({
  actor: Schema.optionalKey(Schema.String),
  host: Schema.optionalKey(Schema.String),
  pid: Schema.optionalKey(Schema.Number)
})
export type Meta = typeof Meta.Type

const envelope = <const T extends string, D extends Schema.Top>(type: T, data: D) =>
  Schema.Struct({
    /** UUIDv7; appending the same id twice is a no-op. */
    id: Schema.String,
    /** The aggregate: `run-<id>`, `experiments`, `model-<name>`. */
    stream: Schema.String,
    /** Position in the stream: 1, 2, 3, ... */
    version: Schema.Number,
    type: Schema.Literal(type),
    /** Epoch milliseconds when recorded. */
    at: Schema.Number,
    data,
    meta: Schema.optionalKey(Meta)
  })

export const Event = Schema.Union([
  envelope("ExperimentCreated", ExperimentCreated),
  envelope("RunStarted", RunStarted),
  envelope("ParamsLogged", ParamsLogged),
  envelope("MetricsLogged", MetricsLogged),
  envelope("TagsSet", TagsSet),
  envelope("TagDeleted", TagDeleted),
  envelope("ArtifactStored", ArtifactStored),
  envelope("RunEnded", RunEnded)
])
export type Event = typeof Event.Type
export type EventType = Event["type"]
export type EventOf<T extends EventType> = Extract<Event, { type: T }>
export type EventData<T extends EventType> = EventOf<T>["data"]

/** An event as handed to `append`: the store assigns stream and version. */
export type NewEvent = Event extends infer E ? (E extends Event ? Omit<E, "stream" | "version"> : never) : never

/** An event as read back: with its position in the whole log (1-based, gap-free per store). */
export type RecordedEvent = Event & { readonly position: number }

export const EVENT_TYPES: ReadonlyArray<EventType> = [
  "ExperimentCreated",
  "RunStarted",
  "ParamsLogged",
  "MetricsLogged",
  "TagsSet",
  "TagDeleted",
  "ArtifactStored",
  "RunEnded"
]

// ---------------------------------------------------------------------------
// Streams

export const EXPERIMENTS_STREAM = "experiments"
export const runStream = (runId: string): string => `run-${runId}`
export const runIdOfStream = (stream: string): string | undefined =>
  stream.startsWith("run-") ? stream.slice(4) : undefined
