/**
 * Which store a URI names, and opening it: the one place a store adapter is wired in.
 *
 * - a directory path, or a `file:` URL: the directory store (events.log, artifacts/, readmodel.duckdb);
 * - `duckdb:<path>`: the events in that DuckDB file; its artifacts and read model in the directory
 *   `<path>.d` beside it (a DuckDB file holds one database, and the read model is another one).
 *
 * A new adapter (postgres:, or http(s): for a server) is one more case in `parseStoreUri` and
 * `openStore`: it hands back the EventStore port, an ArtifactStore, and a batch reader over the
 * same store for the read model's catch-up.
 */
import type { BatchReader } from "@runledger/readmodel-duckdb"
import { type Durability, FsArtifactStore, fsArtifactStore, FsEventLog, fsEventStore, type Recovery } from "@runledger/store-fs"
import { type ArtifactStoreShape, type EventStoreShape, invalid, type InvalidInput } from "@runledger/core"
import { defaultSpoolDir } from "@runledger/store-http"
import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"

export type StoreLocation =
  | { readonly kind: "fs"; readonly uri: string; readonly dir: string }
  /** A runledger server; `dir` is the local spool (appends wait there while the server is unreachable). */
  | { readonly kind: "http"; readonly uri: string; readonly url: string; readonly dir: string }
  | { readonly kind: "duckdb"; readonly uri: string; readonly file: string; readonly dir: string }

export const SUPPORTED_STORES = "a directory path, a file: URL (file:///path/to/store), duckdb:<path to a .duckdb file> or a server's http(s)://host:port"

// Two letters at least, so that a Windows drive (C:\runs) reads as a path.
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]+):/

const refuse = (uri: string, why: string): InvalidInput =>
  invalid("uri", `Cannot open the store ${JSON.stringify(uri)}: ${why}. runledger opens ${SUPPORTED_STORES}.`)

/** The directory store at `dir`, a path taken as it is (a colon in it is no scheme). */
export const directoryStore = (dir: string): StoreLocation => ({ kind: "fs", uri: dir, dir: resolve(dir) })

/** Where the store named by `uri` lives; an unknown scheme or a malformed URL is refused. */
export const parseStoreUri = (uri: string): StoreLocation => {
  if (uri.length === 0) throw refuse(uri, "the URI is empty")
  const scheme = SCHEME.exec(uri)?.[1].toLowerCase()
  if (scheme === undefined) return directoryStore(uri)
  if (scheme === "file") {
    let dir: string
    try {
      dir = fileURLToPath(uri)
    } catch (e) {
      throw refuse(uri, `it is not a local file URL (${e instanceof Error ? e.message : String(e)})`)
    }
    return { kind: "fs", uri, dir }
  }
  if (scheme === "duckdb") {
    const path = uri.slice("duckdb:".length)
    if (path.length === 0) throw refuse(uri, "it names no file")
    const file = resolve(path)
    return { kind: "duckdb", uri, file, dir: `${file}.d` }
  }
  if (scheme === "http" || scheme === "https") {
    let url: URL
    try {
      url = new URL(uri)
    } catch (e) {
      throw refuse(uri, `it is not a valid URL (${e instanceof Error ? e.message : String(e)})`)
    }
    if (url.hostname === "") throw refuse(uri, "it names no host")
    return { kind: "http", uri, url: url.origin + url.pathname.replace(/\/$/, ""), dir: defaultSpoolDir(url.origin) }
  }
  throw refuse(uri, `the scheme ${scheme}: is not supported${scheme === "postgres" || scheme === "postgresql" ? " yet" : ""}`)
}

export interface StoreOptions {
  /** "fsync" (default): an awaited call resolves once its events are on disk. "os": once the OS has them. */
  readonly durability?: Durability
  /** Told when a write cut off a torn tail left by a crash (the directory store). */
  readonly onRecover?: (r: Recovery) => void
  /** A server's token (http stores). */
  readonly token?: string
  /** Where a server's appends wait while it is unreachable (http stores; default location.dir). */
  readonly spoolDir?: string
}

/** One open store: the ports the tracker writes through, and the same store read in batches. */
export interface OpenedStore {
  readonly location: StoreLocation
  readonly events: EventStoreShape
  readonly artifacts: ArtifactStoreShape
  /** The store's events as batches, for the read model's catch-up: the very object the tracker appends through. */
  readonly reader: BatchReader
  readonly close: () => Promise<void>
}

export const openStore = async (location: StoreLocation, options: StoreOptions = {}): Promise<OpenedStore> => {
  if (location.kind === "http") {
    // The server's store through its native API; the server owns the store, its files and its read model.
    const { openHttpStore } = await import("@runledger/store-http")
    const store = await openHttpStore({ url: location.url, spoolDir: options.spoolDir ?? location.dir, ...(options.token !== undefined ? { token: options.token } : {}) })
    return { location: { ...location, dir: store.spoolDir }, events: store.events, artifacts: store.artifacts, reader: store.log, close: async () => void (await store.close()) }
  }
  const fsync = (options.durability ?? "fsync") === "fsync"
  const artifacts = fsArtifactStore(new FsArtifactStore(location.dir, fsync))
  switch (location.kind) {
    case "fs": {
      // Opening creates nothing: the directory appears with the first write (a read creates nothing).
      const log = await FsEventLog.open({ dir: location.dir, durability: options.durability ?? "fsync", ...(options.onRecover ? { onRecover: options.onRecover } : {}) })
      return { location, events: fsEventStore(log), artifacts, reader: log, close: () => log.close() }
    }
    case "duckdb": {
      // DuckDB creates its file on open; the directory beside it holds artifacts and the read model.
      mkdirSync(location.dir, { recursive: true })
      // Loaded here, not with this module: a directory store never loads DuckDB to open.
      const { DuckDBEventStore, duckdbEventStore } = await import("@runledger/store-duckdb")
      const store = await DuckDBEventStore.open({ file: location.file })
      return { location, events: duckdbEventStore(store), artifacts, reader: store, close: () => store.close() }
    }
  }
}
