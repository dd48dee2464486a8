/**
 * Model registry commands. Every write to a model's stream is decided against the stream's state
 * and appended under its expected version, so racing promotions land one after another, each
 * judged against the state the previous one left.
 */
import { invalid, NotFound } from "../errors.ts"
import { type Stage, STAGES } from "../events.ts"
import { type ModelState, type RenameClaim, versionsInStage } from "../project/models.ts"
import type { RunState } from "../project/runs.ts"
import { checkArtifactPath, checkTags, checkText } from "../validate.ts"
import { type Decision, ok, refuse } from "./common.ts"

const MODEL_NAME = /^[\p{L}\p{N}_\-. ]+$/u

/** Model names go into `models:/<name>/...` URIs: no '/', '@' or ':'. */
export const checkModelName = (name: unknown) => {
  if (typeof name !== "string" || name.trim().length === 0) return invalid("model name", "A model name must be a non-empty string.")
  if (name.length > 250) return invalid("model name", `The model name has ${name.length} characters; the limit is 250.`)
  if (!MODEL_NAME.test(name)) return invalid("model name", `The model name ${JSON.stringify(name)} may only have letters, digits, '_', '-', '.' and space.`)
  return undefined
}

/** Aliases must not read as a version number or a stage, so a reference is never ambiguous. */
export const checkAlias = (alias: unknown) => {
  if (typeof alias !== "string" || !/^[A-Za-z0-9_\-.]{1,100}$/.test(alias)) {
    return invalid("alias", `An alias is 1..100 letters, digits, '_', '-' or '.', not ${JSON.stringify(alias)}.`)
  }
  if (/^v?\d+$/i.test(alias)) return invalid("alias", `The alias ${JSON.stringify(alias)} looks like a version number; pick a name such as "champion".`)
  if (STAGES.some((s) => s.toLowerCase() === alias.toLowerCase())) return invalid("alias", `The alias ${JSON.stringify(alias)} is a stage name; pick another.`)
  return undefined
}

export const modelMissing = (name: string) =>
  new NotFound({ kind: "model", id: name, message: `No registered model ${JSON.stringify(name)}. Register it with \`runledger models register\` (or registerModel).` })

const versionMissing = (m: ModelState, version: number) =>
  new NotFound({ kind: "model version", id: `${m.name}/${version}`, message: `Model ${JSON.stringify(m.name)} has no version ${version} (it has ${m.versions.size === 0 ? "none" : `1..${m.versions.size}`}).` })

/** A name another model's rename has claimed and not yet finished (see project/models.ts): refused until that ends. */
const reserved = (name: string, claim: RenameClaim) =>
  invalid(
    "model name",
    `Model name ${JSON.stringify(name)} is reserved by an unfinished rename of model ${JSON.stringify(claim.data.from)}${claim.meta?.actor ? ` by ${claim.meta.actor}` : ""} at ${new Date(claim.at).toISOString()}. If that rename was interrupted, \`runledger repair\` abandons it (the model keeps its old name); then try again.`
  )

export const decideRegisterModel = (model: ModelState | undefined, name: string, description = "", tags: Record<string, string> = {}, pending?: RenameClaim): Decision => {
  const bad = checkModelName(name) ?? checkTags(tags)
  if (bad) return refuse(bad)
  if (pending !== undefined) return refuse(reserved(name, pending))
  if (typeof description !== "string") return refuse(invalid("description", "A model description is a string."))
  const badText = checkText("description", "model description", description)
  if (badText) return refuse(badText)
  if (model !== undefined) return refuse(invalid("model name", `Model ${JSON.stringify(name)} is already registered.`))
  return ok([{ type: "ModelRegistered", data: { name, description, tags } }])
}

/** The run must exist, not be deleted, and have stored the artifact path: a file, or a folder of files. */
export const decideCreateModelVersion = (model: ModelState | undefined, name: string, run: RunState | undefined, runId: string, artifactPath: string): Decision => {
  if (model === undefined) return refuse(modelMissing(name))
  if (run === undefined) return refuse(new NotFound({ kind: "run", id: runId, message: `No run with id ${runId}; a model version must come from a logged run.` }))
  if (run.deleted) return refuse(invalid("run", `Run ${runId} is deleted; restore it before registering its model.`))
  const folder = artifactPath.replace(/\/+$/, "")
  const bad = checkArtifactPath(folder)
  if (bad) return refuse(bad)
  const stored = [...run.artifacts.keys()]
  if (!stored.some((p) => p === folder || p.startsWith(`${folder}/`))) {
    return refuse(new NotFound({
      kind: "artifact",
      id: folder,
      message: `Run ${runId} stored no artifact at ${JSON.stringify(folder)}${stored.length > 0 ? `; it has ${stored.slice(0, 8).join(", ")}${stored.length > 8 ? ", ..." : ""}` : " (it has no artifacts)"}.`
    }))
  }
  return ok([{ type: "ModelVersionCreated", data: { version: model.versions.size + 1, runId, artifactPath: folder } }])
}

