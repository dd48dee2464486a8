/** A Promise-API tracker on in-memory stores, with the store exposed for inspection. */
import { Layer } from "effect"
import {
  ArtifactStore,
  EventStore,
  Liveness,
  makeMemoryArtifactStore,
  makeMemoryEventStore,
  RunContext,
  UNKNOWN_ENVIRONMENT,
  type EventStoreShape
} from "../../core/src/index.ts"
import {
  makeTrackerClient,
  TrackerLive,
  type TrackerClient
} from "../src/index.ts"

/** The Tracker service on in-memory stores. */
export const memoryLayer = (
  store: EventStoreShape = makeMemoryEventStore(),
  readFile?: (path: string) => Promise<Uint8Array>,
  liveness = Liveness.unknown
) =>
  TrackerLive.pipe(
    Layer.provide(
      Layer.mergeAll(
        Layer.succeed(EventStore, store),
        Layer.succeed(ArtifactStore, makeMemoryArtifactStore(readFile ? { readFile } : {})),
        Layer.succeed(RunContext, RunContext.fixed({ source: { cwd: "/x" }, environment: UNKNOWN_ENVIRONMENT })),
        Layer.succeed(Liveness, liveness)
      )
    )
  )

export const memoryClient = async (
  store: EventStoreShape = makeMemoryEventStore(),
  readFile?: (path: string) => Promise<Uint8Array>,
  liveness = Liveness.unknown
): Promise<{ tracker: TrackerClient; store: EventStoreShape }> => ({ tracker: await makeTrackerClient(memoryLayer(store, readFile, liveness)), store })
