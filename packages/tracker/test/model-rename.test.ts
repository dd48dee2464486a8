/**
 * renameModel through the tracker: the model moves with its versions, stages, aliases and tags;
 * the old name is free; reads as of before show the old name; renames race safely to one name;
 * and a rename whose second append fails leaves a registry that reads consistently, which
 * `abandonPendingRenames` (runledger repair) settles.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { type EventStoreShape, makeMemoryEventStore, modelStream, StorageError } from "../../core/src/index.ts"
import { memoryClient, memoryLayer } from "./memory-client.ts"
import { makeTrackerClient } from "../src/index.ts"

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e)

const withModel = async (store?: EventStoreShape) => {
  const { tracker } = await memoryClient(store)
  const run = await tracker.startRun({ experiment: "e" })
  await run.logText("w", "model/w.txt")
  await run.end()
  await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model", register: { description: "d", tags: { team: "a" } } })
  await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model/w.txt" })
  await tracker.transitionStage("clf", 1, "Production")
  await tracker.setAlias("clf", "champion", 2)
  return { tracker, run }
}

/** A memory store whose append of a rename's second step (ModelRenamed) fails while `failing()`, as a crash or a full disk would. */
const failingSecondStep = (failing: () => boolean): EventStoreShape => {
  const inner = makeMemoryEventStore()
  return {
    ...inner,
    append: (stream, events, expected) =>
      failing() && events.some((e) => e.type === "ModelRenamed") ? Effect.fail(new StorageError({ message: "disk gone (test)" })) : inner.append(stream, events, expected)
  }
}