/**
 * Move a version to a stage. Production holds at most one version: promoting over a holder needs
 * `archiveExisting`, which archives it in the same event. Promoting to the stage the version
 * already holds changes nothing and succeeds. For Staging, `archiveExisting` archives
 * the versions there too; without it several versions may be in Staging (as in MLflow).
 */
export const decideTransitionStage = (model: ModelState | undefined, name: string, version: number, stage: string, archiveExisting: boolean): Decision => {
  if (model === undefined) return refuse(modelMissing(name))
  if (!STAGES.includes(stage as Stage)) return refuse(invalid("stage", `Unknown stage ${JSON.stringify(stage)}; use one of ${STAGES.join(", ")}.`))
  const to = stage as Stage
  const v = model.versions.get(version)
  if (v === undefined) return refuse(versionMissing(model, version))
  // Already there: a no-op success, as in MLflow, so a deploy script can run twice and racing
  // promoters of the same version both succeed.
  if (v.stage === to) return ok([])
  const holders = to === "Production" || to === "Staging" ? versionsInStage(model, to) : []
  if (to === "Production" && holders.length > 0 && !archiveExisting) {
    return refuse(invalid("stage", `Version ${holders.join(", ")} of ${JSON.stringify(name)} holds Production; pass archiveExisting (--archive-existing) to archive it in the same step, or move it out first.`))
  }
  const archived = archiveExisting ? holders.map((h) => ({ version: h, from: to })) : []
  return ok([{ type: "StagePromoted", data: { version, from: v.stage, to, archived } }])
}

export const decideSetAlias = (model: ModelState | undefined, name: string, alias: string, version: number): Decision => {
  if (model === undefined) return refuse(modelMissing(name))
  const bad = checkAlias(alias)
  if (bad) return refuse(bad)
  if (!model.versions.has(version)) return refuse(versionMissing(model, version))
  const previous = model.aliases.get(alias) ?? null
  if (previous === version) return ok([])
  return ok([{ type: "AliasSet", data: { alias, version, previous } }])
}

export const decideDeleteAlias = (model: ModelState | undefined, name: string, alias: string): Decision => {
  if (model === undefined) return refuse(modelMissing(name))
  const version = model.aliases.get(alias)
  if (version === undefined) return refuse(new NotFound({ kind: "alias", id: alias, message: `Model ${JSON.stringify(name)} has no alias ${JSON.stringify(alias)}.` }))
  return ok([{ type: "AliasDeleted", data: { alias, version } }])
}

/** Replace a model's description (MLflow's registered-models/update); the same text again records nothing. */
export const decideDescribeModel = (model: ModelState | undefined, name: string, description: string): Decision => {
  if (model === undefined) return refuse(modelMissing(name))
  if (typeof description !== "string") return refuse(invalid("description", "A model description is a string."))
  const bad = checkText("description", "model description", description)
  if (bad) return refuse(bad)
  if (model.description === description) return ok([])
  return ok([{ type: "ModelDescribed", data: { description } }])
}

/** Replace a version's description (MLflow's model-versions/update); the same text again records nothing. */
export const decideDescribeModelVersion = (model: ModelState | undefined, name: string, version: number, description: string): Decision => {
  if (model === undefined) return refuse(modelMissing(name))
  const v = model.versions.get(version)
  if (v === undefined) return refuse(versionMissing(model, version))
  if (typeof description !== "string") return refuse(invalid("description", "A model version description is a string."))
  const bad = checkText("description", "model version description", description)
  if (bad) return refuse(bad)
  if (v.description === description) return ok([])
  return ok([{ type: "ModelVersionDescribed", data: { version, description } }])
}

/** Delete a registered model: the events stay (audit); reads and `models:/` URIs no longer find it or its versions. */
export const decideDeleteModel = (model: ModelState | undefined, name: string): Decision =>
  model === undefined ? refuse(modelMissing(name)) : ok([{ type: "ModelDeleted", data: {} }])

/**
 * Step 1 of a rename (protocol in project/models.ts): the claim on the new name's stream. `target`
 * is the model under `to` and its pending claim, if any; `from` the model under `name`, read at
 * `fromVersion`. The same rename asked again while its claim is pending (same model, same
 * version) appends nothing: its step 2 is still to do.
 */
export const decideClaimModelName = (
  target: { readonly model: ModelState | undefined; readonly pending?: RenameClaim | undefined },
  to: string,
  from: ModelState | undefined,
  name: string,
  fromVersion: number
): Decision => {
  const bad = checkModelName(to)
  if (bad) return refuse(bad)
  if (from === undefined) return refuse(modelMissing(name))
  if (to === name) return refuse(invalid("new name", `Model ${JSON.stringify(name)} already has that name; give a different new name.`))
  if (target.model !== undefined) return refuse(invalid("new name", `Model ${JSON.stringify(to)} is already registered; pick another name (or delete that model first).`))
  if (target.pending !== undefined) {
    if (target.pending.data.from === name && target.pending.data.fromVersion === fromVersion) return ok([])
    return refuse(reserved(to, target.pending))
  }
  return ok([{ type: "ModelRenameClaimed", data: { from: name, fromVersion } }])
}
