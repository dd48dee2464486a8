/**
 * The event model: one Schema per event type, and the envelope every event travels in.
 * This file is the single source of truth for what the log may contain: the table EVENTS
 * below lists every type once, and TypeScript types are derived from the Schemas. Published
 * types never change: evolve one with a new version and an upcaster (`evolve` below).
 */
import { Schema } from "effect"
import { MetricsLogged } from "./metrics-wire.ts"

export const RunStatus = Schema.Literals(["RUNNING", "FINISHED", "FAILED", "KILLED"])
export type RunStatus = typeof RunStatus.Type

/** The statuses a run may end with. */
export const EndStatus = Schema.Literals(["FINISHED", "FAILED", "KILLED"])
export type EndStatus = typeof EndStatus.Type

/** Params keep their JSON type (MLflow stores strings; searches compare them as strings). */
export const ParamValue = Schema.Union([Schema.String, Schema.Finite, Schema.Boolean])
export type ParamValue = typeof ParamValue.Type

const StringMap = Schema.Record(Schema.String, Schema.String)

/** The code version, when the run started inside a git work tree. (Fields in the order the log has always held them.) */
export const Source = Schema.Struct({
  /** The command line that started the process. */
  command: Schema.optionalKey(Schema.Array(Schema.String)),
  cwd: Schema.optionalKey(Schema.String),
  git: Schema.optionalKey(
    Schema.Struct({
      commit: Schema.String,
      branch: Schema.NullOr(Schema.String),
      dirty: Schema.Boolean,
      root: Schema.String
    })
  )
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

/** v1 of ExperimentCreated, as first published. Read through its upcaster in EVENTS. */
export const ExperimentCreatedV1 = Schema.Struct({ experimentId: Schema.String, name: Schema.String })

/** v2 (current): experiments gained tags. */
export const ExperimentCreated = Schema.Struct({ experimentId: Schema.String, name: Schema.String, tags: StringMap })

export const ExperimentRenamed = Schema.Struct({ experimentId: Schema.String, name: Schema.String })
export const ExperimentDeleted = Schema.Struct({ experimentId: Schema.String })
export const ExperimentRestored = Schema.Struct({ experimentId: Schema.String })

/** Tags set on an existing experiment (MLflow's set-experiment-tag): each key takes its new value. */
export const ExperimentTagsSet = Schema.Struct({ experimentId: Schema.String, tags: StringMap })

/** A new experiment that records where it came from and which settings it changes (seed 004). */
export const ExperimentForked = Schema.Struct({
  experimentId: Schema.String,
  name: Schema.String,
  parentExperimentId: Schema.String,
  overrides: Schema.Record(Schema.String, ParamValue),
  tags: StringMap
})

/**
 * Who keeps a RUNNING run alive when it is not the process that writes it. Absent from RunStarted
 * (every log before leases): the process named in the event's meta, judged gone by a pid check.
 * A lease (a remote client's run, held by a server) is renewed by every event of the run and is
 * gone after `ttlMs` without one; `none` (a client that never says it is gone, as MLflow's REST
 * clients) is never judged dead.
 */
export const RunOwner = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("lease"), ttlMs: Schema.Number }),
  Schema.Struct({ kind: Schema.Literal("none") })
])
export type RunOwner = typeof RunOwner.Type

export const RunStarted = Schema.Struct({
  runId: Schema.String,
  experimentId: Schema.String,
  name: Schema.String,
  parentRunId: Schema.NullOr(Schema.String),
  tags: StringMap,
  source: Source,
  environment: Environment,
  /** Last, and only when not the writing process: older records encode to the same bytes. */
  owner: Schema.optionalKey(RunOwner)
})

export const ParamsLogged = Schema.Struct({ params: Schema.Record(Schema.String, ParamValue) })

/** A batch of metric points, columnar; the log holds it in a compact columnar form (metrics-wire.ts). */
export { type MetricsBatch, MetricsLogged, type NumberColumn } from "./metrics-wire.ts"

export const TagsSet = Schema.Struct({ tags: StringMap })
export const TagDeleted = Schema.Struct({ key: Schema.String })

/** The run's name changes (MLflow: setting the tag `mlflow.runName`); written beside that TagsSet. */
export const RunRenamed = Schema.Struct({ name: Schema.String })

/**
 * A dataset the run used (MLflow's runs/log-inputs): what identifies it (name and digest), where
 * it came from (source type and source, as the client describes them), its schema and profile as
 * the client sent them (JSON text, kept verbatim), and the input's tags, such as
 * `mlflow.data.context` ("train", "eval"). One event per dataset; a log-inputs call of several is
 * one append.
 */
