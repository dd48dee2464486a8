/**
 * MLflow's model registry endpoints over the tracker's registry: registered-models create, get,
 * search, get-latest-versions, rename, update (description), delete; model-versions create, get,
 * search, update (description), transition-stage; aliases set, get, delete.
 *
 * The tracker's registry has no tag updates and no deletes of versions, and versions carry no
 * tags: those calls are refused with NOT_IMPLEMENTED rather than answered as if done.
 * A version's `source` must name an artifact the run stored: `runs:/<run>/<path>` or the run's
 * `mlflow-artifacts:/` URI with a path.
 */
import type { ModelVersionView, ModelView, Stage } from "@runledger/runtime"
import { call, type Handler, type MlflowContext, type Route } from "./context.ts"
import { invalidParameter, MlflowError } from "./errors.ts"
import { type Fields, keyValues, optionalBoolean, optionalString, page, requireString, stringList } from "./json.ts"
import { nameFilter } from "./name-filter.ts"

const STAGES: ReadonlyArray<Stage> = ["None", "Staging", "Production", "Archived"]

const modelVersionJson = (v: ModelVersionView) => ({
  name: v.name,
  version: String(v.version),
  creation_timestamp: v.createdAt,
  last_updated_timestamp: v.updatedAt,
  current_stage: v.stage,
  description: v.description,
  source: `runs:/${v.runId}/${v.artifactPath}`,
  run_id: v.runId,
  status: "READY",
  tags: [],
  aliases: v.aliases
})

const registeredModelJson = async (ctx: MlflowContext, m: ModelView) => {
  const versions = await call(ctx.tracker.listModelVersions(m.name))
  const latest = Object.values(m.latest).map((n) => versions.find((v) => v.version === n)).filter((v): v is ModelVersionView => v !== undefined)
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    description: m.description,
    latest_versions: latest.map(modelVersionJson),
    tags: Object.entries(m.tags).map(([key, value]) => ({ key, value })),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) }))
  }
}

const modelNamed = async (ctx: MlflowContext, name: string): Promise<ModelView> => {
  const m = (await call(ctx.tracker.listModels())).find((x) => x.name === name)
  if (m === undefined) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`)
  return m
}

const versionField = (f: Fields): number => {
  const text = requireString(f, "version")
  if (!/^\d+$/.test(text)) throw invalidParameter(`Invalid value ${JSON.stringify(text)} for parameter 'version': a model version is a whole number.`)
  return Number(text)
}

const createModel: Handler = async (ctx, f) => {
  const name = requireString(f, "name")
  if ((await call(ctx.tracker.listModels())).some((m) => m.name === name)) {
    throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Registered Model (name=${name}) already exists.`)
  }
  const tags = Object.fromEntries(keyValues(f, "tags"))
  const description = optionalString(f, "description")
  const m = await call(ctx.tracker.registerModel(name, { tags, ...(description ? { description } : {}) }))
  return { registered_model: await registeredModelJson(ctx, m) }
}

const getModel: Handler = async (ctx, f) => ({ registered_model: await registeredModelJson(ctx, await modelNamed(ctx, requireString(f, "name"))) })

const searchModels: Handler = async (ctx, f) => {
  if (stringList(f, "order_by").length > 0) throw invalidParameter("runledger does not order registered models yet; search without order_by (they come by name).")
  const keep = nameFilter(optionalString(f, "filter"), "registered models")
  const all = (await call(ctx.tracker.listModels())).filter(keep)
  const p = page(all, f, 100)
  const models = []
  for (const m of p.items) models.push(await registeredModelJson(ctx, m))
  return { registered_models: models, ...(p.next ? { next_page_token: p.next } : {}) }
}

