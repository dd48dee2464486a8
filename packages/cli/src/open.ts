/**
 * openTracker: the Promise API on the directory store, with provenance captured from this process.
 */
import { FsStoreLayer, type Durability, type Recovery } from "@runledger/adapters-fs"
import { makeTrackerClient, type TrackerClient, TrackerLive } from "@runledger/core"
import { Layer } from "effect"
import { resolve } from "node:path"
import { downloadArtifacts } from "./download.ts"
import { NodeLiveness } from "./liveness.ts"
import { NodeRunContext } from "./provenance.ts"

export interface OpenTrackerOptions {
  /** The store's directory. Default: $RUNLEDGER_DIR, else ./runledger. */
  readonly dir?: string
  /** "fsync" (default): an awaited call resolves once its events are on disk. "os": once the OS has them. */
  readonly durability?: Durability
  /** Told when opening cut off a torn tail left by a crash. Default: a line on stderr. */
  readonly onRecover?: (r: Recovery) => void
}

export const defaultDir = (): string => process.env.RUNLEDGER_DIR || "runledger"

export const trackerLayer = (options: OpenTrackerOptions = {}) =>
  TrackerLive.pipe(
    Layer.provide(
      Layer.mergeAll(
        FsStoreLayer({ dir: resolve(options.dir ?? defaultDir()), durability: options.durability ?? "fsync", ...(options.onRecover ? { onRecover: options.onRecover } : {}) }),
        NodeRunContext,
        NodeLiveness
      )
    )
  )

/** The Promise API, plus what needs the local file system. */
export interface Tracker extends TrackerClient {
  /** Write the exact bytes behind `runs:/<id>/<path>` or `models:/<name>/<version | stage | @alias>` under `dest`; returns the paths written. */
  downloadArtifacts(uri: string, dest: string): Promise<string[]>
}

export const openTracker = async (options: OpenTrackerOptions = {}): Promise<Tracker> => {
  const client = await makeTrackerClient(trackerLayer(options))
  return Object.assign(client, { downloadArtifacts: (uri: string, dest: string) => downloadArtifacts(client, uri, dest) })
}
