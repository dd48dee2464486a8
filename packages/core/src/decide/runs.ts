/**
 * Run commands -> events, enforcing the invariants. Pure: the same state and command always give
 * the same answer, and a refused command yields no events at all.
 */
import { invalid, NotFound, ParamConflict, RunNotActive, type InvalidInput } from "../errors.ts"
import type { DatasetInput, EndStatus, Environment, MetricsBatch, ParamValue, RunOwner, Source } from "../events.ts"
import type { RunState } from "../project/runs.ts"
import {
  checkArtifactPath,
  checkArtifactPlace,
  checkDatasetInput,
  checkKey,
  checkMetricValue,
  checkName,
  checkParams,
  checkStep,
  checkTags,
  checkTimestamp,
  isTimestamp,
  sameParam
} from "../validate.ts"
import { type Decision, ok, refuse } from "./common.ts"

// ---------------------------------------------------------------------------
// Runs

/** The tag MLflow keeps a run's name in. */
export const RUN_NAME_TAG = "mlflow.runName"

export interface StartRun {
  readonly runId: string
  readonly experimentId: string
  readonly name: string
  readonly parentRunId: string | null
  readonly tags: Record<string, string>
  readonly source: Source
  readonly environment: Environment
  /** Absent: the process that writes the run owns it. */
  readonly owner?: RunOwner
}

/**
 * The shortest lease: its holder renews it every third of it when idle, and a shorter one would
 * have a heartbeat appended several times a second.
 */
export const MIN_LEASE_MS = 1000
/** The longest: what a timer can wait for (setInterval's limit, about 24.8 days). */
export const MAX_LEASE_MS = 2 ** 31 - 1

export const checkOwner = (owner: RunOwner | undefined): InvalidInput | undefined =>
  owner?.kind === "lease" && !(Number.isSafeInteger(owner.ttlMs) && owner.ttlMs >= MIN_LEASE_MS && owner.ttlMs <= MAX_LEASE_MS)
    ? invalid("lease", `A run's lease is a whole number of milliseconds from ${MIN_LEASE_MS} to ${MAX_LEASE_MS}, not ${String(owner.ttlMs)}.`)
    : undefined

export const decideStartRun = (existing: RunState | undefined, cmd: StartRun): Decision => {
  if (existing !== undefined) return refuse(invalid("run id", `A run with id ${cmd.runId} already exists.`))
  const bad = checkName("run", cmd.name) ?? checkTags(cmd.tags) ?? checkOwner(cmd.owner)
  if (bad) return refuse(bad)
  const { owner, ...data } = cmd
  // No key at all for a process-owned run, so its record is what it was before leases.
  return ok([{ type: "RunStarted", data: owner === undefined ? data : { ...data, owner } }])
}

export type RunCommand =
  | { readonly _tag: "LogParams"; readonly params: Readonly<Record<string, unknown>> }
  | { readonly _tag: "LogMetrics"; readonly batch: MetricsBatch }
  | { readonly _tag: "SetTags"; readonly tags: Readonly<Record<string, unknown>> }
  | { readonly _tag: "DeleteTag"; readonly key: string }
  | {
    readonly _tag: "StoreArtifact"
    readonly path: string
    readonly sha256: string
    readonly size: number
    readonly mediaType: string
  }
  | { readonly _tag: "LogInputs"; readonly inputs: ReadonlyArray<DatasetInput> }
  | { readonly _tag: "EndRun"; readonly status: EndStatus; readonly error?: { readonly message: string; readonly stack?: string } }
  | { readonly _tag: "DeleteRun" }
  | { readonly _tag: "RestoreRun" }
  | { readonly _tag: "ResumeRun"; readonly fromStep: number }
  | { readonly _tag: "Heartbeat" }

const END_STATUSES: ReadonlyArray<string> = ["FINISHED", "FAILED", "KILLED"]

/**
 * Check a metric batch column by column. Keys repeat (a training loop logs the same few), so each
 * distinct key is checked once.
 */
export const checkMetricsBatch = (batch: MetricsBatch): InvalidInput | undefined => {
  const { keys, values, steps, timestamps } = batch
  const n = keys.length
  if (values.length !== n || steps.length !== n || timestamps.length !== n) {
    return invalid("metrics", `A metric batch needs equal columns; got ${n} keys, ${values.length} values, ${steps.length} steps, ${timestamps.length} timestamps.`)
  }
  let lastKey: string | undefined
  const seen = new Set<string>()
  for (let i = 0; i < n; i++) {
    const key = keys[i]
    if (key !== lastKey && !seen.has(key)) {
      const bad = checkKey("metric", key)
      if (bad) return bad
      seen.add(key)
    }
    lastKey = key
    const v = values[i]
    if (typeof v !== "number") return checkMetricValue(key, v)
    const s = steps[i]
    if (!(Number.isSafeInteger(s) && s >= 0)) return checkStep(key, s)
    const t = timestamps[i]
    if (!isTimestamp(t)) return checkTimestamp(key, t)
  }
  return undefined
}

/** Logging needs a run that is RUNNING and not deleted. */
export const checkRunActive = (state: RunState): RunNotActive | undefined =>
  state.deleted
    ? new RunNotActive({ runId: state.id, status: state.status, message: `Run ${state.id} is deleted; restore it with \`runledger runs restore ${state.id}\` before logging to it.` })
    : state.status === "RUNNING"
    ? undefined
    : new RunNotActive({
      runId: state.id,
      status: state.status,
      message: `Run ${state.id} has ended (${state.status}); nothing more can be logged to it. Start a new run, or resume this one.`
    })

