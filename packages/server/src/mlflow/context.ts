/**
 * What every MLflow handler gets: the tracker (through the runtime's public API), and the
 * experiment MLflow calls "0". MLflow's store always has a Default experiment with id "0"; a
 * runledger store names experiments by uuid, so the server makes sure one named "Default" exists
 * and reads the id "0" as that one wherever a request names an experiment.
 */
import type { Run, Tracker } from "@runledger/runtime"
import { Effect } from "effect"
import { toMlflowError } from "./errors.ts"
import type { Fields } from "./json.ts"

export const DEFAULT_EXPERIMENT_ID = "0"
export const DEFAULT_EXPERIMENT_NAME = "Default"

export interface MlflowContext {
  readonly tracker: Tracker
  /** The real id of the experiment named "Default" (MLflow's "0"). */
  readonly defaultExperimentId: string
  /** Runs `f` after every earlier call with the same key has settled (see `serialByKey`). */
  readonly serial: <A>(key: string, f: () => Promise<A>) => Promise<A>
  /** Writer handles of running runs (see writes.ts). */
  readonly handles: Map<string, Run>
}

/**
 * One queue per key. The server is the one writer of every run it serves, so it decides a run's
 * writes one at a time: many clients logging to one run then wait their turn instead of racing
 * each other through the tracker's conflict retries until those run out.
 */
export const serialByKey = () => {
  const tails = new Map<string, Promise<unknown>>()
  return <A>(key: string, f: () => Promise<A>): Promise<A> => {
    const before = tails.get(key) ?? Promise.resolve()
    const result = before.then(f, f)
    const tail = result.then(() => {}, () => {})
    tails.set(key, tail)
    // The last one out removes the key, so the map holds only runs with writes in progress.
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key)
    })
    return result
  }
}

/** One endpoint's mapping: the request's fields in, MLflow's response body out (or an MlflowError thrown). */
export type Handler = (ctx: MlflowContext, fields: Fields) => Promise<unknown>

/** An endpoint: its method, its path below the API prefix, its mapping. */
export type Route = readonly [method: "GET" | "POST" | "PATCH" | "DELETE", path: string, handler: Handler]

/** A tracker call of the Effect API, as a Promise whose rejection is already an MlflowError. */
export const run = <A>(effect: Effect.Effect<A, unknown>): Promise<A> => Effect.runPromise(effect).catch((e: unknown) => Promise.reject(toMlflowError(e)))

/** A call of the Promise API, its rejection mapped the same way. */
export const call = <A>(p: Promise<A>): Promise<A> => p.catch((e: unknown) => Promise.reject(toMlflowError(e)))

/** MLflow's "0" as the Default experiment's id; any other id as it is. */
export const experimentIdOf = (ctx: MlflowContext, id: string): string => (id === DEFAULT_EXPERIMENT_ID ? ctx.defaultExperimentId : id)

/** The commands `record` takes (the core type, named through the runtime's API). */
export type RunCommand = Parameters<Tracker["effect"]["record"]>[1][number]
