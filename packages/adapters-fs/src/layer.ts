/**
 * Effect layers: the directory store as the EventStore and ArtifactStore ports.
 */
import { ArtifactStore, EventStore, NotFound, type RecordedEvent, StorageError, StoreCorrupted, type TrackerError } from "@runledger/core"
import { Context, Effect, Layer, Stream } from "effect"
import { FsArtifactStore } from "./artifact-store.ts"
import { type EventLogOptions, FsEventLog } from "./event-log.ts"

/** Errors the log throws on purpose pass through; anything else is a storage failure. */
const toStoreError = (what: string) => (e: unknown): StorageError | StoreCorrupted =>
  e instanceof StoreCorrupted || e instanceof StorageError
    ? e
    : new StorageError({ message: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

const passThrough = <E>(what: string) => (e: unknown): E =>
  (typeof e === "object" && e !== null && "_tag" in e ? e : toStoreError(what)(e)) as E

export const fsEventStore = (log: FsEventLog) =>
  EventStore.of({
    append: (stream, events, expected) =>
      Effect.tryPromise({ try: () => log.append(stream, events, expected), catch: passThrough(`Appending to ${log.file}`) }),
    readStream: (stream) => Effect.tryPromise({ try: () => log.readStream(stream), catch: toStoreError(`Reading ${log.file}`) }),
    // Suspended: each run of the stream reads the log afresh (a generator can be consumed once).
    readAll: (from) =>
      Stream.suspend(() =>
        Stream.fromAsyncIterable<RecordedEvent[], StorageError | StoreCorrupted>(log.readAll(from), toStoreError(`Reading ${log.file}`))
      ).pipe(Stream.flattenIterable),
    head: Effect.tryPromise({ try: () => log.head(), catch: toStoreError(`Reading ${log.file}`) })
  })

export const fsArtifactStore = (store: FsArtifactStore) =>
  ArtifactStore.of({
    put: (bytes) => Effect.tryPromise({ try: () => store.put(bytes), catch: toStoreError("Storing an artifact") as (e: unknown) => StorageError }),
    putFile: (path) =>
      Effect.tryPromise({ try: () => store.putFile(path), catch: passThrough<NotFound | StorageError>(`Storing ${path}`) }),
    get: (sha256) => Effect.tryPromise({ try: () => store.get(sha256), catch: passThrough<NotFound | StorageError>(`Reading artifact ${sha256}`) })
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
