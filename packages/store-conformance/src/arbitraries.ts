/**
 * fast-check arbitraries for events and metric values: what the conformance suite appends, shared
 * with the core and read-model tests (`@runledger/store-conformance/arbitraries`).
 */
import fc from "fast-check"
import { CURRENT_SCHEMA, type Draft, type Event, type EventData, EVENT_TYPES, type EventType, type NewEvent } from "@runledger/core"

/** Every double, including NaN, -0 and +/-Infinity. */
export const anyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, -0, 0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE)
)

export const key = fc.stringMatching(/^[a-zA-Z0-9_\-. ][a-zA-Z0-9_\-. /]{0,20}$/).filter((k) => !k.split("/").includes(".."))
const text = fc.string({ maxLength: 30 })
const id = fc.stringMatching(/^[0-9a-f]{32}$/)
const paramValue = fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)), fc.boolean())
const stringMap = fc.dictionary(key, text, { maxKeys: 4 })

const metrics = fc.integer({ min: 0, max: 40 }).chain((n) =>
  fc.record({
    keys: fc.array(fc.constantFrom("loss", "acc", "a/b", "lr x"), { minLength: n, maxLength: n }),
    values: fc.array(anyNumber, { minLength: n, maxLength: n }),
    steps: fc.oneof(
      fc.array(fc.nat({ max: 1e6 }), { minLength: n, maxLength: n }),
      fc.nat({ max: 100 }).map((s) => new Array<number>(n).fill(s))
    ),
    timestamps: fc.oneof(
      fc.array(fc.nat({ max: 2e12 }), { minLength: n, maxLength: n }),
      fc.nat({ max: 2e12 }).map((t) => new Array<number>(n).fill(t))
    )
  })
)

const environment = fc.record({
  runtime: text,
  os: text,
  arch: text,
  cpu: text,
  cpus: fc.nat(256),
  memoryBytes: fc.nat(),
  host: text,
  pid: fc.nat()
})

const source = fc.record(
  {
    git: fc.record({ commit: fc.stringMatching(/^[0-9a-f]{40}$/), branch: fc.option(text, { nil: null }), dirty: fc.boolean(), root: text }),
    command: fc.array(text, { maxLength: 3 }),
    cwd: text
  },
  { requiredKeys: [] }
)

const stage = fc.constantFrom("None" as const, "Staging" as const, "Production" as const, "Archived" as const)

