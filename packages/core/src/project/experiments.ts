/** The experiment registry, folded from the `experiments` stream. */
import { Schema } from "effect"
import { type Event, ParamValue } from "../events.ts"

/** An experiment as reads return it (the Schema is what the server's API sends and documents). */
export const ExperimentView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  createdAt: Schema.Number,
  tags: Schema.Record(Schema.String, Schema.String),
  lifecycle: Schema.Literals(["active", "deleted"]),
  /** For a fork: the experiment it came from and the settings it changes. */
  parentId: Schema.NullOr(Schema.String),
  overrides: Schema.Record(Schema.String, ParamValue)
}).annotate({ identifier: "ExperimentView" })
export type ExperimentView = typeof ExperimentView.Type

/** An experiment with its runs' count and the time of their newest event (null without runs): a listing's row. */
export const ExperimentSummary = Schema.Struct({
  ...ExperimentView.fields,
  /** Its runs that are not deleted. */
  runCount: Schema.Number,
  /** Epoch ms of the newest event of any of its runs; null while it has none. */
  lastActivity: Schema.NullOr(Schema.Number)
}).annotate({ identifier: "ExperimentSummary" })
export type ExperimentSummary = typeof ExperimentSummary.Type

export interface ExperimentsState {
  readonly byId: Map<string, ExperimentView>
  /** Names stay taken while their experiment is deleted (restore must get its name back). */
  readonly byName: Map<string, string>
  version: number
}

export const emptyExperiments = (): ExperimentsState => ({ byId: new Map(), byName: new Map(), version: 0 })

export const evolveExperiments = (state: ExperimentsState, event: Event): ExperimentsState => {
  state.version = event.version
  switch (event.type) {
    case "ExperimentCreated":
    case "ExperimentForked": {
      const d = event.data
      const fork = event.type === "ExperimentForked" ? event.data : null
      state.byId.set(d.experimentId, {
        id: d.experimentId,
        name: d.name,
        createdAt: event.at,
        tags: d.tags,
        lifecycle: "active",
        parentId: fork?.parentExperimentId ?? null,
        overrides: fork?.overrides ?? {}
      })
      state.byName.set(d.name, d.experimentId)
      break
    }
    case "ExperimentRenamed": {
      const e = state.byId.get(event.data.experimentId)
      if (e === undefined) break
      state.byName.delete(e.name)
      state.byName.set(event.data.name, e.id)
      state.byId.set(e.id, { ...e, name: event.data.name })
      break
    }
    case "ExperimentTagsSet": {
      const e = state.byId.get(event.data.experimentId)
      if (e !== undefined) state.byId.set(e.id, { ...e, tags: { ...e.tags, ...event.data.tags } })
      break
    }
    case "ExperimentDeleted":
    case "ExperimentRestored": {
      const e = state.byId.get(event.data.experimentId)
      if (e !== undefined) state.byId.set(e.id, { ...e, lifecycle: event.type === "ExperimentDeleted" ? "deleted" : "active" })
      break
    }
  }
  return state
}

/** An experiment by name, or by id. */
export const findExperiment = (state: ExperimentsState, ref: string): ExperimentView | undefined => {
  const id = state.byName.get(ref)
  return id !== undefined ? state.byId.get(id) : state.byId.get(ref)
}
