import { invalid, type ModelVersionView, STAGES, type Stage } from "@runledger/core"
import { type ModelVersionRef } from "@runledger/tracker"
import { Argument, Command, Flag } from "effect/cli"
import { formatTime, listingJson, table, toJson } from "../format.ts"
import { asOfFlag, out, outExact, parseAsOf, resolveRun, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

const nameArg = Argument.String("model").pipe(Argument.withDescription("Registered model name"))

const versionRow = (v: ModelVersionView) => [String(v.version), v.stage, v.aliases.map((a) => `@${a}`).join(" ") || "-", v.runId.slice(0, 12), v.artifactPath, formatTime(v.createdAt)]
const VERSION_HEADER = ["VERSION", "STAGE", "ALIASES", "RUN", "PATH", "CREATED"]

/** A version reference as people type it: 3, Production, @champion. */
const parseRef = (text: string): ModelVersionRef => {
  if (/^\d+$/.test(text)) return { version: Number(text) }
  if (text.startsWith("@")) return { alias: text.slice(1) }
  const stage = STAGES.find((s) => s.toLowerCase() === text.toLowerCase())
  if (stage === undefined) throw new RangeError(`${JSON.stringify(text)} is not a version number, a stage (${STAGES.join(", ")}) or an @alias.`)
  return { stage }
}

const list = { asOf: asOfFlag, json: jsonFlag }

const show = Command.make(
  "show",
  { model: nameArg, version: Argument.String("version").pipe(Argument.withDescription("A version: 3, Production or @alias"), Argument.optional), asOf: asOfFlag, json: jsonFlag },
  ({ model, version, asOf, json }) =>
    withTracker(async (tracker) => {
      const at = parseAsOf(asOf)
      const options = at ? { asOf: at } : {}
      if (version._tag === "Some") {
        const v = await tracker.getModelVersion(model, parseRef(version.value), options)
        if (json) return outExact(toJson(v))
        return out(`${v.name} version ${v.version}: ${v.stage}${v.aliases.length > 0 ? `, ${v.aliases.map((a) => `@${a}`).join(" ")}` : ""}\n  source  runs:/${v.runId}/${v.artifactPath}\n  created ${formatTime(v.createdAt)}, updated ${formatTime(v.updatedAt)}`)
      }
      const m = (await tracker.listModels(options)).find((x) => x.name === model)
      const versions = await tracker.listModelVersions(model, options)
      if (json) return outExact(toJson({ ...m, versionList: versions }))
      const lines = [`Model ${model}${m?.description ? `: ${m.description}` : ""}`, `  created ${formatTime(m?.createdAt ?? null)}, ${versions.length} version(s)`]
      if (versions.length > 0) lines.push("", table(VERSION_HEADER, versions.map(versionRow)))
      out(lines.join("\n"))
    })
).pipe(Command.withDescription("Show a registered model and its versions, or one version (3, Production, @alias)"))

const versions = Command.make("versions", { model: nameArg, ...list }, ({ model, asOf, json }) =>
  withTracker(async (tracker) => {
    const at = parseAsOf(asOf)
    const vs = await tracker.listModelVersions(model, at ? { asOf: at } : {})
    if (json) return outExact(listingJson("versions", vs))
    out(vs.length === 0 ? `Model ${model} has no versions yet.` : table(VERSION_HEADER, vs.map(versionRow)))
  })
).pipe(Command.withDescription("List a model's versions with their stages and aliases"))

const register = Command.make(
  "register",
  {
    model: nameArg,
    run: Flag.String("run").pipe(Flag.withDescription("The run that stored the model (id, prefix or name)")),
    path: Flag.String("path").pipe(Flag.withDescription("The run's artifact path: a file or a folder")),
    description: Flag.String("description").pipe(Flag.withDescription("Description, when the model is new"), Flag.withDefault("")),
    json: jsonFlag
  },
  ({ model, run, path, description, json }) =>
    withTracker(async (tracker) => {
      const r = await resolveRun(tracker, run)
      const known = (await tracker.listModels()).some((m) => m.name === model)
      // A new model is registered by the same append as its first version: a refusal leaves nothing.
      const v = await tracker.createModelVersion(model, { runId: r.id, artifactPath: path, register: { description } })
      if (json) return outExact(toJson(v))
      out(`${known ? "" : `Registered model ${model}. `}Created version ${v.version} of ${model} from runs:/${r.id}/${v.artifactPath}.`)
    })
).pipe(Command.withDescription("Register a run's artifact as a new version of a model (registering the model if it is new)"))

const promote = Command.make(
  "promote",
  {
    model: nameArg,
    version: Argument.Int("version").pipe(Argument.withDescription("The version number to move")),
    stage: Argument.String("stage").pipe(Argument.withDescription(`One of ${STAGES.join(", ")}`)),
    archiveExisting: Flag.Boolean("archive-existing").pipe(Flag.withDescription("Archive the version(s) that hold the stage, in the same step"), Flag.withDefault(false))
  },
  ({ model, version, stage, archiveExisting }) =>
    withTracker(async (tracker) => {
      const before = await tracker.listModelVersions(model)
      const target = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase()) ?? (stage as Stage)
      const v = await tracker.transitionStage(model, version, target, { archiveExisting })
      const after = await tracker.listModelVersions(model)
      const archived = after.filter((x) => x.stage === "Archived" && before.find((b) => b.version === x.version)?.stage !== "Archived" && x.version !== version)
      out(`${model} version ${v.version} is now in ${v.stage}${archived.length > 0 ? `; archived version ${archived.map((a) => a.version).join(", ")}` : ""}.`)
    })
).pipe(Command.withDescription("Move a version to a stage (None, Staging, Production, Archived)"))

