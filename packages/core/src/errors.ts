/**
 * Every refusal is a tagged error whose message says what was wrong and what to do.
 * Each error carries a ready-to-print `message`; the tag lets Effect code catch by kind.
 */
import { Data } from "effect"

/** Bad input from a caller: a key, a value, a step, a path, a name. Nothing was appended. */
export class InvalidInput extends Data.TaggedError("InvalidInput")<{
  readonly field: string
  readonly message: string
}> {}

/** A parameter was logged again with a different value. Params are immutable once logged. */
export class ParamConflict extends Data.TaggedError("ParamConflict")<{
  readonly runId: string
  readonly key: string
  readonly logged: string | number | boolean
  readonly attempted: string | number | boolean
  readonly message: string
}> {}

/** A write to a run that has ended (or was deleted). */
export class RunNotActive extends Data.TaggedError("RunNotActive")<{
  readonly runId: string
  readonly status: string
  readonly message: string
}> {}

/** A run, experiment, artifact or model that does not exist. */
export class NotFound extends Data.TaggedError("NotFound")<{
  readonly kind: string
  readonly id: string
  readonly message: string
}> {}

/** An append whose expected stream version was stale: someone else wrote first. Never a lost write. */
export class ConcurrencyConflict extends Data.TaggedError("ConcurrencyConflict")<{
  readonly stream: string
  readonly expected: number
  readonly actual: number
  readonly message: string
}> {}

/** The store's bytes are damaged in a way that cannot be repaired automatically. */
export class StoreCorrupted extends Data.TaggedError("StoreCorrupted")<{
  readonly file: string
  readonly offset: number
  readonly message: string
}> {}

/** The storage medium failed (disk full, permission denied, ...). */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/** Errors a tracking call can fail with. */
export type TrackerError =
  | InvalidInput
  | ParamConflict
  | RunNotActive
  | NotFound
  | ConcurrencyConflict
  | StoreCorrupted
  | StorageError

export const invalid = (field: string, message: string): InvalidInput => new InvalidInput({ field, message })

export const conflict = (stream: string, expected: number, actual: number): ConcurrencyConflict =>
  new ConcurrencyConflict({
    stream,
    expected,
    actual,
    message: `Concurrent write to ${stream}: expected version ${expected}, found ${actual}. Re-read the stream and retry.`
  })

export const storageError = (what: string, cause: unknown): StorageError =>
  new StorageError({ message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