export const InputLogged = Schema.Struct({
  name: Schema.String,
  digest: Schema.String,
  sourceType: Schema.String,
  source: Schema.String,
  schema: Schema.optionalKey(Schema.String),
  profile: Schema.optionalKey(Schema.String),
  tags: StringMap
})
export type DatasetInput = typeof InputLogged.Type

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

/** The holder of a leased run is alive and has had nothing else to log (every event renews a lease). */
export const RunHeartbeat = Schema.Struct({})

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

/** A registered model's description, replaced (MLflow's registered-models/update). */
export const ModelDescribed = Schema.Struct({ description: Schema.String })

/** A model version's description, replaced (MLflow's model-versions/update); a version has none until set. */
export const ModelVersionDescribed = Schema.Struct({ version: Schema.Number, description: Schema.String })

/**
 * The registered model is deleted (MLflow's registered-models/delete): its stream keeps every
 * event (the audit), but reads no longer show it or its versions, and `models:/<name>/...` no
 * longer resolves. The name is free again: a later ModelRegistered on the stream starts a new model.
 */
export const ModelDeleted = Schema.Struct({})

/**
 * Renaming a model moves it from stream `model-<from>` to `model-<to>`, two streams the store
 * appends to one at a time; see project/models.ts for the protocol. First this claim goes on the
 * NEW name's stream (decided against it: refused if a model lives there, so two renames racing
 * to one name meet on that stream's expected version). It names the old stream and the version
 * the rename read it at. It makes nothing visible by itself.
 */
export const ModelRenameClaimed = Schema.Struct({ from: Schema.String, fromVersion: Schema.Number })

/**
 * Then this goes on the OLD stream, appended at exactly the claim's `fromVersion`: the rename is
 * done when it lands at `fromVersion + 1`. `toVersion` is the claim's version in the new stream,
 * so each side names the other. Reads then show the model (versions, stages, aliases, tags) under
 * `to`; the old name is free.
 */
export const ModelRenamed = Schema.Struct({ to: Schema.String, toVersion: Schema.Number })

/**
 * `runledger repair` ends a rename interrupted between its two appends: this goes on the old
 * stream at the claim's `fromVersion`, where the ModelRenamed would have gone, so the claim can
 * never take effect and its name is free again. The model stays under its old name, unchanged.
 */
export const ModelRenameAbandoned = Schema.Struct({ to: Schema.String, toVersion: Schema.Number })

export const AliasSet = Schema.Struct({ alias: Schema.String, version: Schema.Number, previous: Schema.NullOr(Schema.Number) })
export const AliasDeleted = Schema.Struct({ alias: Schema.String, version: Schema.Number })

// ---------------------------------------------------------------------------
// The envelope

/** Who and where an event was recorded. (Fields in the order the log has always held them.) */
export const Meta = Schema.Struct({
  host: Schema.optionalKey(Schema.String),
  pid: Schema.optionalKey(Schema.Number),
  actor: Schema.optionalKey(Schema.String)
})
export type Meta = typeof Meta.Type

/**
 * The envelope around a body. Encoding writes the fields in this order, which is the order the
 * log has always held them in: a record decoded and encoded again is the same bytes, so its hash
 * (and every `prev` and chain built on it) does not change.
 */
export const envelope = <const T extends string, D extends Schema.Top>(type: T, data: D) =>
  Schema.Struct({
    /** UUIDv7; appending the same id twice is a no-op. */
    id: Schema.String,
    type: Schema.Literal(type),
    /** Epoch milliseconds when recorded. */
    at: Schema.Number,
    data,
    meta: Schema.optionalKey(Meta),
    /** The body's schema version when above 1 (see EVENTS below). */
    schema: Schema.optionalKey(Schema.Number),
    /** The aggregate: `run-<id>`, `experiments`, `model-<name>`. */
    stream: Schema.String,
    /** Position in the stream: 1, 2, 3, ... */
    version: Schema.Number,
    /** Audit: sha256 of the previous event of this stream as stored (absent on version 1). */
    prev: Schema.optionalKey(Schema.String)
  })
type Envelope<T extends string, D extends Schema.Top> = ReturnType<typeof envelope<T, D>>

// ---------------------------------------------------------------------------
// The table of event types

/** One older version of a body: its Schema, and how a body of that version reads as the next one. */
export interface Upcaster {
  readonly data: Schema.Top
  readonly up: (data: never) => unknown
}

/**
 * An event type: the Schema of its body now, and the versions it had before. Its current schema
 * version is `history.length + 1`; `history[v - 1]` reads a body written under version v.
 */
export interface EventSpec<D extends Schema.Top = Schema.Top> {
  readonly data: D
  readonly history: ReadonlyArray<Upcaster>
}

/** A type as first published (schema version 1). */
export const v1 = <D extends Schema.Top>(data: D): EventSpec<D> => ({ data, history: [] })

/**
 * The next version of a type: its new body Schema and how a body of the version before reads as
 * it. Bytes in the log are never rewritten; old bodies are lifted on every read.
 */
