/**
 * What every MLflow handler gets: the tracker (through the runtime's public API), and the
 * experiment MLflow calls "0". MLflow's store always has a Default experiment with id "0"; a
 * runledger store names experiments by uuid, so the server makes sure one named "Default" exists
 * and reads the id "0" as that one wherever a request names an experiment.
 */
import type { Tracker } from "@runledger/runtime"
import { Effect } from "effect"
import { toMlflowError } from "./errors.ts"
import type { Fields } from "./json.ts"

export const DEFAULT_EXPERIMENT_ID = "0"
export const DEFAULT_EXPERIMENT_NAME = "Default"

export interface MlflowContext {
  readonly tracker: Tracker
  /** The real id of the experiment named "Default" (MLflow's "0"). */
  readonly defaultExperimentId: string
}

/** One endpoint's mapping: the request's fields in, MLflow's response body out (or an MlflowError thrown). */
export type Handler = (ctx: MlflowContext, fields: Fields) => Promise<unknown>

/** A tracker call of the Effect API, as a Promise whose rejection is already an MlflowError. */
export const run = <A>(effect: Effect.Effect<A, unknown>): Promise<A> => Effect.runPromise(effect).catch((e: unknown) => Promise.reject(toMlflowError(e)))

/** A call of the Promise API, its rejection mapped the same way. */
export const call = <A>(p: Promise<A>): Promise<A> => p.catch((e: unknown) => Promise.reject(toMlflowError(e)))

/** MLflow's "0" as the Default experiment's id; any other id as it is. */
export const experimentIdOf = (ctx: MlflowContext, id: string): string => (id === DEFAULT_EXPERIMENT_ID ? ctx.defaultExperimentId : id)

/** The commands `record` takes (the core type, named through the runtime's API). */
export type RunCommand = Parameters<Tracker["effect"]["record"]>[1][number]
