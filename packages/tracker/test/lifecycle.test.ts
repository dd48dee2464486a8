/** Registry, lifecycle and as-of reads through the Promise API on in-memory stores. */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeEvent } from "../../core/src/codec.ts"
import type { Stage } from "../../core/src/index.ts"
import { memoryClient } from "./memory-client.ts"

const withModelRun = async () => {
  const { tracker, store } = await memoryClient()
  const run = await tracker.startRun({ experiment: "e", name: "trainer" })
  await run.logJson({ w: [1, 2, 3] }, "model/weights.json")
  await run.logText("v1", "model/README.txt")
  await run.end()
  await tracker.registerModel("clf", { description: "a classifier" })
  return { tracker, store, run }
}

describe("model registry", () => {
  it("versions are numbered 1, 2, 3 and resolve by version, stage and alias", async () => {
    const { tracker, run } = await withModelRun()
    const v1 = await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model" })
    const v2 = await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model/weights.json" })
    expect([v1.version, v2.version]).toEqual([1, 2])
    expect(v1).toMatchObject({ name: "clf", stage: "None", aliases: [], runId: run.id, artifactPath: "model" })
    await tracker.transitionStage("clf", 1, "Production")
    await tracker.transitionStage("clf", 2, "Staging")
    await tracker.setAlias("clf", "champion", 1)
    expect((await tracker.getModelVersion("clf", { stage: "Production" })).version).toBe(1)
    expect((await tracker.getModelVersion("clf", { alias: "champion" })).version).toBe(1)
    expect((await tracker.getModelVersion("clf", { version: 2 })).stage).toBe("Staging")
    // Promoting over the Production holder archives it atomically, in one event.
    await tracker.transitionStage("clf", 2, "Production", { archiveExisting: true })
    const versions = await tracker.listModelVersions("clf")
    expect(versions.map((v) => [v.version, v.stage])).toEqual([[1, "Archived"], [2, "Production"]])
    const events = await tracker.streamEvents("model-clf")
    expect(events.at(-1)).toMatchObject({ type: "StagePromoted", data: { version: 2, from: "Staging", to: "Production", archived: [{ version: 1, from: "Production" }] } })
    await tracker.deleteAlias("clf", "champion")
    await expect(tracker.getModelVersion("clf", { alias: "champion" })).rejects.toMatchObject({ _tag: "NotFound" })
    expect((await tracker.listModels())[0]).toMatchObject({ name: "clf", versions: 2, latest: { Production: 2, Archived: 1 } })
  })

  it("readArtifacts gives back the exact bytes of models:/ and runs:/ URIs", async () => {
    const { tracker } = await memoryClient()
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7919) % 256)
    const run = await tracker.startRun({ experiment: "e" })
    await run.logText("a", "m/a.txt")
    await run.logJson(Array.from(bytes), "m/sub/b.json")
    await run.end()
    await tracker.registerModel("m")
    await tracker.createModelVersion("m", { runId: run.id, artifactPath: "m" })
    await tracker.transitionStage("m", 1, "Production")
    const files = await tracker.readArtifacts("models:/m/Production")
    expect(files.map((f) => f.relativePath)).toEqual(["a.txt", "sub/b.json"])
    expect(JSON.parse(new TextDecoder().decode(files[1].bytes))).toEqual(Array.from(bytes))
    expect((await tracker.readArtifacts(`runs:/${run.id}/m/a.txt`))[0].bytes).toEqual(new TextEncoder().encode("a"))
    expect((await tracker.readArtifacts("models:/m/1")).length).toBe(2)
    await expect(tracker.readArtifacts("models:/m/Bogus")).rejects.toMatchObject({ _tag: "InvalidInput" })
    await expect(tracker.readArtifacts("s3://x")).rejects.toMatchObject({ _tag: "InvalidInput" })
  })

  it("refuses bad registry input with a clear error and appends nothing", async () => {
    const { tracker, store, run } = await withModelRun()
    const { Effect } = await import("effect")
    const head = () => Effect.runPromise(store.head)
    const refused = async (call: () => Promise<unknown>, tag: string, message: RegExp) => {
      const before = await head()
      const e = await call().then(() => undefined, (x: unknown) => x)
      expect(e).toMatchObject({ _tag: tag, message: expect.stringMatching(message) })
      expect(await head()).toBe(before)
    }
    await refused(() => tracker.createModelVersion("clf", { runId: "missing", artifactPath: "model" }), "NotFound", /No run with id missing/)
    await refused(() => tracker.createModelVersion("clf", { runId: run.id, artifactPath: "nope" }), "NotFound", /stored no artifact at "nope"; it has model\/weights\.json/)
    await refused(() => tracker.createModelVersion("ghost", { runId: run.id, artifactPath: "model" }), "NotFound", /No registered model "ghost"/)
    await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model" })
    await refused(() => tracker.transitionStage("clf", 9, "Staging"), "NotFound", /no version 9/)
    await refused(() => tracker.transitionStage("clf", 1, "Prod" as Stage), "InvalidInput", /Unknown stage "Prod"; use one of None, Staging, Production, Archived/)
    await refused(() => tracker.setAlias("clf", "7", 1), "InvalidInput", /looks like a version number/)
    await refused(() => tracker.setAlias("clf", "v2", 1), "InvalidInput", /looks like a version number/)
    await refused(() => tracker.setAlias("clf", "staging", 1), "InvalidInput", /stage name/)
    await refused(() => tracker.registerModel("clf"), "InvalidInput", /already registered/)
    await refused(() => tracker.registerModel("a/b"), "InvalidInput", /may only have/)
    await tracker.transitionStage("clf", 1, "Production")
    await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model" })
    await refused(() => tracker.transitionStage("clf", 2, "Production"), "InvalidInput", /holds Production; pass archiveExisting/)
    // Promoting to the stage a version already holds is a no-op success (a deploy script run twice).
    const before = (await tracker.streamEvents("model-clf")).length
    expect((await tracker.transitionStage("clf", 1, "Production")).stage).toBe("Production")
    expect((await tracker.transitionStage("clf", 1, "Production", { archiveExisting: true })).stage).toBe("Production")
    expect((await tracker.streamEvents("model-clf")).length).toBe(before)
    await refused(() => tracker.deleteAlias("clf", "nope"), "NotFound", /no alias "nope"/)
  })

  it("any interleaving of registry commands from two writers: at most one Production, versions consecutive", async () => {
    type Cmd = { writer: 0 | 1; op: "create" } | { writer: 0 | 1; op: "promote"; version: number; stage: Stage; archive: boolean } | { writer: 0 | 1; op: "alias"; version: number }
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({ writer: fc.constantFrom(0 as const, 1 as const), op: fc.constant("create" as const) }),
      fc.record({
        writer: fc.constantFrom(0 as const, 1 as const),
        op: fc.constant("promote" as const),
        version: fc.integer({ min: 1, max: 5 }),
        stage: fc.constantFrom("None" as const, "Staging" as const, "Production" as const, "Archived" as const),
        archive: fc.boolean()
      }),
      fc.record({ writer: fc.constantFrom(0 as const, 1 as const), op: fc.constant("alias" as const), version: fc.integer({ min: 1, max: 5 }) })
    )
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(cmd, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 10 }), async (rounds) => {
        const { tracker: a, store, run } = await withModelRun()
        const { tracker: b } = await memoryClient(store)
        const writers = [a, b]
        for (const round of rounds) {
          // Each round's commands are issued concurrently: they race on the model stream.
          await Promise.allSettled(
            round.map((c) => {
              const t = writers[c.writer]
              if (c.op === "create") return t.createModelVersion("clf", { runId: run.id, artifactPath: "model" })
              if (c.op === "alias") return t.setAlias("clf", "best", c.version)
              return t.transitionStage("clf", c.version, c.stage, { archiveExisting: c.archive })
            })
          )
          const versions = await a.listModelVersions("clf")
          expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1))
          expect(versions.filter((v) => v.stage === "Production").length).toBeLessThanOrEqual(1)
        }
        const creates = rounds.flat().filter((c) => c.op === "create").length
        expect((await b.listModelVersions("clf")).length).toBe(creates)
      }),
      { numRuns: 60 }
    )
  })
})