const latestVersions: Handler = async (ctx, f) => {
  const m = await modelNamed(ctx, requireString(f, "name"))
  const stages = stringList(f, "stages")
  for (const s of stages) if (!STAGES.some((x) => x.toLowerCase() === s.toLowerCase())) throw invalidParameter(`Invalid Model Version stage: ${s}. Value must be one of ${STAGES.join(", ")}.`)
  const versions = await call(ctx.tracker.listModelVersions(m.name))
  const wanted = stages.length === 0 ? STAGES : STAGES.filter((s) => stages.some((x) => x.toLowerCase() === s.toLowerCase()))
  const out: ModelVersionView[] = []
  for (const stage of wanted) {
    const n = m.latest[stage]
    const v = n === undefined ? undefined : versions.find((x) => x.version === n)
    if (v !== undefined) out.push(v)
  }
  return { model_versions: out.map(modelVersionJson) }
}

/** The artifact path a version's `source` names in run `runId`. */
const artifactPathOf = (source: string, runId: string): string => {
  const runs = /^runs:\/([^/]+)\/(.+)$/.exec(source)
  if (runs !== null) {
    if (runs[1] !== runId) throw invalidParameter(`The source ${source} names run ${runs[1]}, not run_id ${runId}.`)
    return runs[2]
  }
  const proxied = /^mlflow-artifacts:\/[^/]+\/([^/]+)\/artifacts\/(.+)$/.exec(source)
  if (proxied !== null) {
    if (proxied[1] !== runId) throw invalidParameter(`The source ${source} names run ${proxied[1]}, not run_id ${runId}.`)
    return proxied[2]
  }
  throw invalidParameter(`A model version is registered from its run's stored artifacts: the source must be runs:/<run id>/<path> or the run's mlflow-artifacts:/ URI with a path, not ${JSON.stringify(source)}.`)
}

const createVersion: Handler = async (ctx, f) => {
  const name = requireString(f, "name")
  const runId = requireString(f, "run_id")
  const artifactPath = artifactPathOf(requireString(f, "source"), runId)
  if (keyValues(f, "tags").length > 0 || optionalString(f, "description")) {
    throw new MlflowError("NOT_IMPLEMENTED", "runledger model versions carry no tags, and take a description only once created; create the version without them (then set its description with model-versions/update).")
  }
  await modelNamed(ctx, name)
  return { model_version: modelVersionJson(await call(ctx.tracker.createModelVersion(name, { runId, artifactPath }))) }
}

const getVersion: Handler = async (ctx, f) => ({
  model_version: modelVersionJson(await call(ctx.tracker.getModelVersion(requireString(f, "name"), { version: versionField(f) })))
})

const searchVersions: Handler = async (ctx, f) => {
  const filter = optionalString(f, "filter") ?? ""
  const byName = /^\s*name\s*=\s*'((?:[^']|'')*)'\s*$/i.exec(filter)
  const byRun = /^\s*run_id\s*=\s*'([^']*)'\s*$/i.exec(filter)
  let versions: ModelVersionView[] = []
  if (byName !== null) {
    versions = [...(await call(ctx.tracker.listModelVersions(byName[1].replaceAll("''", "'"))))]
  } else if (byRun !== null || filter.trim() === "") {
    for (const m of await call(ctx.tracker.listModels())) {
      for (const v of await call(ctx.tracker.listModelVersions(m.name))) if (byRun === null || v.runId === byRun[1]) versions.push(v)
    }
  } else {
    throw invalidParameter(`This server filters model versions by name = '...' or run_id = '...' only; got ${JSON.stringify(filter)}.`)
  }
  const p = page(versions, f, 10_000)
  return { model_versions: p.items.map(modelVersionJson), ...(p.next ? { next_page_token: p.next } : {}) }
}

const transitionStage: Handler = async (ctx, f) => {
  const name = requireString(f, "name")
  const version = versionField(f)
  const asked = requireString(f, "stage")
  const stage = STAGES.find((s) => s.toLowerCase() === asked.toLowerCase())
  if (stage === undefined) throw invalidParameter(`Invalid Model Version stage: ${asked}. Value must be one of ${STAGES.join(", ")}.`)
  const v = await call(ctx.tracker.transitionStage(name, version, stage, { archiveExisting: optionalBoolean(f, "archive_existing_versions") ?? false }))
  return { model_version: modelVersionJson(v) }
}

