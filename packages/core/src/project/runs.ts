/**
 * A run, folded from its stream; also what `decide` checks run commands against.
 * Folds mutate state they own, for speed on replay; views handed out are copies.
 */
import { Schema } from "effect"
import { type ArtifactRef, ArtifactStored, type DatasetInput, Environment, type Event, InputLogged, ParamValue, type RunOwner, RunStatus, Source } from "../events.ts"
import { MetricValue } from "../metric-value.ts"

/** A process on a host, since it took the run (a live pid that started later is a reused pid). */
export interface ProcessOwner {
  readonly host: string
  readonly pid: number
  readonly since: number
}

/** Who keeps a RUNNING run alive: the process that writes it, a lease, or nobody (see RunOwner in events.ts). */
export type RunHolder = ({ readonly kind: "process" } & ProcessOwner) | RunOwner

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
  /** The datasets the run used, in the order logged (MLflow's run inputs). */
  inputs: DatasetInput[]
  source: Source
  environment: Environment
  error: { readonly message: string; readonly stack?: string } | null
  deleted: boolean
  /**
   * Who keeps the run alive: the process that writes it (the one that started it, or the last one
   * that resumed it), a lease, or nobody.
   */
  owner: RunHolder
  /** The latest `at` of the run's events: what renews a lease. */
  lastActivity: number
  /** The fromStep of each RunResumed, in order. */
  resumes: number[]
  /**
   * Keys whose latest value a resume set aside: the best older point below the resume step is not
   * kept by the fold, so a view recomputes these from the stream (see history.ts).
   */
  staleKeys: Set<string>
  /** The run stream's version: the number of events folded. */
  version: number
}

/** What `getRun` returns. */
export const RunView = Schema.Struct({
  id: Schema.String,
  experimentId: Schema.String,
  experiment: Schema.String,
  name: Schema.String,
  status: RunStatus,
  startTime: Schema.Number,
  endTime: Schema.NullOr(Schema.Number),
  parentRunId: Schema.NullOr(Schema.String),
  params: Schema.Record(Schema.String, ParamValue),
  tags: Schema.Record(Schema.String, Schema.String),
  /** The latest value per key: the point with the highest step (then the latest timestamp). */
  metrics: Schema.Record(Schema.String, MetricValue),
  /** The step and timestamp of each key's latest value. */
  metricSteps: Schema.Record(Schema.String, Schema.Struct({ step: Schema.Number, timestamp: Schema.Number })),
  artifacts: Schema.Array(ArtifactStored),
  /** The datasets the run used, in the order logged, each with its tags (`mlflow.data.context`). */
  inputs: Schema.Array(InputLogged),
  source: Source,
  environment: Environment,
  error: Schema.NullOr(Schema.Struct({ message: Schema.String, stack: Schema.optionalKey(Schema.String) })),
  lifecycle: Schema.Literals(["active", "deleted"]),
  /** The fromStep of each resume of this run, in order. */
  resumedFrom: Schema.Array(Schema.Number)
}).annotate({ identifier: "RunView" })
export type RunView = typeof RunView.Type

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
      inputs: [],
      source: d.source,
      environment: d.environment,
      error: null,
      deleted: false,
      owner: d.owner ?? { kind: "process", host: event.meta?.host ?? d.environment.host, pid: event.meta?.pid ?? d.environment.pid, since: event.at },
      lastActivity: event.at,
      resumes: [],
      staleKeys: new Set(),
      version: event.version
    }
  }
  if (state === undefined) return undefined
  state.version = event.version
  // Any event renews a lease; the latest time, should writers' clocks disagree.
  if (event.at > state.lastActivity) state.lastActivity = event.at
  switch (event.type) {
    case "ParamsLogged":
      Object.assign(state.params, event.data.params)
      break
    case "MetricsLogged": {
      // Find each key's best point in the batch first, then allocate once per key (not per point).
      const { keys, values, steps, timestamps } = event.data
      const best = new Map<string, number>()
      let lastKey = ""
      let lastBest = -1
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]
        const b = key === lastKey ? lastBest : best.get(key)
        if (b === undefined || steps[i] > steps[b] || (steps[i] === steps[b] && timestamps[i] >= timestamps[b])) {
          best.set(key, i)
          lastBest = i
        } else lastBest = b
        lastKey = key
      }
      const latest = state.latest
      for (const [key, i] of best) {
        const current = latest.get(key)
        if (current === undefined || isLater(steps[i], timestamps[i], current)) latest.set(key, { value: values[i], step: steps[i], timestamp: timestamps[i] })
      }
      break
    }
    case "TagsSet":
      Object.assign(state.tags, event.data.tags)
      break
    case "TagDeleted":
      delete state.tags[event.data.key]
      break
    case "RunRenamed":
      state.name = event.data.name
      break
    case "ArtifactStored":
      state.artifacts.set(event.data.path, event.data)
      break
    case "InputLogged":
      state.inputs.push(event.data)
      break
    case "RunEnded":
      state.status = event.data.status
      state.endTime = event.at
      state.error = event.data.error ?? null
      break
    case "RunDeleted":
      state.deleted = true
      break
    case "RunRestored":
      state.deleted = false
      break
    case "RunHeartbeat":
      // Renews a lease, as every event does (above); it changes nothing else.
      break
    case "RunResumed": {
      const from = event.data.fromStep
      state.resumes.push(from)
      // A resumed process-owned run belongs to the resuming process; a lease or no-owner run keeps its kind.
      if (state.owner.kind === "process" && event.meta?.host !== undefined && event.meta.pid !== undefined) {
        state.owner = { kind: "process", host: event.meta.host, pid: event.meta.pid, since: event.at }
      }
      state.status = "RUNNING"
      state.endTime = null
      state.error = null
      for (const [key, m] of state.latest) {
        if (m.step >= from) {
          state.latest.delete(key)
          state.staleKeys.add(key)
        }
      }
      break
    }
  }
  return state
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))}s`

/**
 * Why a RUNNING run is gone though it has not ended, or undefined while it may be alive: its
 * process is gone (`isProcessGone`, a pid check on the run's host), or its lease ran out (`now` is
 * past its last event by more than the lease). A run with no owner is never judged gone. Pure:
 * the caller brings the time and the pid check.
 */
export const whyGone = (s: RunState, now: number, isProcessGone: (owner: ProcessOwner) => boolean): string | undefined => {
  if (s.status !== "RUNNING" || s.deleted) return undefined
  const o = s.owner
  switch (o.kind) {
    case "process":
      return isProcessGone(o) ? `process ${o.pid} on ${o.host} exited without ending the run (found gone by a pid check)` : undefined
    case "lease": {
      const quiet = now - s.lastActivity
      return quiet > o.ttlMs ? `no heartbeat for ${seconds(quiet)} (lease of ${seconds(o.ttlMs)})` : undefined
    }
    case "none":
      return undefined
  }
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
    inputs: [...s.inputs],
    source: s.source,
    environment: s.environment,
    error: s.error,
    lifecycle: s.deleted ? "deleted" : "active",
    resumedFrom: [...s.resumes]
  }
}

