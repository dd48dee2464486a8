/** The model registry, folded from `model-<name>` streams. */
import { Schema } from "effect"
import { type Event, Stage } from "../events.ts"

export const ModelVersionView = Schema.Struct({
  name: Schema.String,
  version: Schema.Number,
  stage: Stage,
  aliases: Schema.Array(Schema.String),
  runId: Schema.String,
  artifactPath: Schema.String,
  /** Empty until set (ModelVersionDescribed). */
  description: Schema.String,
  createdAt: Schema.Number,
  updatedAt: Schema.Number
}).annotate({ identifier: "ModelVersionView" })
export type ModelVersionView = typeof ModelVersionView.Type

export interface ModelState {
  name: string
  description: string
  tags: Record<string, string>
  createdAt: number
  updatedAt: number
  versions: Map<number, { version: number; runId: string; artifactPath: string; description: string; stage: Stage; createdAt: number; updatedAt: number }>
  aliases: Map<string, number>
  /** The model stream's version. */
  version: number
}

export const ModelView = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  tags: Schema.Record(Schema.String, Schema.String),
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  versions: Schema.Number,
  /** The newest version in each stage that has one. */
  latest: Schema.Struct({ None: Schema.optionalKey(Schema.Number), Staging: Schema.optionalKey(Schema.Number), Production: Schema.optionalKey(Schema.Number), Archived: Schema.optionalKey(Schema.Number) }),
  aliases: Schema.Record(Schema.String, Schema.Number)
}).annotate({ identifier: "ModelView" })
export type ModelView = typeof ModelView.Type

/** Fold one event of a model's stream. ModelRegistered starts the model; ModelDeleted ends it (undefined: no such model). */
export const evolveModel = (state: ModelState | undefined, event: Event): ModelState | undefined => {
  if (event.type === "ModelRegistered") {
    return {
      name: event.data.name,
      description: event.data.description,
      tags: { ...event.data.tags },
      createdAt: event.at,
      updatedAt: event.at,
      versions: new Map(),
      aliases: new Map(),
      version: event.version
    }
  }
  if (state === undefined || event.type === "ModelDeleted") return undefined
  state.version = event.version
  state.updatedAt = event.at
  switch (event.type) {
    case "ModelVersionCreated":
      state.versions.set(event.data.version, { version: event.data.version, runId: event.data.runId, artifactPath: event.data.artifactPath, description: "", stage: "None", createdAt: event.at, updatedAt: event.at })
      break
    case "StagePromoted": {
      for (const a of event.data.archived) {
        const v = state.versions.get(a.version)
        if (v) state.versions.set(a.version, { ...v, stage: "Archived", updatedAt: event.at })
      }
      const v = state.versions.get(event.data.version)
      if (v) state.versions.set(event.data.version, { ...v, stage: event.data.to, updatedAt: event.at })
      break
    }
    case "ModelDescribed":
      state.description = event.data.description
      break
    case "ModelVersionDescribed": {
      const v = state.versions.get(event.data.version)
      if (v) state.versions.set(event.data.version, { ...v, description: event.data.description, updatedAt: event.at })
      break
    }
    case "AliasSet":
      state.aliases.set(event.data.alias, event.data.version)
      break
    case "AliasDeleted":
      state.aliases.delete(event.data.alias)
      break
  }
  return state
}

export const versionView = (m: ModelState, version: number): ModelVersionView | undefined => {
  const v = m.versions.get(version)
  if (v === undefined) return undefined
  const aliases = [...m.aliases].filter(([, n]) => n === version).map(([a]) => a).sort()
  return { name: m.name, ...v, aliases }
}

export const toModelView = (m: ModelState): ModelView => {
  const latest: Partial<Record<Stage, number>> = {}
  for (const v of m.versions.values()) if ((latest[v.stage] ?? 0) < v.version) latest[v.stage] = v.version
  return {
    name: m.name,
    description: m.description,
    tags: { ...m.tags },
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    versions: m.versions.size,
    latest,
    aliases: Object.fromEntries([...m.aliases].sort(([a], [b]) => a.localeCompare(b)))
  }
}

/** The versions currently in a stage, oldest first. */
export const versionsInStage = (m: ModelState, stage: Stage): number[] =>
  [...m.versions.values()].filter((v) => v.stage === stage).map((v) => v.version).sort((a, b) => a - b)
