/**
 * Projections: pure folds of events into the views people read.
 * - RunState: one run, folded from its stream (also what `decide` checks commands against).
 * - LogProjection: every experiment and run, folded from the whole log in position order.
 * Folds mutate state they own, for speed on replay; views handed out are copies.
 */
import type { ArtifactRef, Environment, Event, ParamValue, RunStatus, Source } from "./events.ts"
import { runIdOfStream } from "./events.ts"

export interface LatestMetric {
  readonly value: number
  readonly step: number
  readonly timestamp: number
}

/** A run as folded from its stream. */
export interface RunState {
  id: string
  experimentId: string
  name: string
  status: RunStatus
  startTime: number
  endTime: number | null
  parentRunId: string | null
  params: Record<string, ParamValue>
  tags: Record<string, string>
  latest: Map<string, LatestMetric>
  artifacts: Map<string, ArtifactRef>
  source: Source
  environment: Environment
  error: { readonly message: string; readonly stack?: string } | null
  /** The run stream's version: the number of events folded. */
  version: number
}

/** What `getRun` returns. */
export interface RunView {
  readonly id: string
  readonly experimentId: string
  readonly experiment: string
  readonly name: string
  readonly status: RunStatus
  readonly startTime: number
  readonly endTime: number | null
  readonly parentRunId: string | null
  readonly params: Readonly<Record<string, ParamValue>>
  readonly tags: Readonly<Record<string, string>>
  /** The latest value per key: the point with the highest step (then the latest timestamp). */
  readonly metrics: Readonly<Record<string, number>>
  /** The step and timestamp of each key's latest value. */
  readonly metricSteps: Readonly<Record<string, { readonly step: number; readonly timestamp: number }>>
  readonly artifacts: ReadonlyArray<ArtifactRef>
  readonly source: Source
  readonly environment: Environment
  readonly error: { readonly message: string; readonly stack?: string } | null
}

export interface ExperimentView {
  readonly id: string
  readonly name: string
  readonly createdAt: number
}

/** A later point replaces the latest value when its step is higher, or equal with a timestamp not older. */
const isLater = (step: number, timestamp: number, than: LatestMetric): boolean =>
  step > than.step || (step === than.step && timestamp >= than.timestamp)

/** Fold one event of a run's stream into its state. RunStarted creates the state; anything else needs it. */
export const evolveRun = (state: RunState | undefined, event: Event): RunState | undefined => {
  if (event.type === "RunStarted") {
    const d = event.data
    return {
      id: d.runId,
      experimentId: d.experimentId,
      name: d.name,
      status: "RUNNING",
      startTime: event.at,
      endTime: null,
      parentRunId: d.parentRunId,
      params: {},
      tags: { ...d.tags },
      latest: new Map(),
      artifacts: new Map(),
      source: d.source,
      environment: d.environment,
      error: null,
      version: event.version
    }
  }
  if (state === undefined) return undefined
  state.version = event.version
  switch (event.type) {
    case "ParamsLogged":
      Object.assign(state.params, event.data.params)
      break
    case "MetricsLogged": {
      const { keys, values, steps, timestamps } = event.data
      const latest = state.latest
      for (let i = 0; i < keys.length; i++) {
        const current = latest.get(keys[i])
        if (current === undefined || isLater(steps[i], timestamps[i], current)) {
          latest.set(keys[i], { value: values[i], step: steps[i], timestamp: timestamps[i] })
        }
      }
      break
    }
    case "TagsSet":
      Object.assign(state.tags, event.data.tags)
      break
    case "TagDeleted":
      delete state.tags[event.data.key]
      break
    case "ArtifactStored":
      state.artifacts.set(event.data.path, event.data)
      break
    case "RunEnded":
      state.status = event.data.status
      state.endTime = event.at
      state.error = event.data.error ?? null
      break
  }
  return state
}

export const foldRun = (events: Iterable<Event>): RunState | undefined => {
  let state: RunState | undefined
  for (const e of events) state = evolveRun(state, e)
  return state
}

export const toRunView = (s: RunState, experimentName: string): RunView => {
  const metrics: Record<string, number> = {}
  const metricSteps: Record<string, { step: number; timestamp: number }> = {}
  for (const [k, m] of s.latest) {
    metrics[k] = m.value
    metricSteps[k] = { step: m.step, timestamp: m.timestamp }
  }
  return {
    id: s.id,
    experimentId: s.experimentId,
    experiment: experimentName,
    name: s.name,
    status: s.status,
    startTime: s.startTime,
    endTime: s.endTime,
    parentRunId: s.parentRunId,
    params: { ...s.params },
    tags: { ...s.tags },
    metrics,
    metricSteps,
    artifacts: [...s.artifacts.values()],
    source: s.source,
    environment: s.environment,
    error: s.error
  }
}

/** The experiment registry folded from the `experiments` stream. */
export interface ExperimentsState {
  readonly byId: Map<string, ExperimentView>
  readonly byName: Map<string, string>
  version: number
}

export const emptyExperiments = (): ExperimentsState => ({ byId: new Map(), byName: new Map(), version: 0 })

export const evolveExperiments = (state: ExperimentsState, event: Event): ExperimentsState => {
  state.version = event.version
  if (event.type === "ExperimentCreated") {
    state.byId.set(event.data.experimentId, { id: event.data.experimentId, name: event.data.name, createdAt: event.at })
    state.byName.set(event.data.name, event.data.experimentId)
  }
  return state
}

/**
 * Everything, folded from the whole log in position order. Catching up is incremental:
 * apply events after `position` and the state equals a fold from zero.
 */
export class LogProjection {
  position = 0
  readonly experiments: ExperimentsState = emptyExperiments()
  readonly runs = new Map<string, RunState>()

  apply(event: Event & { readonly position?: number }): void {
    if (event.position !== undefined) this.position = event.position
    else this.position++
    if (event.type === "ExperimentCreated") {
      evolveExperiments(this.experiments, event)
      return
    }
    const runId = runIdOfStream(event.stream)
    if (runId === undefined) return
    const next = evolveRun(this.runs.get(runId), event)
    if (next !== undefined) this.runs.set(runId, next)
  }

  experimentName(id: string): string {
    return this.experiments.byId.get(id)?.name ?? id
  }

  runView(id: string): RunView | undefined {
    const s = this.runs.get(id)
    return s === undefined ? undefined : toRunView(s, this.experimentName(s.experimentId))
  }

  listExperiments(): ExperimentView[] {
    return [...this.experiments.byId.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  listRuns(experimentId?: string): RunView[] {
    const out: RunView[] = []
    for (const s of this.runs.values()) {
      if (experimentId === undefined || s.experimentId === experimentId) out.push(toRunView(s, this.experimentName(s.experimentId)))
    }
    return out.sort((a, b) => b.startTime - a.startTime || a.id.localeCompare(b.id))
  }
}
