/**
 * MLflow's runs endpoints: create, get, update, delete, restore, search, and the logging calls
 * (log-batch, log-metric, log-parameter, set-tag, delete-tag, log-inputs), each one atomic `record`
 * of tracker commands (see writes.ts for writes to ended runs).
 *
 * Not mapped: `start_time` and `end_time` from the client (the tracker stamps events with its own
 * clock, so the log's times stay in order).
 */
import type { BatchMetric, DatasetInput } from "@runledger/runtime"
import { call, experimentIdOf, type Handler, type MlflowContext, type Route, run, type RunCommand } from "./context.ts"
import { runInfoJson, runJson } from "./entities.ts"
import { invalidParameter } from "./errors.ts"
import { experimentById } from "./experiments.ts"
import { type Fields, keyValues, objectList, optionalInt, optionalString, requireDouble, requireInt, requireObject, requireString, runIdOf, stringList, viewTypeOf } from "./json.ts"
import { checkBatchSizes, checkMetricKey, checkParam, checkTag, MAX_KEY_LENGTH, tagsOf } from "./limits.ts"
import { deleteTag as deleteRunTag, forgetHandle, logBatch as logRunBatch, logInputs as logRunInputs, recordMlflow, updateStatus } from "./writes.ts"

const RUN_NAME_TAG = "mlflow.runName"
const PARENT_RUN_TAG = "mlflow.parentRunId"
const USER_TAG = "mlflow.user"

/** A run by its exact id (MLflow ids are exact; the tracker's prefix and name lookup is the CLI's). */
export const runById = async (ctx: MlflowContext, runId: string) => {
  const [view] = await call(ctx.tracker.getRuns([runId]))
  return view
}

const paramsOf = (f: Fields): Record<string, string> => {
  const params: Record<string, string> = {}
  for (const [key, value] of keyValues(f, "params")) {
    checkParam(key, value)
    if (Object.hasOwn(params, key) && params[key] !== value) {
      throw invalidParameter(`Duplicate parameter keys have been submitted: ${JSON.stringify(key)} with values ${JSON.stringify(params[key])} and ${JSON.stringify(value)}. Please ensure the request contains only one param value per param key.`)
    }
    params[key] = value
  }
  return params
}

/** One MLflow metric as a batch point, read field by field; a missing step is 0, as in MLflow. */
const metricOf = (m: Fields): BatchMetric => {
  const key = requireString(m, "key")
  checkMetricKey(key)
  return { key, value: requireDouble(m, "value"), timestamp: requireInt(m, "timestamp"), step: optionalInt(m, "step") ?? 0 }
}

/**
 * MLflow metrics as the tracker's batch points. A metric whose fields already have the types the
 * tracker takes (what MLflow's clients send: a finite or NaN value as a number, int64s as
 * numbers) is passed on as it was parsed, not copied: a log-batch holds up to 1000 of them, and
 * the run session reads each field once as it queues the batch. Any other is read by `metricOf`,
 * which converts what MLflow's JSON allows ("NaN", int64 strings) and refuses the rest.
 */
const metricsOf = (metrics: ReadonlyArray<Fields>): BatchMetric[] => {
  const points = new Array<BatchMetric>(metrics.length)
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i]
    const key = m.key
    points[i] = typeof key === "string" && key !== "" && key.length <= MAX_KEY_LENGTH && typeof m.value === "number" && Number.isSafeInteger(m.timestamp) &&
        Number.isSafeInteger(m.step)
      ? (m as unknown as BatchMetric)
      : metricOf(m)
  }
  return points
}

const create: Handler = async (ctx, f) => {
  const experiment = await experimentById(ctx, optionalString(f, "experiment_id") || "0")
  const tags = tagsOf(f, "tags")
  const user = optionalString(f, "user_id")
  if (user && !Object.hasOwn(tags, USER_TAG)) tags[USER_TAG] = user
  const name = optionalString(f, "run_name") || tags[RUN_NAME_TAG]
  if (name) tags[RUN_NAME_TAG] = name
  const parent = tags[PARENT_RUN_TAG]
  const state = await run(ctx.tracker.effect.startRun({
    experiment: experiment.name,
    tags,
    // MLflow's clients never say they are gone: the run is nobody's (never judged dead), not
    // the server's pid's, so a server restart does not make every RUNNING run look KILLED.
    unowned: true,
    ...(name ? { name } : {}),
    ...(parent ? { parentRunId: parent } : {})
  }))
  return { run: runJson(await runById(ctx, state.id)) }
}

const get: Handler = async (ctx, f) => ({ run: runJson(await runById(ctx, runIdOf(f))) })

const STATUSES = ["RUNNING", "FINISHED", "FAILED", "KILLED"] as const

const update: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  const status = optionalString(f, "status")
  const name = optionalString(f, "run_name")
  const rename: RunCommand[] = name ? [{ _tag: "SetTags", tags: { [RUN_NAME_TAG]: name } }] : []
  if (status !== undefined && status !== "") {
    if (status === "SCHEDULED") throw invalidParameter("runledger runs start RUNNING; a run cannot be set back to SCHEDULED.")
    const known = STATUSES.find((s) => s === status)
    if (known === undefined) throw invalidParameter(`Invalid value ${JSON.stringify(status)} for parameter 'status': expected RUNNING, FINISHED, FAILED or KILLED.`)
    await updateStatus(ctx, runId, known, rename)
  } else if (rename.length > 0) {
    await recordMlflow(ctx, runId, rename)
  } else {
    await runById(ctx, runId)
  }
  return { run_info: runInfoJson(await runById(ctx, runId)) }
}

const deleteRun: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  forgetHandle(ctx, runId)
  await call(ctx.tracker.deleteRun(runId))
  return {}
}

