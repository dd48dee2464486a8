/**
 * Effect layers: the directory store as the EventStore and ArtifactStore ports.
 */
import { ArtifactStore, EventStore, NotFound, StorageError, type StoreCorrupted, type TrackerError } from "@runledger/core"
import { eventStoreOf, passTagged, toStoreError } from "@runledger/core/store-kit"
import { Context, Effect, Layer } from "effect"
import { FsArtifactStore } from "./artifact-store.ts"
import { type EventLogOptions, FsEventLog } from "./event-log.ts"

export const fsEventStore = (log: FsEventLog) => EventStore.of(eventStoreOf(log))

export const fsArtifactStore = (store: FsArtifactStore) =>
  ArtifactStore.of({
    put: (bytes) => Effect.tryPromise({ try: () => store.put(bytes), catch: toStoreError("Storing an artifact") as (e: unknown) => StorageError }),
    putFile: (path) =>
      Effect.tryPromise({ try: () => store.putFile(path), catch: passTagged<NotFound | StorageError>(`Storing ${path}`) }),
    get: (sha256) => Effect.tryPromise({ try: () => store.get(sha256), catch: passTagged<NotFound | StorageError | StoreCorrupted>(`Reading artifact ${sha256}`) })
  })

/** Open the log for the layer's lifetime; closing the layer closes the files. */
export const openEventLog = (options: EventLogOptions) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => FsEventLog.open(options), catch: toStoreError(`Opening the store in ${options.dir}`) }),
    (log) => Effect.promise(() => log.close())
  )

/** The EventStore and ArtifactStore of one directory. */
export const FsStoreLayer = (options: EventLogOptions): Layer.Layer<EventStore | ArtifactStore, TrackerError> =>
  Layer.effectContext(
    Effect.gen(function*() {
      const log = yield* openEventLog(options)
      const artifacts = new FsArtifactStore(options.dir, (options.durability ?? "fsync") === "fsync")
      return Context.make(EventStore, fsEventStore(log)).pipe(Context.add(ArtifactStore, fsArtifactStore(artifacts)))
    })
  )
