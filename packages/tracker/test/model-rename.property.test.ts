/**
 * Property: any sequence of register / version / stage / alias / rename / delete calls (renames to
 * taken names, to the same name and back included) leaves the tracker's registry equal to a
 * plain reference model; a fresh fold of the whole log equals the incrementally caught-up one;
 * and reads as of just before each rename show the names as they were then.
 */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeMemoryEventStore, type Stage } from "../../core/src/index.ts"
import { makeTrackerClient, type TrackerClient } from "../src/index.ts"
import { memoryLayer } from "./memory-client.ts"

const NAMES = ["a", "b", "c"] as const
const name = fc.constantFrom(...NAMES)
const stage = fc.constantFrom<Stage>("None", "Staging", "Production", "Archived")

type Op =
  | { readonly op: "register"; readonly name: string }
  | { readonly op: "version"; readonly name: string }
  | { readonly op: "stage"; readonly name: string; readonly version: number; readonly stage: Stage; readonly archive: boolean }
  | { readonly op: "alias"; readonly name: string; readonly alias: string; readonly version: number }
  | { readonly op: "rename"; readonly name: string; readonly to: string }
  | { readonly op: "delete"; readonly name: string }

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: name.map((n) => ({ op: "register" as const, name: n })), weight: 2 },
  { arbitrary: name.map((n) => ({ op: "version" as const, name: n })), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant("stage" as const), name, version: fc.integer({ min: 1, max: 2 }), stage, archive: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("alias" as const), name, alias: fc.constantFrom("champion", "shadow"), version: fc.integer({ min: 1, max: 2 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("rename" as const), name, to: name }), weight: 4 },
  { arbitrary: name.map((n) => ({ op: "delete" as const, name: n })), weight: 1 }
)

interface RefModel {
  readonly stages: Stage[]
  readonly aliases: Map<string, number>
}

/** The reference: what each call does to a registry held in plain maps, or false when it is refused. */
const applyRef = (ref: Map<string, RefModel>, o: Op): boolean => {
  const m = ref.get(o.name)
  switch (o.op) {
    case "register":
      if (m !== undefined) return false
      ref.set(o.name, { stages: [], aliases: new Map() })
      return true
    case "version":
      if (m === undefined) return false
      m.stages.push("None")
      return true
    case "stage": {
      if (m === undefined || o.version > m.stages.length) return false
      if (m.stages[o.version - 1] === o.stage) return true
      const holders = o.stage === "Production" || o.stage === "Staging" ? m.stages.flatMap((s, i) => (s === o.stage ? [i] : [])) : []
      if (o.stage === "Production" && holders.length > 0 && !o.archive) return false
      if (o.archive) for (const i of holders) m.stages[i] = "Archived"
      m.stages[o.version - 1] = o.stage
      return true
    }
    case "alias":
      if (m === undefined || o.version > m.stages.length) return false
      m.aliases.set(o.alias, o.version)
      return true
    case "rename":
      if (m === undefined || o.to === o.name || ref.has(o.to)) return false
      ref.delete(o.name)
      ref.set(o.to, m)
      return true
    case "delete":
      if (m === undefined) return false
      ref.delete(o.name)
      return true
  }
}

const call = (t: TrackerClient, runId: string, o: Op): Promise<unknown> => {
  switch (o.op) {
    case "register":
      return t.registerModel(o.name)
    case "version":
      return t.createModelVersion(o.name, { runId, artifactPath: "model" })
    case "stage":
      return t.transitionStage(o.name, o.version, o.stage, { archiveExisting: o.archive })
    case "alias":
      return t.setAlias(o.name, o.alias, o.version)
    case "rename":
      return t.renameModel(o.name, o.to)
    case "delete":
      return t.deleteModel(o.name)
  }
}

/** The registry as comparable data: per model, its versions' stages and its aliases. */
const registryOf = async (t: TrackerClient, options: { readonly asOf?: { readonly position: number } } = {}) => {
  const out: Record<string, { stages: Stage[]; aliases: Record<string, number> }> = {}
  for (const m of await t.listModels(options)) {
    const versions = await t.listModelVersions(m.name, options)
    expect(versions.every((v) => v.name === m.name)).toBe(true)
    out[m.name] = { stages: versions.map((v) => v.stage), aliases: { ...m.aliases } }
  }
  return out
}

const refData = (ref: Map<string, RefModel>) =>
  Object.fromEntries([...ref].map(([n, m]) => [n, { stages: [...m.stages], aliases: Object.fromEntries([...m.aliases].sort(([a], [b]) => a.localeCompare(b))) }]))

describe("model registry with renames (property)", () => {
  it("folds to the reference; a full replay equals the incremental projection; as-of before a rename shows the old names", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40 }), async (ops) => {
        const store = makeMemoryEventStore()
        const tracker = await makeTrackerClient(memoryLayer(store))
        try {
          const run = await tracker.startRun({ experiment: "e" })
          await run.logText("w", "model/w.txt")
          await run.end()
          const ref = new Map<string, RefModel>()
          const beforeRenames: Array<{ position: number; names: string[] }> = []
          for (const o of ops) {
            if (o.op === "rename" && ref.has(o.name) && o.to !== o.name && !ref.has(o.to)) {
              beforeRenames.push({ position: (await Effect.runPromise(tracker.effect.projection())).position, names: [...ref.keys()].sort() })
            }
            const expected = applyRef(ref, o)
            const done = await call(tracker, run.id, o).then(() => true, (e: unknown) => {
              expect(e).toMatchObject({ _tag: expect.stringMatching(/^(InvalidInput|NotFound)$/) })
              return false
            })
            expect([o, done]).toEqual([o, expected])
          }
          // No rename was interrupted: none is left pending for repair.
          expect((await Effect.runPromise(tracker.effect.projection())).pendingRenames.size).toBe(0)
          const incremental = await registryOf(tracker)
          expect(incremental).toEqual(refData(ref))
          const replay = await makeTrackerClient(memoryLayer(store))
          try {
            expect(await registryOf(replay)).toEqual(incremental)
          } finally {
            await replay.close()
          }
          for (const b of beforeRenames) expect(Object.keys(await registryOf(tracker, { asOf: { position: b.position } })).sort()).toEqual(b.names)
        } finally {
          await tracker.close()
        }
      }),
      { numRuns: 60 }
    )
  }, 120_000)
})