describe("run and experiment lifecycle", () => {
  it("delete and restore runs and experiments; deleting twice is refused", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await tracker.deleteRun(run.id)
    expect(await tracker.listRuns()).toEqual([])
    expect((await tracker.listRuns({ viewType: "deleted" })).map((r) => r.id)).toEqual([run.id])
    await expect(run.logMetric("m", 1)).rejects.toMatchObject({ _tag: "RunNotActive" })
    await expect(tracker.deleteRun(run.id)).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/already deleted/) })
    await tracker.restoreRun(run.id)
    await expect(tracker.restoreRun(run.id)).rejects.toMatchObject({ message: expect.stringMatching(/not deleted/) })
    expect((await tracker.listRuns()).length).toBe(1)
    await tracker.deleteExperiment("e")
    expect(await tracker.listExperiments()).toEqual([])
    expect(await tracker.listRuns()).toEqual([])
    await expect(tracker.deleteExperiment("e")).rejects.toMatchObject({ message: expect.stringMatching(/already deleted/) })
    await expect(tracker.startRun({ experiment: "e" })).rejects.toMatchObject({ message: expect.stringMatching(/deleted; restore it/) })
    await tracker.restoreExperiment("e")
    expect((await tracker.listRuns()).length).toBe(1)
  })

  it("rename keeps the id and the runs; a taken name is refused; fork records parent and overrides", async () => {
    const { tracker } = await memoryClient()
    await tracker.startRun({ experiment: "base" })
    await tracker.startRun({ experiment: "other" })
    const renamed = await tracker.renameExperiment("base", "baseline")
    expect((await tracker.listRuns({ experiment: "baseline" })).length).toBe(1)
    expect((await tracker.listRuns({ experiment: renamed.id })).length).toBe(1)
    await expect(tracker.renameExperiment("baseline", "other")).rejects.toMatchObject({ message: expect.stringMatching(/belongs to experiment/) })
    const fork = await tracker.forkExperiment("baseline", { name: "baseline-lr", overrides: { lr: 0.01 } })
    const fork2 = await tracker.forkExperiment("baseline-lr", { name: "baseline-lr-bs", overrides: { batch: 64 } })
    expect(fork).toMatchObject({ parentId: renamed.id, overrides: { lr: 0.01 } })
    expect(fork2).toMatchObject({ parentId: fork.id, overrides: { lr: 0.01, batch: 64 } })
    // "baseline" is free again after the rename and becomes a new experiment.
    await tracker.startRun({ experiment: "baseline" })
    expect((await tracker.listExperiments()).map((e) => e.name).sort()).toEqual(["baseline", "baseline-lr", "baseline-lr-bs", "other"])
  })

  it("experiment tags: set on create and later, merged, each change one event; a deleted or unknown experiment refuses and nothing is appended", async () => {
    const { tracker, store } = await memoryClient()
    const created = await Effect.runPromise(tracker.effect.createExperiment("tagged", { tags: { team: "vision" } }))
    expect(created.tags).toEqual({ team: "vision" })
    await expect(Effect.runPromise(tracker.effect.createExperiment("tagged"))).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/belongs to experiment/) })
    const tagged = await tracker.setExperimentTags("tagged", { owner: "ana", team: "nlp" })
    expect(tagged).toMatchObject({ id: created.id, tags: { team: "nlp", owner: "ana" } })
    const events = async () => (await Effect.runPromise(store.readStream("experiments"))).filter((e) => e.type === "ExperimentTagsSet")
    // The same values again record nothing; only the keys that change are recorded.
    await tracker.setExperimentTags(created.id, { owner: "ana", team: "nlp" })
    await tracker.setExperimentTags(created.id, { owner: "bo", team: "nlp" })
    expect((await events()).map((e) => e.data)).toEqual([{ experimentId: created.id, tags: { owner: "ana", team: "nlp" } }, { experimentId: created.id, tags: { owner: "bo" } }])
    expect((await tracker.listExperiments()).find((e) => e.id === created.id)?.tags).toEqual({ team: "nlp", owner: "bo" })

    await tracker.deleteExperiment("tagged")
    await expect(tracker.setExperimentTags("tagged", { x: "y" })).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/must be in the 'active' state\. Current state is deleted/) })
    await expect(tracker.setExperimentTags("nope", { x: "y" })).rejects.toMatchObject({ _tag: "NotFound" })
    await expect(tracker.setExperimentTags(created.id, { "": "y" })).rejects.toMatchObject({ _tag: "InvalidInput" })
    expect(await events()).toHaveLength(2)
  })

  it("model and version descriptions: replaced by one event each, the same text again records nothing; unknown models and versions refuse", async () => {
    const { tracker, store } = await withModelRun()
    const run = (await tracker.listRuns())[0]
    await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model" })
    expect((await tracker.getModelVersion("clf", { version: 1 })).description).toBe("")
    expect((await tracker.setModelDescription("clf", "a better classifier")).description).toBe("a better classifier")
    expect((await tracker.setModelVersionDescription("clf", 1, "trained on v2 data")).description).toBe("trained on v2 data")
    await tracker.setModelDescription("clf", "a better classifier")
    await tracker.setModelVersionDescription("clf", 1, "trained on v2 data")
    const described = async () => (await Effect.runPromise(store.readStream("model-clf"))).filter((e) => e.type === "ModelDescribed" || e.type === "ModelVersionDescribed")
    expect((await described()).map((e) => [e.type, e.data])).toEqual([["ModelDescribed", { description: "a better classifier" }], ["ModelVersionDescribed", { version: 1, description: "trained on v2 data" }]])
    expect((await tracker.listModels()).find((m) => m.name === "clf")?.description).toBe("a better classifier")
    await expect(tracker.setModelVersionDescription("clf", 2, "x")).rejects.toMatchObject({ _tag: "NotFound" })
    await expect(tracker.setModelDescription("nope", "x")).rejects.toMatchObject({ _tag: "NotFound" })
    await expect(tracker.setModelDescription("clf", "half \ud83d")).rejects.toMatchObject({ _tag: "InvalidInput" })
    expect(await described()).toHaveLength(2)
  })

  it("nested runs list under their parent", async () => {
    const { tracker } = await memoryClient()
    const parent = await tracker.startRun({ experiment: "sweep" })
    const kids = await Promise.all([0, 1, 2].map((i) => tracker.startRun({ experiment: "sweep", name: `trial-${i}`, parentRunId: parent.id })))
    const listed = await tracker.listRuns({ parentRunId: parent.id })
    expect(listed.map((r) => r.id).sort()).toEqual(kids.map((k) => k.id).sort())
  })

  it("resume: newer points replace older ones at steps >= fromStep; the old ones stay in the log", async () => {
    const { tracker } = await memoryClient()
    const first = await tracker.startRun({ experiment: "e" })
    for (let s = 0; s < 10; s++) void first.logMetric("loss", 100 + s, { step: s })
    void first.logMetric("acc", 0.5, { step: 9 })
    await first.end({ status: "KILLED" })
    const again = await tracker.resumeRun(first.id, { fromStep: 6 })
    expect(again.status).toBe("RUNNING")
    for (let s = 6; s < 8; s++) await again.logMetric("loss", 200 + s, { step: s })
    const effective = await tracker.metricHistory(first.id, "loss")
    expect(effective.map((p) => [p.step, p.value])).toEqual([[0, 100], [1, 101], [2, 102], [3, 103], [4, 104], [5, 105], [6, 206], [7, 207]])
    const all = await tracker.metricHistory(first.id, "loss", { all: true })
    expect(all.filter((p) => p.superseded).map((p) => p.step)).toEqual([6, 7, 8, 9])
    const view = await tracker.getRun(first.id)
    expect(view.metrics.loss).toBe(207)
    // acc was only logged at step 9, which the resume set aside: no effective value remains.
    expect(view.metrics.acc).toBeUndefined()
    expect(view).toMatchObject({ status: "RUNNING", resumedFrom: [6] })
    await again.end()
    expect((await tracker.getRun(first.id)).status).toBe("FINISHED")
  })

  it("a resumed run's effective metrics hold for keys named like Object's own properties (constructor, toString)", async () => {
    const { tracker } = await memoryClient()
    const first = await tracker.startRun({ experiment: "e" })
    for (const key of ["constructor", "toString"]) {
      await first.logMetric(key, -1, { step: 0 })
      await first.logMetric(key, 0, { step: 1 })
    }
    await first.end()
    await tracker.resumeRun(first.id, { fromStep: 1 })
    // Step 1 is set aside: each key's effective value is step 0's.
    expect((await tracker.getRun(first.id)).metrics).toEqual({ constructor: -1, toString: -1 })
  })
})