/** A generator per event type: the compiler demands one for every type in the table (events.ts). */
const bodies: { readonly [T in EventType]: fc.Arbitrary<EventData<T>> } = {
  ExperimentCreated: fc.record({ experimentId: id, name: text, tags: stringMap }),
  ExperimentRenamed: fc.record({ experimentId: id, name: text }),
  ExperimentDeleted: fc.record({ experimentId: id }),
  ExperimentRestored: fc.record({ experimentId: id }),
  ExperimentTagsSet: fc.record({ experimentId: id, tags: stringMap }),
  ExperimentForked: fc.record({ experimentId: id, name: text, parentExperimentId: id, overrides: fc.dictionary(key, paramValue, { maxKeys: 3 }), tags: stringMap }),
  RunDeleted: fc.constant({}),
  RunRestored: fc.constant({}),
  RunResumed: fc.record({ fromStep: fc.nat(1e6) }),
  RunHeartbeat: fc.constant({}),
  RunRenamed: fc.record({ name: text }),
  ModelRegistered: fc.record({ name: text, description: text, tags: stringMap }),
  ModelVersionCreated: fc.record({ version: fc.integer({ min: 1, max: 99 }), runId: id, artifactPath: fc.constantFrom("model", "a/b.json") }),
  StagePromoted: fc.record({ version: fc.integer({ min: 1, max: 99 }), from: stage, to: stage, archived: fc.array(fc.record({ version: fc.integer({ min: 1, max: 99 }), from: stage }), { maxLength: 2 }) }),
  AliasSet: fc.record({ alias: fc.constantFrom("champion", "b"), version: fc.integer({ min: 1, max: 99 }), previous: fc.option(fc.integer({ min: 1, max: 99 }), { nil: null }) }),
  AliasDeleted: fc.record({ alias: fc.constantFrom("champion", "b"), version: fc.integer({ min: 1, max: 99 }) }),
  ModelDescribed: fc.record({ description: text }),
  ModelDeleted: fc.constant({}),
  ModelVersionDescribed: fc.record({ version: fc.integer({ min: 1, max: 99 }), description: text }),
  ModelRenameClaimed: fc.record({ from: text, fromVersion: fc.nat(1000) }),
  ModelRenamed: fc.record({ to: text, toVersion: fc.integer({ min: 1, max: 1000 }) }),
  ModelRenameAbandoned: fc.record({ to: text, toVersion: fc.integer({ min: 1, max: 1000 }) }),
  RunStarted: fc.record(
    {
      runId: id,
      experimentId: id,
      name: text,
      parentRunId: fc.option(id, { nil: null }),
      tags: stringMap,
      source,
      environment,
      owner: fc.oneof(fc.record({ kind: fc.constant("lease" as const), ttlMs: fc.integer({ min: 1000, max: 2 ** 31 - 1 }) }), fc.constant({ kind: "none" as const }))
    },
    { requiredKeys: ["runId", "experimentId", "name", "parentRunId", "tags", "source", "environment"] }
  ),
  ParamsLogged: fc.record({ params: fc.dictionary(key, paramValue, { maxKeys: 4 }) }),
  MetricsLogged: metrics,
  TagsSet: fc.record({ tags: stringMap }),
  TagDeleted: fc.record({ key }),
  ArtifactStored: fc.record({ path: fc.constantFrom("a.txt", "model/w.json"), sha256: fc.stringMatching(/^[0-9a-f]{64}$/), size: fc.nat(), mediaType: text }),
  InputLogged: fc.record(
    { name: text, digest: fc.stringMatching(/^[0-9a-f]{8}$/), sourceType: fc.constantFrom("local", "http", "delta_table"), source: text, schema: text, profile: text, tags: stringMap },
    { requiredKeys: ["name", "digest", "sourceType", "source", "tags"] }
  ),
  RunEnded: fc.record(
    { status: fc.constantFrom("FINISHED" as const, "FAILED" as const, "KILLED" as const), error: fc.record({ message: text }) },
    { requiredKeys: ["status"] }
  )
}

/** The body of every event type. */
export const draft: fc.Arbitrary<Draft> = fc.oneof(...EVENT_TYPES.map((type) => bodies[type].map((data) => ({ type, data }) as Draft)))

export const newEvent = fc.tuple(draft, fc.uuid({ version: 7 }), fc.nat({ max: 2e12 })).map(
  ([d, uuid, at]) => ({ id: uuid, at, type: d.type, data: d.data, meta: { host: "h", pid: 1 }, ...(CURRENT_SCHEMA[d.type] ? { schema: CURRENT_SCHEMA[d.type] } : {}) }) as NewEvent
)

export const event = fc.tuple(newEvent, fc.stringMatching(/^run-[0-9a-f]{8}$/), fc.integer({ min: 1, max: 1000 })).map(
  ([e, stream, version]) => ({ ...e, stream, version }) as Event
)

/** Deep equality where numbers compare with Object.is: NaN equals NaN, -0 differs from 0. */
export const sameValue = (a: unknown, b: unknown): boolean => {
  if (typeof a === "number" || typeof b === "number") return Object.is(a, b)
  // A column decodes to a Float64Array; it equals the plain array it was written from.
  if (a instanceof Float64Array) a = Array.from(a)
  if (b instanceof Float64Array) b = Array.from(b)
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
  if (ka.length !== kb.length) return false
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}
