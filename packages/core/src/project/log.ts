/**
 * Everything, folded from the whole log in position order: experiments, runs and models.
 * Catching up is incremental: applying the events after `position` gives the same state as a
 * fold from zero. `asOf` folds stop at a position or a time, for "what was true then".
 */
import type { Event, Stage } from "../events.ts"
import { modelNameOfStream, runIdOfStream } from "../events.ts"
import { emptyExperiments, evolveExperiments, type ExperimentsState, type ExperimentSummary, type ExperimentView, findExperiment } from "./experiments.ts"
import { applyModelEvent, type ModelState, type ModelVersionView, type ModelView, type PendingRename, toModelView, versionView } from "./models.ts"
import { evolveRun, type RunState, type RunView, toRunView } from "./runs.ts"

export type ViewType = "active" | "deleted" | "all"

export interface RunFilter {
  /** Experiment name or id. */
  readonly experimentId?: string
  readonly parentRunId?: string
  /** Default "active": deleted runs, and runs of deleted experiments, are hidden. */
  readonly viewType?: ViewType
}

const visible = (deleted: boolean, viewType: ViewType): boolean =>
  viewType === "all" || (viewType === "deleted" ? deleted : !deleted)

/** The experiments a list shows, oldest first: the experiments stream's fold is all it needs. */
export const experimentsList = (state: ExperimentsState, viewType: ViewType = "active"): ExperimentView[] =>
  [...state.byId.values()]
    .filter((e) => visible(e.lifecycle === "deleted", viewType))
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))

/**
 * A run as reads show it, given the experiments (its experiment's name; a run counts as deleted
 * when it or its experiment is). The projection's views, and a single run read from its stream.
 */
export const runViewOf = (s: RunState, experiments: ExperimentsState): RunView => {
  const experiment = experiments.byId.get(s.experimentId)
  const v = toRunView(s, experiment?.name ?? s.experimentId)
  return (s.deleted || experiment?.lifecycle === "deleted") && v.lifecycle === "active" ? { ...v, lifecycle: "deleted" } : v
}

export class LogProjection {
  position = 0
  /** The time of the last event applied. */
  at = 0
  readonly experiments = emptyExperiments()
  readonly runs = new Map<string, RunState>()
  readonly models = new Map<string, ModelState>()
  /** Renames whose claim is on the new name's stream and whose old stream has not moved since: by new name. */
  readonly pendingRenames = new Map<string, PendingRename>()

  apply(event: Event & { readonly position?: number }): void {
    this.position = event.position ?? this.position + 1
    this.at = event.at
    if (event.stream === "experiments") {
      evolveExperiments(this.experiments, event)
      return
    }
    const runId = runIdOfStream(event.stream)
    if (runId !== undefined) {
      const next = evolveRun(this.runs.get(runId), event)
      if (next !== undefined) this.runs.set(runId, next)
      return
    }
    const model = modelNameOfStream(event.stream)
    if (model !== undefined) applyModelEvent(this.models, this.pendingRenames, model, event)
  }

  experimentName(id: string): string {
    return this.experiments.byId.get(id)?.name ?? id
  }

  findExperiment(ref: string): ExperimentView | undefined {
    return findExperiment(this.experiments, ref)
  }

  /** A run counts as deleted when it or its experiment is. */
  private deletedRun(s: RunState): boolean {
    return s.deleted || this.experiments.byId.get(s.experimentId)?.lifecycle === "deleted"
  }

  private view(s: RunState): RunView {
    return runViewOf(s, this.experiments)
  }

  runView(id: string): RunView | undefined {
    const s = this.runs.get(id)
    return s === undefined ? undefined : this.view(s)
  }

  listExperiments(viewType: ViewType = "active"): ExperimentView[] {
    return experimentsList(this.experiments, viewType)
  }

  /** `listExperiments` with each one's run count (runs not deleted) and the newest event of any of its runs. */
  listExperimentSummaries(viewType: ViewType = "active"): ExperimentSummary[] {
    const activity = new Map<string, { runCount: number; lastActivity: number | null }>()
    for (const s of this.runs.values()) {
      const a = activity.get(s.experimentId) ?? { runCount: 0, lastActivity: null }
      if (!s.deleted) a.runCount++
      a.lastActivity = a.lastActivity === null ? s.lastActivity : Math.max(a.lastActivity, s.lastActivity)
      activity.set(s.experimentId, a)
    }
    return this.listExperiments(viewType).map((e) => ({ ...e, ...(activity.get(e.id) ?? { runCount: 0, lastActivity: null }) }))
  }

  /** Runs, newest first. A run counts as deleted when it or its experiment is. */
  listRuns(filter: RunFilter = {}): RunView[] {
    const viewType = filter.viewType ?? "active"
    const out: RunView[] = []
    for (const s of this.runs.values()) {
      if (filter.experimentId !== undefined && s.experimentId !== filter.experimentId) continue
      if (filter.parentRunId !== undefined && s.parentRunId !== filter.parentRunId) continue
      if (!visible(this.deletedRun(s), viewType)) continue
      out.push(this.view(s))
    }
    return out.sort((a, b) => b.startTime - a.startTime || a.id.localeCompare(b.id))
  }

  listModels(): ModelView[] {
    return [...this.models.values()].map(toModelView).sort((a, b) => a.name.localeCompare(b.name))
  }

  listModelVersions(name: string): ModelVersionView[] | undefined {
    const m = this.models.get(name)
    return m === undefined ? undefined : [...m.versions.keys()].sort((a, b) => a - b).map((v) => versionView(m, v)!)
  }

  /** A version by number, by stage (the newest version in it) or by alias. */
  modelVersion(name: string, ref: { readonly version: number } | { readonly stage: Stage } | { readonly alias: string }): ModelVersionView | undefined {
    const m = this.models.get(name)
    if (m === undefined) return undefined
    if ("version" in ref) return versionView(m, ref.version)
    if ("alias" in ref) {
      const v = m.aliases.get(ref.alias)
      return v === undefined ? undefined : versionView(m, v)
    }
    let best: number | undefined
    for (const v of m.versions.values()) if (v.stage === ref.stage && (best === undefined || v.version > best)) best = v.version
    return best === undefined ? undefined : versionView(m, best)
  }
}
