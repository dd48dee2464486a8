/**
 * The DuckDB event store as core's EventStore port, and an Effect layer that opens it for the
 * layer's lifetime.
 */
import { EventStore, type EventStoreShape, type RecordedEvent, StorageError, StoreCorrupted } from "@runledger/core"
import { Effect, Layer, Stream } from "effect"
import { DuckDBEventStore, type DuckDBEventStoreOptions } from "./event-store.ts"

/** Errors the store raises on purpose pass through; anything else is a storage failure. */
const toStoreError = (what: string) => (e: unknown): StorageError | StoreCorrupted =>
  e instanceof StoreCorrupted || e instanceof StorageError
    ? e
    : new StorageError({ message: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

/** Tagged errors (ConcurrencyConflict included) pass through as they are. */
const passThrough = <E>(what: string) => (e: unknown): E =>
  (typeof e === "object" && e !== null && "_tag" in e ? e : toStoreError(what)(e)) as E

export const duckdbEventStore = (store: DuckDBEventStore): EventStoreShape =>
  EventStore.of({
    append: (stream, events, expected) =>
      Effect.tryPromise({ try: () => store.append(stream, events, expected), catch: passThrough(`Appending to ${store.file}`) }),
    readStream: (stream) => Effect.tryPromise({ try: () => store.readStream(stream), catch: toStoreError(`Reading ${store.file}`) }),
    readAll: (from) =>
      Stream.suspend(() =>
        Stream.fromAsyncIterable<RecordedEvent[], StorageError | StoreCorrupted>(store.readAll(from), toStoreError(`Reading ${store.file}`))
      ).pipe(Stream.flattenIterable),
    head: Effect.tryPromise({ try: () => store.head(), catch: toStoreError(`Reading ${store.file}`) })
  })

/** Open the store for the scope's lifetime; closing the scope closes the file. */
export const openDuckDBEventStore = (options: DuckDBEventStoreOptions) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => DuckDBEventStore.open(options), catch: toStoreError(`Opening the event store ${options.file}`) }),
    (store) => Effect.promise(() => store.close())
  )

/** The EventStore of one DuckDB file (artifacts still need an ArtifactStore, e.g. the directory one). */
export const DuckDBStoreLayer = (options: DuckDBEventStoreOptions): Layer.Layer<EventStore, StorageError | StoreCorrupted> =>
  Layer.effect(EventStore, Effect.map(openDuckDBEventStore(options), duckdbEventStore))