const setAlias: Handler = async (ctx, f) => {
  await call(ctx.tracker.setAlias(requireString(f, "name"), requireString(f, "alias"), versionField(f)))
  return {}
}

const getAlias: Handler = async (ctx, f) => ({
  model_version: modelVersionJson(await call(ctx.tracker.getModelVersion(requireString(f, "name"), { alias: requireString(f, "alias") })))
})

const deleteAlias: Handler = async (ctx, f) => {
  await call(ctx.tracker.deleteAlias(requireString(f, "name"), requireString(f, "alias")))
  return {}
}

/** MLflow's delete: the model and its versions are gone from reads; the log keeps their events. */
const deleteModel: Handler = async (ctx, f) => {
  await call(ctx.tracker.deleteModel(requireString(f, "name")))
  return {}
}

/** MLflow's update: a description given replaces the model's; none changes nothing. */
const updateModel: Handler = async (ctx, f) => {
  const name = requireString(f, "name")
  const description = optionalString(f, "description")
  const m = description === undefined ? await modelNamed(ctx, name) : await call(ctx.tracker.setModelDescription(name, description))
  return { registered_model: await registeredModelJson(ctx, m) }
}

const updateVersion: Handler = async (ctx, f) => {
  const name = requireString(f, "name")
  const version = versionField(f)
  const description = optionalString(f, "description")
  const v = description === undefined
    ? await call(ctx.tracker.getModelVersion(name, { version }))
    : await call(ctx.tracker.setModelVersionDescription(name, version, description))
  return { model_version: modelVersionJson(v) }
}

/**
 * MLflow's rename: the model goes on under `new_name` with its versions, stages and aliases; the
 * old name is then RESOURCE_DOES_NOT_EXIST. The tracker decides (and refuses a taken name under
 * the new name's stream version, so racing renames cannot both win); the reads before it only
 * give MLflow's codes for an unknown model and a taken name.
 */
const renameModel: Handler = async (ctx, f) => {
  const name = requireString(f, "name")
  const newName = requireString(f, "new_name")
  const models = await call(ctx.tracker.listModels())
  if (!models.some((m) => m.name === name)) throw new MlflowError("RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`)
  if (models.some((m) => m.name === newName)) throw new MlflowError("RESOURCE_ALREADY_EXISTS", `Registered Model (name=${newName}) already exists.`)
  return { registered_model: await registeredModelJson(ctx, await call(ctx.tracker.renameModel(name, newName))) }
}

const immutable = (what: string): Handler => async () => {
  throw new MlflowError("NOT_IMPLEMENTED", `runledger's model registry has no such change yet: ${what} is not supported. Register a new model or version instead.`)
}

export const REGISTRY_ROUTES: ReadonlyArray<Route> = [
  ["POST", "registered-models/create", createModel],
  ["GET", "registered-models/get", getModel],
  ["GET", "registered-models/search", searchModels],
  ["POST", "registered-models/get-latest-versions", latestVersions],
  ["GET", "registered-models/get-latest-versions", latestVersions],
  ["POST", "registered-models/rename", renameModel],
  ["PATCH", "registered-models/update", updateModel],
  ["DELETE", "registered-models/delete", deleteModel],
  ["POST", "registered-models/set-tag", immutable("tagging a model after registration")],
  ["POST", "registered-models/alias", setAlias],
  ["GET", "registered-models/alias", getAlias],
  ["DELETE", "registered-models/alias", deleteAlias],
  ["POST", "model-versions/create", createVersion],
  ["GET", "model-versions/get", getVersion],
  ["GET", "model-versions/search", searchVersions],
  ["POST", "model-versions/transition-stage", transitionStage],
  ["PATCH", "model-versions/update", updateVersion],
  ["DELETE", "model-versions/delete", immutable("deleting a model version")],
  ["POST", "model-versions/set-tag", immutable("tagging a model version")]
]
