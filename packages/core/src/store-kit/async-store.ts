/**
 * The EventStore port over a Promise-based store, the shape both durable adapters implement (a
 * file log, a DuckDB table): errors the store throws on purpose keep their tag, anything else
 * becomes a StorageError naming what was being done.
 */
import { Effect, Stream } from "effect"
import { StorageError, StoreCorrupted } from "../errors.ts"
import type { NewEvent, RecordedEvent } from "../events.ts"
import type { AppendResult, EventStoreShape, ExpectedVersion } from "../ports.ts"

export interface AsyncEventLog {
  /** What the store is, for error messages (a file path). */
  readonly file: string
  append(stream: string, events: ReadonlyArray<NewEvent>, expected: ExpectedVersion): Promise<AppendResult>
  readStream(stream: string): Promise<ReadonlyArray<RecordedEvent>>
  /** Batches of events after `from`, in log order. */
  readAll(from?: number): AsyncIterable<ReadonlyArray<RecordedEvent>>
  head(): Promise<number>
}

export const toStoreError = (what: string) => (e: unknown): StorageError | StoreCorrupted =>
  e instanceof StoreCorrupted || e instanceof StorageError
    ? e
    : new StorageError({ message: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e })

/** Tagged errors (ConcurrencyConflict included) pass through as they are. */
export const passTagged = <E>(what: string) => (e: unknown): E =>
  (typeof e === "object" && e !== null && "_tag" in e ? e : toStoreError(what)(e)) as E

export const eventStoreOf = (log: AsyncEventLog): EventStoreShape => ({
  append: (stream, events, expected) => Effect.tryPromise({ try: () => log.append(stream, events, expected), catch: passTagged(`Appending to ${log.file}`) }),
  readStream: (stream) => Effect.tryPromise({ try: async () => [...(await log.readStream(stream))], catch: toStoreError(`Reading ${log.file}`) }),
  // Suspended: each run of the stream reads the log afresh (a generator can be consumed once).
  readAll: (from) =>
    Stream.suspend(() =>
      Stream.fromAsyncIterable<ReadonlyArray<RecordedEvent>, StorageError | StoreCorrupted>(log.readAll(from), toStoreError(`Reading ${log.file}`))
    ).pipe(Stream.flattenIterable),
  head: Effect.tryPromise({ try: () => log.head(), catch: toStoreError(`Reading ${log.file}`) })
})
