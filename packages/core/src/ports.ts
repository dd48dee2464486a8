/**
 * Ports: what the tracker needs from the outside world (stores, provenance, liveness, time and
 * ids). Adapters implement them
 * (memory.ts here; store-fs, store-duckdb). The contracts are checked by the
 * shared store conformance suite in test/.
 */
import { Context, Effect, type Stream } from "effect"
import type { ConcurrencyConflict, NotFound, StorageError, StoreCorrupted } from "./errors.ts"
import type { Environment, NewEvent, RecordedEvent, Source } from "./events.ts"
import { newId, uuidv7 } from "./ids.ts"

/** `any` appends whatever the stream's version; a number must equal it (0: the stream must not exist yet). */
export type ExpectedVersion = number | "any"

export interface AppendResult {
  /** The stream's version after the append. */
  readonly version: number
  /** The log position of the last event appended (or of the existing events, for a repeated append). */
  readonly position: number
}

export type StoreError = StorageError | StoreCorrupted

export interface EventStoreShape {
  /**
   * Append events to one stream, atomically: all or none. Resolves once durable under the store's
   * policy. A stale expected version fails with ConcurrencyConflict; appending event ids that the
   * stream already ends with is a no-op (idempotent retries).
   */
  readonly append: (
    stream: string,
    events: ReadonlyArray<NewEvent>,
    expectedVersion: ExpectedVersion
  ) => Effect.Effect<AppendResult, ConcurrencyConflict | StoreError>
  /** Every event of one stream, in version order (empty when the stream does not exist). */
  readonly readStream: (stream: string) => Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError>
  /** Every event with a position greater than `fromPosition` (default 0), in log order. */
  readonly readAll: (fromPosition?: number) => Stream.Stream<RecordedEvent, StoreError>
  /** The position of the last event in the log (0 when empty). */
  readonly head: Effect.Effect<number, StoreError>
}

export class EventStore extends Context.Service<EventStore, EventStoreShape>()("runledger/EventStore") {}

export interface StoredBlob {
  readonly sha256: string
  readonly size: number
}

export interface ArtifactStoreShape {
  /** Store bytes by content; the same bytes twice are stored once. */
  readonly put: (bytes: Uint8Array) => Effect.Effect<StoredBlob, StorageError>
  /** Store a local file by content, without holding it all in memory where the adapter can. */
  readonly putFile: (localPath: string) => Effect.Effect<StoredBlob, NotFound | StorageError>
  /** The bytes stored as `sha256`; bytes that no longer hash to it (altered on disk) fail with StoreCorrupted, never served. */
  readonly get: (sha256: string) => Effect.Effect<Uint8Array, NotFound | StorageError | StoreCorrupted>
}

export class ArtifactStore extends Context.Service<ArtifactStore, ArtifactStoreShape>()("runledger/ArtifactStore") {}

export interface Provenance {
  readonly source: Source
  readonly environment: Environment
}

/** Captures the code version and environment at run start (git, runtime, OS, CPU, host, command line). */
export class RunContext extends Context.Service<RunContext, { readonly capture: Effect.Effect<Provenance> }>()(
  "runledger/RunContext"
) {
  /** A fixed context, for tests and for embedding where there is nothing to capture. */
  static fixed(p: Provenance) {
    return RunContext.of({ capture: Effect.succeed(p) })
  }
}

export const UNKNOWN_ENVIRONMENT: Environment = {
  runtime: "unknown",
  os: "unknown",
  arch: "unknown",
  cpu: "unknown",
  cpus: 0,
  memoryBytes: 0,
  host: "unknown",
  pid: 0
}

/**
 * Whether the process that owns a RUNNING run is gone, so reads show the run as KILLED instead of
 * RUNNING forever (without writing: `runledger repair` records it). `since` is when the process
 * took the run: a live pid that started later is a reused pid, so the owner is gone.
 */
export class Liveness extends Context.Service<Liveness, {
  readonly isGone: (owner: { readonly host: string; readonly pid: number; readonly since: number }) => boolean
}>()("runledger/Liveness") {
  /** Never judges a process gone: for tests and for embedding where processes cannot be probed. */
  static readonly unknown = Liveness.of({ isGone: () => false })
}

export interface ClockShape {
  /** Epoch milliseconds. */
  readonly now: () => number
}

/**
 * Where the tracker and its run handles take the time from (event times, default metric
 * timestamps). A Reference, so the system clock is there without being provided; a test
 * provides a fixed one to know every time stamped.
 */
export const Clock = Context.Reference<ClockShape>("runledger/Clock", { defaultValue: () => ({ now: () => Date.now() }) })

export interface IdsShape {
  /** An event id, ordered by `at` (UUIDv7 by default). */
  readonly eventId: (at: number) => string
  /** A run or experiment id. */
  readonly newId: () => string
}

/** Where the tracker takes ids from; random ones by default, fixed ones in a test. */
export const Ids = Context.Reference<IdsShape>("runledger/Ids", { defaultValue: () => ({ eventId: uuidv7, newId }) })