export const evolve = <Old extends Schema.Top, New extends Schema.Top>(
  previous: EventSpec<Old>,
  data: New,
  up: (old: Old["Type"]) => New["Type"]
): EventSpec<New> => ({ data, history: [...previous.history, { data: previous.data, up }] })

/**
 * Every event type, declared once. The Event union, EventType, EVENT_TYPES, CURRENT_SCHEMA and
 * the codec are derived from this table; a new type is one entry here, and the exhaustive
 * switches over types (the DuckDB read model's ingest, `runledger events`' summary, the test
 * arbitraries) then fail to compile until they handle it.
 */
export const EVENTS = {
  // v2 gave experiments tags; an experiment created under v1 has none.
  ExperimentCreated: evolve(v1(ExperimentCreatedV1), ExperimentCreated, (old) => ({ ...old, tags: {} })),
  ExperimentRenamed: v1(ExperimentRenamed),
  ExperimentDeleted: v1(ExperimentDeleted),
  ExperimentRestored: v1(ExperimentRestored),
  ExperimentForked: v1(ExperimentForked),
  ExperimentTagsSet: v1(ExperimentTagsSet),
  RunStarted: v1(RunStarted),
  ParamsLogged: v1(ParamsLogged),
  // v2 added the stepped integer column ({ from, by, each }) and the key index as a count of names
  // taken in turn (metrics-wire.ts): a v1 body is a v2 body, and an older runledger refuses a v2
  // one by its version instead of calling it damaged.
  MetricsLogged: evolve(v1(MetricsLogged), MetricsLogged, (old) => old),
  TagsSet: v1(TagsSet),
  TagDeleted: v1(TagDeleted),
  RunRenamed: v1(RunRenamed),
  ArtifactStored: v1(ArtifactStored),
  InputLogged: v1(InputLogged),
  RunEnded: v1(RunEnded),
  RunDeleted: v1(RunDeleted),
  RunRestored: v1(RunRestored),
  RunResumed: v1(RunResumed),
  RunHeartbeat: v1(RunHeartbeat),
  ModelRegistered: v1(ModelRegistered),
  ModelVersionCreated: v1(ModelVersionCreated),
  StagePromoted: v1(StagePromoted),
  AliasSet: v1(AliasSet),
  AliasDeleted: v1(AliasDeleted),
  ModelDescribed: v1(ModelDescribed),
  ModelVersionDescribed: v1(ModelVersionDescribed),
  ModelDeleted: v1(ModelDeleted),
  ModelRenameClaimed: v1(ModelRenameClaimed),
  ModelRenamed: v1(ModelRenamed),
  ModelRenameAbandoned: v1(ModelRenameAbandoned)
}

export type EventType = keyof typeof EVENTS
export const EVENT_TYPES = Object.keys(EVENTS) as ReadonlyArray<EventType>

/** The envelope Schema of each type. */
type Envelopes = { readonly [T in EventType]: Envelope<T, (typeof EVENTS)[T]["data"]> }
const ENVELOPES = Object.fromEntries(EVENT_TYPES.map((type) => [type, envelope(type, EVENTS[type].data)])) as unknown as Envelopes

/** Any event: the union of the envelopes. Its Encoded side is the JSON the log holds (codec.ts). */
export const Event = Schema.Union(Object.values(ENVELOPES) as ReadonlyArray<Envelopes[EventType]>)
export type Event = typeof Event.Type
export type EventOf<T extends EventType> = Extract<Event, { type: T }>
export type EventData<T extends EventType> = EventOf<T>["data"]

/** An event as handed to `append`: the store assigns stream and version. */
export type NewEvent = Event extends infer E ? (E extends Event ? Omit<E, "stream" | "version"> : never) : never

/** An event as read back: with its position in the whole log (1-based, gap-free per store). */
export type RecordedEvent = Event & { readonly position: number }

/** The current schema version of a type's body. */
export const schemaVersion = (type: EventType): number => EVENTS[type].history.length + 1

/** The current schema version of each body that is past 1 (the only ones whose events carry `schema`). */
export const CURRENT_SCHEMA: Partial<Record<EventType, number>> = Object.fromEntries(
  EVENT_TYPES.filter((type) => schemaVersion(type) > 1).map((type) => [type, schemaVersion(type)])
)

// ---------------------------------------------------------------------------
// Streams

export const EXPERIMENTS_STREAM = "experiments"
export const runStream = (runId: string): string => `run-${runId}`
export const runIdOfStream = (stream: string): string | undefined =>
  stream.startsWith("run-") ? stream.slice(4) : undefined
export const modelStream = (name: string): string => `model-${name}`
export const modelNameOfStream = (stream: string): string | undefined =>
  stream.startsWith("model-") ? stream.slice(6) : undefined