describe("renameModel", () => {
  it("moves the model with its versions, stages, aliases and tags; frees the old name; as-of reads show the old name", async () => {
    const { tracker, run } = await withModel()
    const before = await tracker.streamEvents(modelStream("clf"))
    const beforeRename = { position: before[before.length - 1].position }
    const renamed = await tracker.renameModel("clf", "classifier")
    expect(renamed).toMatchObject({ name: "classifier", description: "d", tags: { team: "a" }, versions: 2, latest: { Production: 1, None: 2 }, aliases: { champion: 2 } })
    expect((await tracker.listModels()).map((m) => m.name)).toEqual(["classifier"])
    expect(await tracker.getModelVersion("classifier", { alias: "champion" })).toMatchObject({ name: "classifier", version: 2, runId: run.id })
    expect((await tracker.readArtifacts("models:/classifier/Production")).length).toBe(1)
    expect(await failure(tracker.getModelVersion("clf", { version: 1 }))).toMatchObject({ _tag: "NotFound" })
    expect(await failure(tracker.transitionStage("clf", 2, "Staging"))).toMatchObject({ _tag: "NotFound" })
    expect((await tracker.listModels({ asOf: beforeRename })).map((m) => m.name)).toEqual(["clf"])
    // The model goes on under its new name.
    expect(await tracker.transitionStage("classifier", 2, "Production", { archiveExisting: true })).toMatchObject({ name: "classifier", stage: "Production" })
    // The history shows the rename with who and when.
    const old = await tracker.streamEvents(modelStream("clf"))
    expect(old.at(-1)).toMatchObject({ type: "ModelRenamed", data: { to: "classifier" } })
    expect(typeof old.at(-1)!.at).toBe("number")
    expect((await tracker.streamEvents(modelStream("classifier")))[0]).toMatchObject({ type: "ModelRenameClaimed", data: { from: "clf", fromVersion: before.length } })
    // The old name is free: a new model from version 1.
    await tracker.registerModel("clf")
    expect((await tracker.listModels()).map((m) => [m.name, m.versions])).toEqual([["classifier", 2], ["clf", 0]])
  })

  it("renames again, and back to an old name", async () => {
    const { tracker } = await withModel()
    await tracker.renameModel("clf", "b")
    await tracker.setAlias("b", "prod", 1)
    await tracker.renameModel("b", "c")
    const back = await tracker.renameModel("c", "clf")
    expect(back).toMatchObject({ name: "clf", versions: 2, aliases: { champion: 2, prod: 1 } })
    expect((await tracker.listModels()).map((m) => m.name)).toEqual(["clf"])
    // Decisions on the renamed-back model see its whole state (folded across three streams).
    expect(await tracker.setAlias("clf", "prod", 1)).toMatchObject({ version: 1 })
    expect((await tracker.createModelVersion("clf", { runId: (await tracker.getModelVersion("clf", { version: 1 })).runId, artifactPath: "model" })).version).toBe(3)
  })

  it("refuses a taken name, an unknown model, the same name and bad names, appending nothing", async () => {
    const { tracker } = await withModel()
    await tracker.registerModel("other")
    const head = async () => (await tracker.streamEvents(modelStream("clf"))).length + (await tracker.streamEvents(modelStream("other"))).length
    const n = await head()
    expect(await failure(tracker.renameModel("clf", "other"))).toMatchObject({ _tag: "InvalidInput", message: expect.stringContaining("already registered") })
    expect(await failure(tracker.renameModel("nope", "x"))).toMatchObject({ _tag: "NotFound" })
    expect(await failure(tracker.renameModel("clf", "clf"))).toMatchObject({ _tag: "InvalidInput" })
    expect(await failure(tracker.renameModel("clf", ""))).toMatchObject({ _tag: "InvalidInput" })
    expect(await failure(tracker.renameModel("clf", "x".repeat(251)))).toMatchObject({ _tag: "InvalidInput" })
    expect(await failure(tracker.renameModel("clf", "a/b"))).toMatchObject({ _tag: "InvalidInput" })
    expect(await head()).toBe(n)
    expect((await tracker.streamEvents(modelStream("x"))).length).toBe(0)
  })

  it("two renames racing to one new name: exactly one wins", async () => {
    const { tracker } = await withModel()
    for (let round = 0; round < 6; round++) {
      const to = `target${round}`
      await tracker.registerModel(`a${round}`)
      await tracker.registerModel(`b${round}`)
      const results = await Promise.allSettled([tracker.renameModel(`a${round}`, to), tracker.renameModel(`b${round}`, to)])
      expect(results.filter((r) => r.status === "fulfilled").length).toBe(1)
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult
      expect(lost.reason).toMatchObject({ _tag: "InvalidInput" })
      const names = (await tracker.listModels()).map((m) => m.name)
      expect(names.filter((n) => n === to).length).toBe(1)
      // The loser kept its name; the winner's is free.
      expect(names.filter((n) => n === `a${round}` || n === `b${round}`).length).toBe(1)
    }
  })

  it("two renames of one model racing to two names: exactly one wins, the other name stays free", async () => {
    const { tracker } = await withModel()
    const results = await Promise.allSettled([tracker.renameModel("clf", "x"), tracker.renameModel("clf", "y")])
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(1)
    const names = (await tracker.listModels()).map((m) => m.name)
    expect(names.length).toBe(1)
    const free = names[0] === "x" ? "y" : "x"
    await tracker.registerModel(free)
  })

  it("a rename interrupted after its claim reads consistently, reserves the name, and repair abandons it", async () => {
    let failRenamed = true
    const store = failingSecondStep(() => failRenamed)
    const { tracker } = await withModel(store)
    expect(await failure(tracker.renameModel("clf", "new"))).toMatchObject({ _tag: "StorageError" })
    // The model is live under its old name, the new name shows nothing, and it stays reserved.
    expect((await tracker.listModels()).map((m) => m.name)).toEqual(["clf"])
    expect(await failure(tracker.getModelVersion("new", { version: 1 }))).toMatchObject({ _tag: "NotFound" })
    expect(await failure(tracker.registerModel("new"))).toMatchObject({ _tag: "InvalidInput", message: expect.stringContaining("runledger repair") })
    await tracker.registerModel("third")
    expect(await failure(tracker.renameModel("third", "new"))).toMatchObject({ _tag: "InvalidInput", message: expect.stringContaining("reserved") })
    // Another client over the same store, folding from scratch, reads the same.
    const fresh = await makeTrackerClient(memoryLayer(store))
    expect((await fresh.listModels()).map((m) => m.name)).toEqual(["clf", "third"])
    // Repair abandons it: the model keeps its name and state, the new name is free.
    const abandoned = await Effect.runPromise(fresh.effect.abandonPendingRenames)
    expect(abandoned.map((r) => [r.from, r.to])).toEqual([["clf", "new"]])
    expect(await Effect.runPromise(fresh.effect.abandonPendingRenames)).toEqual([])
    expect((await tracker.listModels()).find((m) => m.name === "clf")).toMatchObject({ versions: 2, aliases: { champion: 2 } })
    expect((await tracker.streamEvents(modelStream("clf"))).at(-1)).toMatchObject({ type: "ModelRenameAbandoned", data: { to: "new" }, meta: { actor: "runledger repair" } })
    // The rename can be asked again, and now completes.
    failRenamed = false
    expect(await tracker.renameModel("clf", "new")).toMatchObject({ name: "new", versions: 2 })
    expect((await tracker.listModels()).map((m) => m.name)).toEqual(["new", "third"])
  })

  it("the same rename asked again after an interruption completes it", async () => {
    let failRenamed = true
    const store = failingSecondStep(() => failRenamed)
    const { tracker } = await withModel(store)
    await failure(tracker.renameModel("clf", "new"))
    failRenamed = false
    await tracker.renameModel("clf", "new")
    expect((await tracker.streamEvents(modelStream("new"))).map((e) => e.type)).toEqual(["ModelRenameClaimed"])
    expect((await tracker.listModels()).map((m) => m.name)).toEqual(["new"])
  })

  it("a write to the model between the two steps kills the claim; the rename starts over and lands", async () => {
    const inner = makeMemoryEventStore()
    let bumped = false
    let tracker!: Awaited<ReturnType<typeof withModel>>["tracker"]
    const store: EventStoreShape = {
      ...inner,
      append: (stream, events, expected) =>
        Effect.gen(function*() {
          if (!bumped && events.some((e) => e.type === "ModelRenamed")) {
            bumped = true
            // A concurrent writer moves the old stream first: the rename's expected version is now stale.
            yield* Effect.promise(() => tracker.setAlias("clf", "racer", 1))
          }
          return yield* inner.append(stream, events, expected)
        })
    }
    ;({ tracker } = await withModel(store))
    const renamed = await tracker.renameModel("clf", "new")
    expect(renamed.aliases).toEqual({ champion: 2, racer: 1 })
    expect((await tracker.streamEvents(modelStream("new"))).map((e) => e.type)).toEqual(["ModelRenameClaimed", "ModelRenameClaimed"])
    expect((await tracker.listModels()).map((m) => m.name)).toEqual(["new"])
  })
  it("a claim raced by a delete of the model before it lands is dead: nothing pending, the name free", async () => {
    const inner = makeMemoryEventStore()
    let raced = false
    let tracker!: Awaited<ReturnType<typeof withModel>>["tracker"]
    const store: EventStoreShape = {
      ...inner,
      append: (stream, events, expected) =>
        Effect.gen(function*() {
          if (!raced && events.some((e) => e.type === "ModelRenameClaimed")) {
            raced = true
            // Another writer deletes the model after the rename read it, before its claim lands.
            yield* Effect.promise(() => tracker.deleteModel("clf"))
          }
          return yield* inner.append(stream, events, expected)
        })
    }
    ;({ tracker } = await withModel(store))
    expect(await failure(tracker.renameModel("clf", "new"))).toMatchObject({ _tag: "NotFound" })
    expect((await tracker.streamEvents(modelStream("new"))).map((e) => e.type)).toEqual(["ModelRenameClaimed"])
    expect([...(await Effect.runPromise(tracker.effect.projection())).pendingRenames.keys()]).toEqual([])
    expect(await Effect.runPromise(tracker.effect.abandonPendingRenames)).toEqual([])
    expect((await tracker.registerModel("new")).name).toBe("new")
  })
  it("a claim only spooled (a remote client whose server is away) stops the rename before its second step", async () => {
    // store-http's contract for an append it spools: the version it will have, at position 0 (not in the log yet).
    const inner = makeMemoryEventStore()
    const store: EventStoreShape = {
      ...inner,
      append: (stream, events, expected) =>
        events.some((e) => e.type === "ModelRenameClaimed") && typeof expected === "number"
          ? Effect.succeed({ version: expected + events.length, position: 0 })
          : inner.append(stream, events, expected)
    }
    const { tracker } = await withModel(store)
    expect(await failure(tracker.renameModel("clf", "new"))).toMatchObject({ _tag: "StorageError", message: expect.stringContaining("server is unreachable") })
    expect((await tracker.streamEvents(modelStream("clf"))).some((e) => e.type === "ModelRenamed")).toBe(false)
    expect((await tracker.listModels()).map((m) => m.name)).toEqual(["clf"])
  })
})
