/**
 * The model registry, folded from `model-<name>` streams.
 *
 * Renaming (crash-safe across two streams). A model's stream is named after the model, and the
 * store appends to one stream at a time under that stream's expected version, so a rename from A
 * to B is two appends, in this order:
 *   1. `ModelRenameClaimed{from: A, fromVersion: n}` on `model-B`, decided against B's stream: it
 *      is refused when a model lives under B or another rename's claim is pending there. Two
 *      renames racing to B meet on B's expected version: one claim lands, the other is re-decided
 *      and refused.
 *   2. `ModelRenamed{to: B, toVersion}` on `model-A`, appended at exactly version n.
 * The one fact that decides a claim is what `model-A` holds at version n + 1:
 *   - the ModelRenamed naming B and the claim's version: the rename took effect. Reads show the
 *     model (versions, stages, aliases, tags, created time) under B; A is free.
 *   - nothing yet: the claim is PENDING. The model is still live under A, and B shows nothing but
 *     stays reserved: a rename in flight may still land its step 2, and letting B be taken
 *     meanwhile would end with two models claiming one name. (The same rename asked again, from
 *     A at n, completes it; anything else asking for B is told to run `runledger repair`.)
 *   - anything else (a write to the model under A, its deletion, or repair's
 *     ModelRenameAbandoned): the claim is dead, as the expected version n makes step 2 fail
 *     for good. B is free; a rename that lost this way starts over with a new claim.
 * Repair abandons a pending claim rather than completing it: nobody was told the rename happened,
 * every reader meanwhile saw the model under A (and may use `models:/A/...`), so moving it at
 * repair time would be a change nobody asked for at that moment; the caller may rename again.
 *
 * A stream's own events do not say whether its claim took effect: `modelOrigin` finds the claim a
 * stream's current model starts from, `claimOutcome` judges it from the old stream, and
 * `foldModelStream` continues the old stream's model under the new name. The whole-log fold
 * (LogProjection, via `applyModelEvent`) needs none of that: it sees ModelRenamed in log order.
 */
import { Schema } from "effect"
import { type Event, type EventOf, Stage } from "../events.ts"

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
  // A model renamed away is gone from this stream, as a deleted one; a claim alone shows nothing.
  if (state === undefined || event.type === "ModelDeleted" || event.type === "ModelRenamed") return undefined
  state.version = event.version
  // An abandoned rename changed nothing about the model.
  if (event.type === "ModelRenameAbandoned") return state
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

// ---------------------------------------------------------------------------
// Renames (see the protocol at the top)

export type RenameClaim = EventOf<"ModelRenameClaimed">

/** How the model a stream holds now began: registered on it, claimed by a rename, or none (never, deleted, renamed away). */
export type ModelOrigin = { readonly kind: "none" } | { readonly kind: "registered" } | { readonly kind: "claimed"; readonly claim: RenameClaim; readonly index: number }

export const modelOrigin = (events: ReadonlyArray<Event>): ModelOrigin => {
  let origin: ModelOrigin = { kind: "none" }
  events.forEach((e, index) => {
    if (e.type === "ModelRegistered") origin = { kind: "registered" }
    else if (e.type === "ModelRenameClaimed") origin = { kind: "claimed", claim: e, index }
    else if (e.type === "ModelDeleted" || e.type === "ModelRenamed") origin = { kind: "none" }
  })
  return origin
}

export type ClaimOutcome = "renamed" | "pending" | "abandoned"

/** What became of a claim on `model-<name>`, given the events of the old stream it names. */
export const claimOutcome = (name: string, claim: RenameClaim, fromEvents: ReadonlyArray<Event>): ClaimOutcome => {
  const next = fromEvents[claim.data.fromVersion]
  if (next === undefined) return "pending"
  return next.type === "ModelRenamed" && next.data.to === name && next.data.toVersion === claim.version ? "renamed" : "abandoned"
}

const copyModel = (m: ModelState): ModelState => ({ ...m, tags: { ...m.tags }, versions: new Map(m.versions), aliases: new Map(m.aliases) })

/** The model moved by a ModelRenamed: the same model under its new name, at the claim's version of the new stream. */
export const renamedModel = (m: ModelState, renamed: EventOf<"ModelRenamed">): ModelState => ({
  ...copyModel(m),
  name: renamed.data.to,
  version: renamed.data.toVersion,
  updatedAt: renamed.at
})

/**
 * The model a stream holds. `carried` is, for a stream whose model began with a claim that took
 * effect, the old stream's model just before its ModelRenamed, and that event: the model goes on
 * from there with the events after the claim. Without it, a claimed stream holds no model.
 */
export const foldModelStream = (
  events: ReadonlyArray<Event>,
  carried?: { readonly model: ModelState; readonly renamed: EventOf<"ModelRenamed"> }
): ModelState | undefined => {
  const origin = modelOrigin(events)
  if (origin.kind === "none") return undefined
  if (origin.kind === "registered") {
    let m: ModelState | undefined
    for (const e of events) m = evolveModel(m, e)
    return m
  }
  if (carried === undefined) return undefined
  let m: ModelState | undefined = renamedModel(carried.model, carried.renamed)
  for (let i = origin.index + 1; i < events.length; i++) m = evolveModel(m, events[i])
  return m
}

/** A claim not yet decided either way, as the whole-log fold sees it: what `runledger repair` abandons. */
export interface PendingRename {
  readonly from: string
  readonly fromVersion: number
  readonly to: string
  readonly toVersion: number
  readonly at: number
  readonly actor: string | undefined
}

/**
 * One model-stream event applied to the registry in log order (LogProjection). ModelRenamed moves
 * the model to its new name; pending claims are tracked until the old stream's next event decides
 * them (see the protocol at the top).
 */
export const applyModelEvent = (models: Map<string, ModelState>, pending: Map<string, PendingRename>, name: string, event: Event): void => {
  // The old stream's event after a claim's fromVersion decides the claim, whatever it is.
  for (const [to, p] of pending) if (p.from === name && event.version === p.fromVersion + 1) pending.delete(to)
  if (event.type === "ModelRenameClaimed") {
    // A claim whose old stream had already moved past fromVersion (a write raced the claim) is dead from the start.
    if (models.get(event.data.from)?.version === event.data.fromVersion) pending.set(name, { from: event.data.from, fromVersion: event.data.fromVersion, to: name, toVersion: event.version, at: event.at, actor: event.meta?.actor })
  } else if (event.type === "ModelRegistered") {
    pending.delete(name)
  }
  if (event.type === "ModelRenamed") {
    const m = models.get(name)
    models.delete(name)
    if (m !== undefined) models.set(event.data.to, renamedModel(m, event))
    return
  }
  const next = evolveModel(models.get(name), event)
  // A deleted model is gone from every read (its events stay in the log).
  if (next !== undefined) models.set(name, next)
  else models.delete(name)
}
