/**
 * The DuckDB event store as core's EventStore port, and an Effect layer that opens it for the
 * layer's lifetime.
 */
import { EventStore, type EventStoreShape, type StorageError, type StoreCorrupted } from "@runledger/core"
import { eventStoreOf, toStoreError } from "@runledger/core/store-kit"
import { Effect, Layer } from "effect"
import { DuckDBEventStore, type DuckDBEventStoreOptions } from "./event-store.ts"

/** The store as the EventStore port (errors it raises on purpose keep their tag). */
export const duckdbEventStore = (store: DuckDBEventStore): EventStoreShape => EventStore.of(eventStoreOf(store))

/** Open the store for the scope's lifetime; closing the scope closes the file. */
export const openDuckDBEventStore = (options: DuckDBEventStoreOptions) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => DuckDBEventStore.open(options), catch: toStoreError(`Opening the event store ${options.file}`) }),
    (store) => Effect.promise(() => store.close())
  )

/** The EventStore of one DuckDB file (artifacts still need an ArtifactStore, e.g. the directory one). */
export const DuckDBStoreLayer = (options: DuckDBEventStoreOptions): Layer.Layer<EventStore, StorageError | StoreCorrupted> =>
  Layer.effect(EventStore, Effect.map(openDuckDBEventStore(options), duckdbEventStore))