const sameTags = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k])
}

/** The same dataset input: every field and tag equal (field order and absent vs. undefined aside). */
export const sameInput = (a: DatasetInput, b: DatasetInput): boolean =>
  a.name === b.name && a.digest === b.digest && a.sourceType === b.sourceType && a.source === b.source &&
  a.schema === b.schema && a.profile === b.profile && sameTags(a.tags, b.tags)

export const decideRun = (state: RunState | undefined, runId: string, cmd: RunCommand): Decision => {
  if (state === undefined) return refuse(new NotFound({ kind: "run", id: runId, message: `No run with id ${runId}.` }))
  switch (cmd._tag) {
    case "DeleteRun":
      return state.deleted ? refuse(invalid("run", `Run ${state.id} is already deleted.`)) : ok([{ type: "RunDeleted", data: {} }])
    case "RestoreRun":
      return state.deleted ? ok([{ type: "RunRestored", data: {} }]) : refuse(invalid("run", `Run ${state.id} is not deleted; there is nothing to restore.`))
    case "ResumeRun": {
      if (state.deleted) return refuse(checkRunActive(state)!)
      if (!(Number.isSafeInteger(cmd.fromStep) && cmd.fromStep >= 0)) {
        return refuse(invalid("fromStep", `Resume from a whole step >= 0, not ${String(cmd.fromStep)}.`))
      }
      return ok([{ type: "RunResumed", data: { fromStep: cmd.fromStep } }])
    }
  }
  const inactive = checkRunActive(state)
  if (inactive) return refuse(inactive)
  switch (cmd._tag) {
    case "LogParams": {
      const bad = checkParams(cmd.params as Record<string, unknown>)
      if (bad) return refuse(bad)
      const fresh: Record<string, ParamValue> = {}
      let count = 0
      for (const [key, value] of Object.entries(cmd.params) as Array<[string, ParamValue]>) {
        // Own keys only: a param named "constructor" or "toString" is a param like any other.
        const logged = Object.hasOwn(state.params, key) ? state.params[key] : undefined
        if (logged === undefined) {
          fresh[key] = value
          count++
        } else if (!sameParam(logged, value)) {
          return refuse(
            new ParamConflict({
              runId: state.id,
              key,
              logged,
              attempted: value,
              message: `Param ${JSON.stringify(key)} of run ${state.id} is ${JSON.stringify(logged)}; it cannot change to ${JSON.stringify(value)}. Params are immutable: start a new run for new settings.`
            })
          )
        }
      }
      return ok(count === 0 ? [] : [{ type: "ParamsLogged", data: { params: fresh } }])
    }
    case "LogMetrics": {
      const bad = checkMetricsBatch(cmd.batch)
      if (bad) return refuse(bad)
      return ok(cmd.batch.keys.length === 0 ? [] : [{ type: "MetricsLogged", data: cmd.batch }])
    }
    case "SetTags": {
      const bad = checkTags(cmd.tags as Record<string, unknown>)
      if (bad) return refuse(bad)
      if (Object.keys(cmd.tags).length === 0) return ok([])
      const tags = { ...(cmd.tags as Record<string, string>) }
      // As in MLflow, the tag `mlflow.runName` is the run's name: setting it renames the run.
      const name = Object.hasOwn(tags, RUN_NAME_TAG) ? tags[RUN_NAME_TAG] : undefined
      if (name === undefined || name === state.name) return ok([{ type: "TagsSet", data: { tags } }])
      const badName = checkName("run", name)
      if (badName) return refuse(badName)
      return ok([{ type: "TagsSet", data: { tags } }, { type: "RunRenamed", data: { name } }])
    }
    case "DeleteTag": {
      const bad = checkKey("tag", cmd.key)
      if (bad) return refuse(bad)
      if (!Object.hasOwn(state.tags, cmd.key)) {
        return refuse(new NotFound({ kind: "tag", id: cmd.key, message: `Run ${state.id} has no tag ${JSON.stringify(cmd.key)}.` }))
      }
      return ok([{ type: "TagDeleted", data: { key: cmd.key } }])
    }
    case "StoreArtifact": {
      const bad = checkArtifactPath(cmd.path) ?? checkArtifactPlace(state.artifacts, cmd.path)
      if (bad) return refuse(bad)
      return ok([{ type: "ArtifactStored", data: { path: cmd.path, sha256: cmd.sha256, size: cmd.size, mediaType: cmd.mediaType } }])
    }
    case "LogInputs": {
      const fresh: DatasetInput[] = []
      for (const input of cmd.inputs) {
        const bad = checkDatasetInput(input)
        if (bad) return refuse(bad)
        // Logging the very same input again (a retried request) is a no-op, as for a param; an
        // input that differs in anything (another context tag, say) is kept beside the first.
        if (!state.inputs.some((logged) => sameInput(logged, input)) && !fresh.some((f) => sameInput(f, input))) fresh.push(input)
      }
      return ok(fresh.map((data) => ({ type: "InputLogged", data })))
    }
    case "EndRun": {
      if (!END_STATUSES.includes(cmd.status)) {
        return refuse(invalid("status", `A run ends FINISHED, FAILED or KILLED, not ${JSON.stringify(cmd.status)}.`))
      }
      return ok([{ type: "RunEnded", data: cmd.error ? { status: cmd.status, error: cmd.error } : { status: cmd.status } }])
    }
    case "Heartbeat":
      // Only while the run takes calls: a holder whose run was reaped (or ended) learns it here.
      return ok([{ type: "RunHeartbeat", data: {} }])
  }
}
