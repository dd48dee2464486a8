/**
 * In-memory EventStore and ArtifactStore: for tests and for embedding a tracker that needs no disk.
 * Same contract as the durable stores (checked by the conformance suite), minus durability.
 */
import { Effect, Layer, Stream } from "effect"
import { NotFound, StorageError } from "./errors.ts"
import type { NewEvent, RecordedEvent } from "./events.ts"
import { ArtifactStore, type ArtifactStoreShape, EventStore, type EventStoreShape } from "./ports.ts"
import { judgeAppend, newStreamInfo, remember, type StreamInfo } from "./store-kit/judge.ts"

export const makeMemoryEventStore = (): EventStoreShape => {
  const log: RecordedEvent[] = []
  const streams = new Map<string, { info: StreamInfo; events: RecordedEvent[] }>()
  return {
    append: (stream, events: ReadonlyArray<NewEvent>, expected) =>
      Effect.suspend(() => {
        const entry = streams.get(stream)
        const verdict = judgeAppend(stream, entry?.info, events, expected)
        if (verdict._tag === "Conflict") return Effect.fail(verdict.error)
        if (verdict._tag === "Duplicate") return Effect.succeed({ version: verdict.version, position: verdict.position })
        const s = entry ?? { info: newStreamInfo(), events: [] }
        streams.set(stream, s)
        for (const e of events) {
          const recorded = { ...e, stream, version: s.info.version + 1, position: log.length + 1 } as unknown as RecordedEvent
          log.push(recorded)
          s.events.push(recorded)
          remember(s.info, e.id, recorded.position)
        }
        return Effect.succeed({ version: s.info.version, position: log.length })
      }),
    readStream: (stream) => Effect.sync(() => [...(streams.get(stream)?.events ?? [])]),
    readAll: (from = 0) => Stream.suspend(() => Stream.fromIterable(log.slice(from))),
    head: Effect.sync(() => log.length)
  }
}

const toHex = (buf: ArrayBuffer): string => {
  const b = new Uint8Array(buf)
  let s = ""
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0")
  return s
}

export interface MemoryArtifactOptions {
  /** How to read a local file for `putFile`; core does no I/O itself. Without it, `putFile` fails with a clear error. */
  readonly readFile?: (path: string) => Promise<Uint8Array>
}

export const makeMemoryArtifactStore = (options: MemoryArtifactOptions = {}): ArtifactStoreShape => {
  const blobs = new Map<string, Uint8Array>()
  const put = (bytes: Uint8Array) =>
    Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)).pipe(
      Effect.map((digest) => {
        const sha256 = toHex(digest)
        if (!blobs.has(sha256)) blobs.set(sha256, bytes.slice())
        return { sha256, size: bytes.length }
      })
    )
  return {
    put,
    putFile: (path) => {
      const read = options.readFile
      if (read === undefined) {
        return Effect.fail(new StorageError({ message: `The in-memory artifact store cannot read ${path}: give it a readFile option, or use logText/logJson.` }))
      }
      return Effect.tryPromise({
        try: () => read(path),
        catch: () => new NotFound({ kind: "file", id: path, message: `No local file ${path}.` })
      }).pipe(Effect.flatMap(put))
    },
    get: (sha256) =>
      Effect.suspend(() => {
        const b = blobs.get(sha256)
        return b === undefined
          ? Effect.fail(new NotFound({ kind: "artifact", id: sha256, message: `No artifact with sha256 ${sha256}.` }))
          : Effect.succeed(b.slice())
      })
  }
}

/** Layers providing fresh in-memory stores. */
export const MemoryEventStore = Layer.sync(EventStore, makeMemoryEventStore)
export const MemoryArtifactStore = (options?: MemoryArtifactOptions) => Layer.sync(ArtifactStore, () => makeMemoryArtifactStore(options))
