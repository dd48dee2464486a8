/**
 * The one command handler: load a stream -> decide -> append under the stream's version -> on a
 * lost race (ConcurrencyConflict), read again and decide again, up to MAX_RETRIES times. Every
 * write that enforces an invariant goes through it: the tracker's commands, and the run handle's
 * flush (which re-decides its queued calls through it when another writer got there first).
 *
 * Also the one place that evolves a state with events not yet appended (`evolveDrafts`).
 */
import { Effect } from "effect"
import type { Decision, Draft } from "./decide/common.ts"
import type { TrackerError } from "./errors.ts"
import type { Event, NewEvent } from "./events.ts"
import type { EventStoreShape } from "./ports.ts"

/** How many times a command is re-decided against fresh state after losing a race. */
export const MAX_RETRIES = 16

export interface Command<S> {
  readonly stream: string
  /** The stream's state from its events. */
  readonly fold: (events: ReadonlyArray<Event>) => S
  /** The events the command adds to that state, or its refusal. */
  readonly decide: (state: S) => Decision | Effect.Effect<Decision, TrackerError>
  /**
   * Events the caller already decided against its own copy of the stream at `version` (a run
   * handle's queued calls): appended first without reading the stream, and re-decided through
   * `decide` only if another writer appended meanwhile.
   */
  readonly decided?: { readonly version: number; readonly drafts: ReadonlyArray<Draft> }
}

export interface Handled<S> {
  /** The stream's version after the command. */
  readonly version: number
  /** The stream's state after the command; undefined when `decided` was appended without a read. */
  readonly state: S | undefined
}

/** Give drafts their envelope (id, time, meta) for the store. */
export type Stamp = (drafts: ReadonlyArray<Draft>) => ReadonlyArray<NewEvent>

export const makeCommandHandler = (store: EventStoreShape, stamp: Stamp) =>
<S>(command: Command<S>): Effect.Effect<Handled<S>, TrackerError> =>
  Effect.gen(function*() {
    const { stream, fold, decide, decided } = command
    if (decided !== undefined) {
      if (decided.drafts.length === 0) return { version: decided.version, state: undefined }
      const first = yield* Effect.result(store.append(stream, stamp(decided.drafts), decided.version))
      if (first._tag === "Success") return { version: first.success.version, state: undefined }
      if (first.failure._tag !== "ConcurrencyConflict") return yield* Effect.fail(first.failure)
    }
    for (let attempt = decided === undefined ? 0 : 1; ; attempt++) {
      const events = yield* store.readStream(stream)
      const state = fold(events)
      const decision = decide(state)
      const d = Effect.isEffect(decision) ? yield* decision : decision
      if (!d.ok) return yield* Effect.fail(d.error)
      if (d.events.length === 0) return { version: events.length, state }
      const stamped = stamp(d.events)
      const appended = yield* Effect.result(store.append(stream, stamped, events.length))
      if (appended._tag === "Success") {
        const after = [...events, ...stamped.map((e, i) => ({ ...e, stream, version: events.length + i + 1 }) as Event)]
        return { version: appended.success.version, state: fold(after) }
      }
      if (appended.failure._tag !== "ConcurrencyConflict" || attempt >= MAX_RETRIES) return yield* Effect.fail(appended.failure)
    }
  })

/**
 * A state evolved with events decided but not appended yet (a decision checked against the
 * state its earlier parts make, a handle's view of its queued calls). Folds read type, data,
 * version and time; `at` stands for the time the store will stamp, and the id, which no fold
 * reads, is left empty. Evolving may mutate `state` (folds own their state): pass a copy to keep it.
 */
export const evolveDrafts = <S extends { readonly version: number }>(
  evolve: (state: S | undefined, event: Event) => S | undefined,
  state: S | undefined,
  drafts: ReadonlyArray<Draft>,
  at: number
): S | undefined => {
  let s = state
  for (const d of drafts) s = evolve(s, { id: "", stream: "", version: (s?.version ?? 0) + 1, at, type: d.type, data: d.data } as Event)
  return s
}
