/** fast-check arbitraries for events and metric values, shared by the core and store tests. */
import fc from "fast-check"
import { CURRENT_SCHEMA, type Event, type NewEvent } from "../src/index.ts"

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

/** The body of every event type. */
const stage = fc.constantFrom("None" as const, "Staging" as const, "Production" as const, "Archived" as const)

export const draft = fc.oneof(
  fc.record({ type: fc.constant("ExperimentCreated" as const), data: fc.record({ experimentId: id, name: text, tags: stringMap }) }),
  fc.record({ type: fc.constant("ExperimentRenamed" as const), data: fc.record({ experimentId: id, name: text }) }),
  fc.record({ type: fc.constant("ExperimentDeleted" as const), data: fc.record({ experimentId: id }) }),
  fc.record({ type: fc.constant("ExperimentRestored" as const), data: fc.record({ experimentId: id }) }),
  fc.record({
    type: fc.constant("ExperimentForked" as const),
    data: fc.record({ experimentId: id, name: text, parentExperimentId: id, overrides: fc.dictionary(key, paramValue, { maxKeys: 3 }), tags: stringMap })
  }),
  fc.record({ type: fc.constant("RunDeleted" as const), data: fc.constant({}) }),
  fc.record({ type: fc.constant("RunRestored" as const), data: fc.constant({}) }),
  fc.record({ type: fc.constant("RunResumed" as const), data: fc.record({ fromStep: fc.nat(1e6) }) }),
  fc.record({ type: fc.constant("RunRenamed" as const), data: fc.record({ name: text }) }),
  fc.record({ type: fc.constant("ModelRegistered" as const), data: fc.record({ name: text, description: text, tags: stringMap }) }),
  fc.record({ type: fc.constant("ModelVersionCreated" as const), data: fc.record({ version: fc.integer({ min: 1, max: 99 }), runId: id, artifactPath: fc.constantFrom("model", "a/b.json") }) }),
  fc.record({
    type: fc.constant("StagePromoted" as const),
    data: fc.record({ version: fc.integer({ min: 1, max: 99 }), from: stage, to: stage, archived: fc.array(fc.record({ version: fc.integer({ min: 1, max: 99 }), from: stage }), { maxLength: 2 }) })
  }),
  fc.record({ type: fc.constant("AliasSet" as const), data: fc.record({ alias: fc.constantFrom("champion", "b"), version: fc.integer({ min: 1, max: 99 }), previous: fc.option(fc.integer({ min: 1, max: 99 }), { nil: null }) }) }),
  fc.record({ type: fc.constant("AliasDeleted" as const), data: fc.record({ alias: fc.constantFrom("champion", "b"), version: fc.integer({ min: 1, max: 99 }) }) }),
  fc.record({
    type: fc.constant("RunStarted" as const),
    data: fc.record({ runId: id, experimentId: id, name: text, parentRunId: fc.option(id, { nil: null }), tags: stringMap, source, environment })
  }),
  fc.record({ type: fc.constant("ParamsLogged" as const), data: fc.record({ params: fc.dictionary(key, paramValue, { maxKeys: 4 }) }) }),
  fc.record({ type: fc.constant("MetricsLogged" as const), data: metrics }),
  fc.record({ type: fc.constant("TagsSet" as const), data: fc.record({ tags: stringMap }) }),
  fc.record({ type: fc.constant("TagDeleted" as const), data: fc.record({ key }) }),
  fc.record({
    type: fc.constant("ArtifactStored" as const),
    data: fc.record({ path: fc.constantFrom("a.txt", "model/w.json"), sha256: fc.stringMatching(/^[0-9a-f]{64}$/), size: fc.nat(), mediaType: text })
  }),
  fc.record({
    type: fc.constant("RunEnded" as const),
    data: fc.record(
      { status: fc.constantFrom("FINISHED" as const, "FAILED" as const, "KILLED" as const), error: fc.record({ message: text }) },
      { requiredKeys: ["status"] }
    )
  })
)

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
