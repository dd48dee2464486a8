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

/** v1 of ExperimentCreated, as first published. Read through the upcaster in codec.ts. */
export const ExperimentCreatedV1 = Schema.Struct({ experimentId: Schema.String, name: Schema.String })

/** v2 (current): experiments gained tags. */
export const ExperimentCreated = Schema.Struct({ experimentId: Schema.String, name: Schema.String, tags: StringMap })

export const ExperimentRenamed = Schema.Struct({ experimentId: Schema.String, name: Schema.String })
export const ExperimentDeleted = Schema.Struct({ experimentId: Schema.String })
export const ExperimentRestored = Schema.Struct({ experimentId: Schema.String })

/** A new experiment that records where it came from and which settings it changes (seed 004). */
export const ExperimentForked = Schema.Struct({
  experimentId: Schema.String,
  name: Schema.String,
  parentExperimentId: Schema.String,
  overrides: Schema.Record(Schema.String, ParamValue),
  tags: StringMap
})

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

/** A batch of metric points, columnar: point i is (keys[i], values[i], steps[i], timestamps[i]). */
export const MetricsLogged = Schema.Struct({
  keys: StringColumn,
  values: NumberColumnSchema,
  steps: NumberColumnSchema,
  timestamps: NumberColumnSchema
})
export type MetricsBatch = typeof MetricsLogged.Type

export const TagsSet = Schema.Struct({ tags: StringMap })
export const TagDeleted = Schema.Struct({ key: Schema.String })

/** The run's name changes (MLflow: setting the tag `mlflow.runName`); written beside that TagsSet. */
export const RunRenamed = Schema.Struct({ name: Schema.String })

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

export const RunDeleted = Schema.Struct({})
export const RunRestored = Schema.Struct({})

/**
 * The run goes on from `fromStep`: projections take new points for steps >= fromStep and set the
 * older points at those steps aside; the log keeps them (W&B silently drops them).
 */
export const RunResumed = Schema.Struct({ fromStep: Schema.Number })

// ---------------------------------------------------------------------------
// Model registry (stream `model-<name>`)

export const Stage = Schema.Literals(["None", "Staging", "Production", "Archived"])
export type Stage = typeof Stage.Type
export const STAGES: ReadonlyArray<Stage> = ["None", "Staging", "Production", "Archived"]

export const ModelRegistered = Schema.Struct({ name: Schema.String, description: Schema.String, tags: StringMap })

export const ModelVersionCreated = Schema.Struct({
  version: Schema.Number,
  runId: Schema.String,
  /** The run's artifact path: one file, or a folder of files. */
  artifactPath: Schema.String
})

export const StagePromoted = Schema.Struct({
  version: Schema.Number,
  from: Stage,
  to: Stage,
  /** Versions that held the target stage and were moved to Archived in the same event. */
  archived: Schema.Array(Schema.Struct({ version: Schema.Number, from: Stage }))
})

export const AliasSet = Schema.Struct({ alias: Schema.String, version: Schema.Number, previous: Schema.NullOr(Schema.Number) })
export const AliasDeleted = Schema.Struct({ alias: Schema.String, version: Schema.Number })

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
    meta: Schema.optionalKey(Meta),
    /** The body's schema version when above 1 (see the upcasters in codec.ts). */
    schema: Schema.optionalKey(Schema.Number),
    /** Audit: sha256 of the previous event of this stream as stored (absent on version 1). */
    prev: Schema.optionalKey(Schema.String)
  })

export const Event = Schema.Union([
  envelope("ExperimentCreated", ExperimentCreated),
  envelope("ExperimentRenamed", ExperimentRenamed),
  envelope("ExperimentDeleted", ExperimentDeleted),
  envelope("ExperimentRestored", ExperimentRestored),
  envelope("ExperimentForked", ExperimentForked),
  envelope("RunStarted", RunStarted),
  envelope("ParamsLogged", ParamsLogged),
  envelope("MetricsLogged", MetricsLogged),
  envelope("TagsSet", TagsSet),
  envelope("TagDeleted", TagDeleted),
  envelope("RunRenamed", RunRenamed),
  envelope("ArtifactStored", ArtifactStored),
  envelope("RunEnded", RunEnded),
  envelope("RunDeleted", RunDeleted),
  envelope("RunRestored", RunRestored),
  envelope("RunResumed", RunResumed),
  envelope("ModelRegistered", ModelRegistered),
  envelope("ModelVersionCreated", ModelVersionCreated),
  envelope("StagePromoted", StagePromoted),
  envelope("AliasSet", AliasSet),
  envelope("AliasDeleted", AliasDeleted)
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
  "ExperimentRenamed",
  "ExperimentDeleted",
  "ExperimentRestored",
  "ExperimentForked",
  "RunStarted",
  "ParamsLogged",
  "MetricsLogged",
  "TagsSet",
  "TagDeleted",
  "RunRenamed",
  "ArtifactStored",
  "RunEnded",
  "RunDeleted",
  "RunRestored",
  "RunResumed",
  "ModelRegistered",
  "ModelVersionCreated",
  "StagePromoted",
  "AliasSet",
  "AliasDeleted"
]

/** The current schema version of each body; 1 unless listed. */
export const CURRENT_SCHEMA: Partial<Record<EventType, number>> = { ExperimentCreated: 2 }

// ---------------------------------------------------------------------------
// Streams

export const EXPERIMENTS_STREAM = "experiments"
export const runStream = (runId: string): string => `run-${runId}`
export const runIdOfStream = (stream: string): string | undefined =>
  stream.startsWith("run-") ? stream.slice(4) : undefined
export const modelStream = (name: string): string => `model-${name}`
export const modelNameOfStream = (stream: string): string | undefined =>
  stream.startsWith("model-") ? stream.slice(6) : undefined