const restoreRun: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  forgetHandle(ctx, runId)
  await call(ctx.tracker.restoreRun(runId))
  return {}
}

const logBatch: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  const metrics = objectList(f, "metrics")
  const params = objectList(f, "params")
  const tags = objectList(f, "tags")
  checkBatchSizes(metrics.length, params.length, tags.length)
  await logRunBatch(ctx, runId, {
    ...(metrics.length > 0 ? { metrics: metricsOf(metrics) } : {}),
    ...(params.length > 0 ? { params: paramsOf(f) } : {}),
    ...(tags.length > 0 ? { tags: tagsOf(f, "tags") } : {})
  })
  return {}
}

const logMetric: Handler = async (ctx, f) => {
  await logRunBatch(ctx, runIdOf(f), { metrics: metricsOf([f]) })
  return {}
}

const logParam: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  const key = requireString(f, "key")
  const value = optionalString(f, "value") ?? ""
  checkParam(key, value)
  await logRunBatch(ctx, runId, { params: { [key]: value } })
  return {}
}

const setTag: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  const key = requireString(f, "key")
  const value = optionalString(f, "value") ?? ""
  checkTag(key, value)
  await logRunBatch(ctx, runId, { tags: { [key]: value } })
  return {}
}

const deleteTag: Handler = async (ctx, f) => {
  await deleteRunTag(ctx, runIdOf(f), requireString(f, "key"))
  return {}
}

/** The tag MLflow's server keeps a run's logged models in: a JSON list of their MLmodel documents. */
const LOGGED_MODELS_TAG = "mlflow.log-model.history"

/** runs/log-model, as MLflow's server records it: the model's JSON appended to the run's logged-models tag. */
const logModel: Handler = async (ctx, f) => {
  const runId = runIdOf(f)
  const text = requireString(f, "model_json")
  let model: unknown
  try {
    model = JSON.parse(text)
  } catch {
    throw invalidParameter("model_json is not valid JSON; send the model's MLmodel document as JSON text.")
  }
  if (typeof model !== "object" || model === null || Array.isArray(model)) throw invalidParameter("model_json must be a JSON object (a model's MLmodel document).")
  await recordMlflow(ctx, runId, (state) => {
    const before = state.tags[LOGGED_MODELS_TAG]
    let list: unknown[] = []
    if (before !== undefined) {
      try {
        const parsed: unknown = JSON.parse(before)
        if (Array.isArray(parsed)) list = parsed
      } catch {
        throw invalidParameter(`The run's ${LOGGED_MODELS_TAG} tag is not a JSON list; it cannot be appended to.`)
      }
    }
    const value = JSON.stringify([...list, model])
    checkTag(LOGGED_MODELS_TAG, value)
    return [{ _tag: "SetTags", tags: { [LOGGED_MODELS_TAG]: value } }]
  })
  return {}
}

/** One MLflow DatasetInput (`{ tags, dataset: { name, digest, source_type, source, schema?, profile? } }`) as the tracker's. */
const datasetInputOf = (f: Fields): DatasetInput => {
  const d = requireObject(f, "dataset")
  const schema = optionalString(d, "schema")
  const profile = optionalString(d, "profile")
  const tags: Record<string, string> = {}
  for (const [key, value] of keyValues(f, "tags")) tags[key] = value
  return {
    name: requireString(d, "name"),
    digest: requireString(d, "digest"),
    sourceType: requireString(d, "source_type"),
    source: requireString(d, "source"),
    ...(schema ? { schema } : {}),
    ...(profile ? { profile } : {}),
    tags
  }
}

/** MLflow's log-inputs: the datasets a run used, each with its tags (`mlflow.data.context`). */
const logInputs: Handler = async (ctx, f) => {
  const runId = requireString(f, "run_id")
  const inputs = objectList(f, "datasets").map(datasetInputOf)
  if (inputs.length > 0) await logRunInputs(ctx, runId, inputs)
  else await runById(ctx, runId)
  return {}
}

/** MLflow's search, plus runledger's OR, NOT and parentheses in `filter`. */
const search: Handler = async (ctx, f) => {
  const ids = stringList(f, "experiment_ids").map((id) => experimentIdOf(ctx, id))
  const filter = optionalString(f, "filter")
  const orderBy = stringList(f, "order_by")
  const maxResults = optionalInt(f, "max_results")
  const pageToken = optionalString(f, "page_token")
  const found = await call(ctx.tracker.searchRuns({
    ...(ids.length > 0 ? { experiments: ids } : {}),
    ...(filter ? { filter } : {}),
    ...(orderBy.length > 0 ? { orderBy } : {}),
    ...(maxResults !== undefined ? { maxResults } : {}),
    ...(pageToken ? { pageToken } : {}),
    viewType: viewTypeOf(f, "run_view_type")
  }))
  return { runs: found.runs.map(runJson), ...(found.nextPageToken ? { next_page_token: found.nextPageToken } : {}) }
}

export const RUN_ROUTES: ReadonlyArray<Route> = [
  ["POST", "runs/create", create],
  ["GET", "runs/get", get],
  ["POST", "runs/update", update],
  ["POST", "runs/delete", deleteRun],
  ["POST", "runs/restore", restoreRun],
  ["POST", "runs/search", search],
  ["POST", "runs/log-batch", logBatch],
  ["POST", "runs/log-metric", logMetric],
  ["POST", "runs/log-parameter", logParam],
  ["POST", "runs/set-tag", setTag],
  ["POST", "runs/delete-tag", deleteTag],
  ["POST", "runs/log-inputs", logInputs],
  ["POST", "runs/log-model", logModel]
]
