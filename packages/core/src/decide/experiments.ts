/** Experiment commands: create (get-or-create by name), rename, delete, restore, fork. */
import { invalid, NotFound } from "../errors.ts"
import type { ParamValue } from "../events.ts"
import { type ExperimentsState, type ExperimentView, findExperiment } from "../project/experiments.ts"
import { checkName, checkParams, checkTags } from "../validate.ts"
import { type Decision, ok, refuse } from "./common.ts"

const missing = (ref: string) =>
  new NotFound({ kind: "experiment", id: ref, message: `No experiment named ${JSON.stringify(ref)} (or with that id). List them with \`runledger experiments --view all\`.` })

const nameTaken = (state: ExperimentsState, name: string) => {
  const id = state.byName.get(name)
  if (id === undefined) return undefined
  const e = state.byId.get(id)!
  return invalid(
    "experiment name",
    `The name ${JSON.stringify(name)} belongs to experiment ${id}${e.lifecycle === "deleted" ? " (deleted: restore it, or pick another name)" : ""}.`
  )
}

/** Create a new experiment: a name in use (by an active or a deleted experiment) is refused (MLflow's experiments/create). */
export const decideNewExperiment = (state: ExperimentsState, experimentId: string, name: string, tags: Record<string, string> = {}): Decision => {
  const bad = checkName("experiment", name) ?? checkTags(tags)
  if (bad) return refuse(bad)
  const taken = nameTaken(state, name)
  if (taken) return refuse(taken)
  return ok([{ type: "ExperimentCreated", data: { experimentId, name, tags } }])
}

/** Create the experiment unless one of that name exists; one name is one experiment. */
export const decideCreateExperiment = (state: ExperimentsState, experimentId: string, name: string, tags: Record<string, string> = {}): Decision => {
  const bad = checkName("experiment", name) ?? checkTags(tags)
  if (bad) return refuse(bad)
  if (state.byName.has(name)) return ok([])
  return ok([{ type: "ExperimentCreated", data: { experimentId, name, tags } }])
}

/** Runs may only start in an active experiment. */
export const checkExperimentActive = (e: ExperimentView) =>
  e.lifecycle === "active"
    ? undefined
    : invalid("experiment", `Experiment ${JSON.stringify(e.name)} is deleted; restore it with \`runledger experiments restore ${JSON.stringify(e.name)}\` first.`)

export const decideRenameExperiment = (state: ExperimentsState, ref: string, name: string): Decision => {
  const e = findExperiment(state, ref)
  if (e === undefined) return refuse(missing(ref))
  const bad = checkName("experiment", name)
  if (bad) return refuse(bad)
  if (e.name === name) return ok([])
  const taken = nameTaken(state, name)
  if (taken) return refuse(taken)
  return ok([{ type: "ExperimentRenamed", data: { experimentId: e.id, name } }])
}

/**
 * Set tags on an experiment: each key takes its new value, other tags stay. A deleted experiment
 * takes no tags (as in MLflow, whose message this keeps). Only the tags that change are recorded.
 */
export const decideSetExperimentTags = (state: ExperimentsState, ref: string, tags: Record<string, string>): Decision => {
  const e = findExperiment(state, ref)
  if (e === undefined) return refuse(missing(ref))
  const bad = checkTags(tags)
  if (bad) return refuse(bad)
  if (e.lifecycle === "deleted") {
    return refuse(invalid("experiment", `The experiment ${e.id} must be in the 'active' state. Current state is deleted. Restore it (\`runledger experiments restore ${JSON.stringify(e.name)}\`) before tagging it.`))
  }
  const changed: Record<string, string> = {}
  for (const [key, value] of Object.entries(tags)) if (e.tags[key] !== value) changed[key] = value
  if (Object.keys(changed).length === 0) return ok([])
  return ok([{ type: "ExperimentTagsSet", data: { experimentId: e.id, tags: changed } }])
}

export const decideDeleteExperiment = (state: ExperimentsState, ref: string): Decision => {
  const e = findExperiment(state, ref)
  if (e === undefined) return refuse(missing(ref))
  if (e.lifecycle === "deleted") return refuse(invalid("experiment", `Experiment ${JSON.stringify(e.name)} is already deleted.`))
  return ok([{ type: "ExperimentDeleted", data: { experimentId: e.id } }])
}

export const decideRestoreExperiment = (state: ExperimentsState, ref: string): Decision => {
  const e = findExperiment(state, ref)
  if (e === undefined) return refuse(missing(ref))
  if (e.lifecycle !== "deleted") return refuse(invalid("experiment", `Experiment ${JSON.stringify(e.name)} is not deleted; there is nothing to restore.`))
  return ok([{ type: "ExperimentRestored", data: { experimentId: e.id } }])
}

export const decideForkExperiment = (
  state: ExperimentsState,
  parentRef: string,
  experimentId: string,
  name: string,
  overrides: Record<string, ParamValue>,
  tags: Record<string, string> = {}
): Decision => {
  const parent = findExperiment(state, parentRef)
  if (parent === undefined) return refuse(missing(parentRef))
  const bad = checkName("experiment", name) ?? checkParams(overrides) ?? checkTags(tags)
  if (bad) return refuse(bad)
  const taken = nameTaken(state, name)
  if (taken) return refuse(taken)
  // A fork of a fork inherits the whole chain of overrides, the nearest one winning.
  return ok([{
    type: "ExperimentForked",
    data: { experimentId, name, parentExperimentId: parent.id, overrides: { ...parent.overrides, ...overrides }, tags: { ...parent.tags, ...tags } }
  }])
}
