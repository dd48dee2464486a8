/**
 * MLflow's experiments endpoints over the tracker's experiments.
 *
 * `experiments/search` filters by name only (name-filter.ts) and does not order. Tags on `create`
 * are the new experiment's (one ExperimentCreated); `set-experiment-tag` records ExperimentTagsSet,
 * which a deleted experiment refuses (core's decide). An `artifact_location` is refused, since
 * artifacts live in the store.
 */
import type { ExperimentView } from "@runledger/runtime"
import { call, experimentIdOf, type Handler, type MlflowContext, type Route, run } from "./context.ts"
import { experimentJson } from "./entities.ts"
import { invalidParameter, MlflowError } from "./errors.ts"
import { type Fields, optionalString, page, requireString, stringList, viewTypeOf } from "./json.ts"
import { checkTag, tagsOf } from "./limits.ts"
import { nameFilter } from "./name-filter.ts"

const allExperiments = (ctx: MlflowContext) => call(ctx.tracker.listExperiments({ viewType: "all" }))

/** The experiment a request names by id ("0" is Default), any lifecycle; unknown ids are RESOURCE_DOES_NOT_EXIST. */
export const experimentById = async (ctx: MlflowContext, id: string): Promise<ExperimentView> => {
  const realId = experimentIdOf(ctx, id)
  const found = (await allExperiments(ctx)).find((e) => e.id === realId)
  if (found === undefined) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `No Experiment with id=${id} exists`)
  return found
}

const idField = (f: Fields) => requireString(f, "experiment_id")

const create: Handler = async (ctx, f) => {
  const name = requireString(f, "name")
  if (optionalString(f, "artifact_location")) {
    throw invalidParameter("runledger keeps artifacts in its store; an experiment's artifact_location cannot be set. Create the experiment without it.")
  }
  const tags = tagsOf(f, "tags")
  if ((await allExperiments(ctx)).some((e) => e.name === name)) {
    throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Experiment '${name}' already exists.`)
  }
  const e = await run(ctx.tracker.effect.createExperiment(name, { tags }))
  return { experiment_id: e.id }
}

const get: Handler = async (ctx, f) => ({ experiment: experimentJson(await experimentById(ctx, idField(f))) })

const getByName: Handler = async (ctx, f) => {
  const name = requireString(f, "experiment_name")
  const found = (await allExperiments(ctx)).find((e) => e.name === name)
  if (found === undefined) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `Could not find experiment with name '${name}'`)
  return { experiment: experimentJson(found) }
}

const search: Handler = async (ctx, f) => {
  const keep = nameFilter(optionalString(f, "filter"), "experiments")
  if (stringList(f, "order_by").length > 0) {
    throw invalidParameter("runledger does not order experiments yet; search without order_by (experiments come oldest first).")
  }
  const all = (await call(ctx.tracker.listExperiments({ viewType: viewTypeOf(f, "view_type") }))).filter(keep)
  const p = page(all, f, 1000)
  return { experiments: p.items.map(experimentJson), ...(p.next ? { next_page_token: p.next } : {}) }
}

const update: Handler = async (ctx, f) => {
  const id = experimentIdOf(ctx, idField(f))
  await call(ctx.tracker.renameExperiment(id, requireString(f, "new_name")))
  return {}
}

const lifecycle = (which: "deleteExperiment" | "restoreExperiment"): Handler => async (ctx, f) => {
  const id = idField(f)
  await experimentById(ctx, id)
  await call(ctx.tracker[which](experimentIdOf(ctx, id)))
  return {}
}

const setTag: Handler = async (ctx, f) => {
  const id = idField(f)
  const key = requireString(f, "key")
  const value = optionalString(f, "value") ?? ""
  checkTag(key, value)
  await experimentById(ctx, id)
  await run(ctx.tracker.effect.setExperimentTags(experimentIdOf(ctx, id), { [key]: value }))
  return {}
}

export const EXPERIMENT_ROUTES: ReadonlyArray<Route> = [
  ["POST", "experiments/create", create],
  ["GET", "experiments/get", get],
  ["GET", "experiments/get-by-name", getByName],
  ["POST", "experiments/search", search],
  ["GET", "experiments/search", search],
  ["GET", "experiments/list", search],
  ["POST", "experiments/update", update],
  ["POST", "experiments/delete", lifecycle("deleteExperiment")],
  ["POST", "experiments/restore", lifecycle("restoreExperiment")],
  ["POST", "experiments/set-experiment-tag", setTag]
]