describe("as-of replay", () => {
  it("the state as of any past position equals the live state at that moment", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant("metric" as const), fc.constant("tag" as const), fc.constant("end" as const), fc.constant("start" as const), fc.constant("promote" as const)), { minLength: 1, maxLength: 25 }),
        async (ops) => {
          const { tracker, store } = await memoryClient()
          const { Effect } = await import("effect")
          let run = await tracker.startRun({ experiment: "e" })
          await run.logText("w", "model.txt")
          await tracker.registerModel("m")
          await tracker.createModelVersion("m", { runId: run.id, artifactPath: "model.txt" })
          const snapshots: Array<{ position: number; runs: unknown; models: unknown; versions: unknown }> = []
          const snap = async () =>
            snapshots.push({
              position: await Effect.runPromise(store.head),
              runs: await tracker.listRuns({ viewType: "all" }),
              models: await tracker.listModels(),
              versions: await tracker.listModelVersions("m")
            })
          let i = 0
          for (const op of ops) {
            i++
            if (op === "metric") await run.logMetric("m", i).catch(() => {})
            if (op === "tag") await run.setTag("t", String(i)).catch(() => {})
            if (op === "end") await run.end().catch(() => {})
            if (op === "start") run = await tracker.startRun({ experiment: i % 2 ? "e" : "f" })
            if (op === "promote") await tracker.transitionStage("m", 1, i % 2 ? "Staging" : "Production", { archiveExisting: true }).catch(() => {})
            await snap()
          }
          for (const s of snapshots) {
            const asOf = { position: s.position }
            expect(await tracker.listRuns({ viewType: "all", asOf })).toEqual(s.runs)
            expect(await tracker.listModels({ asOf })).toEqual(s.models)
            expect(await tracker.listModelVersions("m", { asOf })).toEqual(s.versions)
          }
        }
      ),
      { numRuns: 30 }
    )
  })

  it("as of a time: what was in Production then", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await run.logText("w", "m.txt")
    await tracker.registerModel("m")
    await tracker.createModelVersion("m", { runId: run.id, artifactPath: "m.txt" })
    await tracker.createModelVersion("m", { runId: run.id, artifactPath: "m.txt" })
    await tracker.transitionStage("m", 1, "Production")
    await new Promise((r) => setTimeout(r, 5))
    const monday = Date.now()
    await new Promise((r) => setTimeout(r, 5))
    await tracker.transitionStage("m", 2, "Production", { archiveExisting: true })
    expect((await tracker.getModelVersion("m", { stage: "Production" }, { asOf: { time: monday } })).version).toBe(1)
    expect((await tracker.getModelVersion("m", { stage: "Production" })).version).toBe(2)
    await expect(tracker.listRuns({ asOf: { position: -1 } })).rejects.toMatchObject({ _tag: "InvalidInput" })
  })
})

describe("schema evolution", () => {
  it("an ExperimentCreated written under schema v1 (no tags) still reads, upcast to v2", () => {
    // Written by runledger before experiments had tags: no `schema` field, no `tags`.
    const v1 = '{"id":"01a2052c-9796-7545-8659-9a7d842b35a2","type":"ExperimentCreated","at":1795383138198,"data":{"experimentId":"01a2052c979570a4ba647a3442918d40","name":"exp"},"meta":{"host":"vm","pid":5994},"stream":"experiments","version":1}'
    const e = decodeEvent(v1)
    expect(e).toMatchObject({ type: "ExperimentCreated", schema: 2, data: { experimentId: "01a2052c979570a4ba647a3442918d40", name: "exp", tags: {} } })
    const future = v1.replace('"version":1', '"version":1,"schema":3')
    expect(() => decodeEvent(future)).toThrow(/newer than this runledger reads/)
  })
})
