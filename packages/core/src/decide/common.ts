/** What every decision returns: the events to append, or the refusal. Nothing in between. */
import type { InvalidInput, NotFound, ParamConflict, RunNotActive } from "../errors.ts"
import type { EventData, EventType } from "../events.ts"

/** An event before the store gives it an id, a time, a stream and a version. */
export type Draft = { [T in EventType]: { readonly type: T; readonly data: EventData<T> } }[EventType]

export type DecideError = InvalidInput | ParamConflict | RunNotActive | NotFound
export type Decision = { readonly ok: true; readonly events: ReadonlyArray<Draft> } | { readonly ok: false; readonly error: DecideError }

export const ok = (events: ReadonlyArray<Draft>): Decision => ({ ok: true, events })
export const refuse = (error: DecideError): Decision => ({ ok: false, error })