const alias = Command.make(
  "alias",
  {
    model: nameArg,
    alias: Argument.String("alias").pipe(Argument.withDescription("The alias, e.g. champion (a leading @ is dropped)")),
    version: Argument.Int("version").pipe(Argument.withDescription("The version it points to (not with --delete)"), Argument.optional),
    remove: Flag.Boolean("delete").pipe(Flag.withDescription("Delete the alias"), Flag.withDefault(false))
  },
  ({ model, alias, version, remove }) =>
    withTracker(async (tracker) => {
      const name = alias.replace(/^@/, "")
      if (remove) {
        await tracker.deleteAlias(model, name)
        return out(`Deleted @${name} of ${model}.`)
      }
      if (version._tag === "None") throw new RangeError("Give the version the alias points to, or --delete.")
      const v = await tracker.setAlias(model, name, version.value)
      out(`@${name} of ${model} now points to version ${v.version}.`)
    })
).pipe(Command.withDescription("Point an alias (@champion) at a version, or --delete it"))

const remove = Command.make(
  "delete",
  { model: nameArg },
  ({ model }) =>
    withTracker(async (tracker) => {
      await tracker.deleteModel(model)
      out(`Deleted model ${model}: it and its versions no longer show, and models:/${model}/... no longer resolves. Its events stay in the log; reads --as-of an earlier time still show it.`)
    })
).pipe(Command.withDescription("Delete a registered model (its events stay in the log; the name can be registered again)"))

const rename = Command.make(
  "rename",
  {
    model: nameArg,
    newName: Argument.String("new-name").pipe(Argument.withDescription("The model's new name (free: no model has it)")),
    json: jsonFlag
  },
  ({ model, newName, json }) =>
    withTracker(async (tracker) => {
      const m = await tracker.renameModel(model, newName)
      if (json) return outExact(toJson(m))
      out(`Renamed model ${model} to ${m.name}, with its ${m.versions} version(s), stages and aliases: use models:/${m.name}/...; the name ${model} is free. Reads --as-of an earlier time show the old name.`)
    })
).pipe(Command.withDescription("Rename a registered model; its versions, stages and aliases go with it, and the old name is free"))

const download = Command.make(
  "download",
  {
    uri: Argument.String("uri").pipe(Argument.withDescription("models:/<name>/<version|stage|@alias> or runs:/<run id>/<path>")),
    out: Flag.String("out").pipe(Flag.withDescription("Where to write: a file, a folder, or - for stdout (one file only)"), Flag.withDefault("."))
  },
  ({ uri, out: dest }) =>
    withTracker(async (tracker) => {
      // runs:/ takes a run id prefix or name here, like every other command.
      const runUri = /^runs:\/([^/]+)\/(.+)$/.exec(uri)
      const full = runUri ? `runs:/${(await resolveRun(tracker, runUri[1])).id}/${runUri[2]}` : uri
      if (dest === "-") {
        // The bytes themselves on stdout, for a pipe; a folder of files has no single stream to be.
        const files = await tracker.readArtifacts(full)
        if (files.length !== 1) {
          throw invalid("out", `${uri} holds ${files.length} files (${files.slice(0, 3).map((f) => f.relativePath).join(", ")}${files.length > 3 ? ", ..." : ""}); --out - writes one file to stdout. Give a folder instead, or name one file.`)
        }
        await new Promise<void>((resolve, reject) => process.stdout.write(files[0].bytes, (e) => (e ? reject(e) : resolve())))
        return
      }
      const written = await tracker.downloadArtifacts(full, dest)
      out(written.join("\n"))
    })
).pipe(Command.withDescription("Download the exact bytes of a model version or a run's artifacts"))

const listModels = ({ asOf, json }: { readonly asOf: Parameters<typeof parseAsOf>[0]; readonly json: boolean }) =>
  withTracker(async (tracker) => {
    const at = parseAsOf(asOf)
    const ms = await tracker.listModels(at ? { asOf: at } : {})
    if (json) return outExact(listingJson("models", ms))
    if (ms.length === 0) return out("No registered models. Register one with `runledger models register NAME --run RUN --path PATH`.")
    out(
      table(
        ["NAME", "VERSIONS", "PRODUCTION", "STAGING", "ALIASES", "UPDATED"],
        ms.map((m) => [
          m.name,
          String(m.versions),
          m.latest.Production ? `v${m.latest.Production}` : "-",
          m.latest.Staging ? `v${m.latest.Staging}` : "-",
          Object.entries(m.aliases).map(([a, v]) => `@${a}=v${v}`).join(" ") || "-",
          formatTime(m.updatedAt)
        ])
      )
    )
  })

export const models = Command.make("models", list, listModels).pipe(
  Command.withDescription("The model registry: list models; show, versions, register, promote, alias, rename, delete, download"),
  Command.withSubcommands([Command.make("list", list, listModels).pipe(Command.withDescription("List registered models")), show, versions, register, promote, alias, rename, remove, download])
)
