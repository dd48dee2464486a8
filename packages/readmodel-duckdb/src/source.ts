/**
 * Where catch-up reads events from, as batches of events after a position. Batches keep the
 * per-event overhead low on the hot path (millions of events) without holding the log in memory.
 */
import type { EventStoreShape, RecordedEvent } from "@runledger/core"
import { Effect, Stream } from "effect"

/** A store that reads in batches: the DuckDB event store, or the directory store's FsEventLog. */
export interface BatchReader {
  readonly readAll: (fromPosition?: number) => AsyncIterable<ReadonlyArray<RecordedEvent>>
  readonly head: () => Promise<number>
}

/**
 * An EventStore port (read from the stored position), a batch reader (likewise), or the log as
 * batches in position order (events at or before the stored position are skipped).
 */
export type EventSource = EventStoreShape | BatchReader | AsyncIterable<ReadonlyArray<RecordedEvent>>

export interface OpenedSource {
  readonly batches: AsyncIterable<ReadonlyArray<RecordedEvent>>
  /** The log's last position when known (for progress reports). */
  readonly head: number | undefined
}

const isAsyncIterable = (u: unknown): u is AsyncIterable<ReadonlyArray<RecordedEvent>> =>
  typeof u === "object" && u !== null && Symbol.asyncIterator in u

export const openSource = async (source: EventSource, from: number): Promise<OpenedSource> => {
  if (isAsyncIterable(source)) return { batches: source, head: undefined }
  if (Effect.isEffect(source.head)) {
    const store = source as EventStoreShape
    const head = await Effect.runPromise(store.head)
    // The port streams single events; its chunks become the batches.
    return { batches: Stream.toAsyncIterable(Stream.chunks(store.readAll(from))), head }
  }
  const reader = source as BatchReader
  return { batches: reader.readAll(from), head: await reader.head() }
}

/** Logs never lose their first event, so its id is read once per source object. */
const firstIds = new WeakMap<object, string | null>()

/**
 * The id of the log's first event (null: the log is empty), which tells logs apart; undefined for
 * a one-shot stream of batches, which cannot be read twice.
 */
export const firstEventId = async (source: EventSource): Promise<string | null | undefined> => {
  if (isAsyncIterable(source)) return undefined
  const known = firstIds.get(source)
  if (known !== undefined) return known
  let first: string | null = null
  const { batches } = await openSource(source, 0)
  for await (const batch of batches) {
    if (batch.length === 0) continue
    first = batch[0].id
    break
  }
  if (first !== null) firstIds.set(source, first)
  return first
}
