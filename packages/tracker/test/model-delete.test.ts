/**
 * deleteModel through the tracker: the model and its versions leave every read and models:/ URIs
 * stop resolving, while the log keeps every event and a read as of before the delete still shows
 * it; the name can be registered again, as a new model from version 1.
 */
import { describe, expect, it } from "vitest"
import { modelStream } from "../../core/src/index.ts"
import { memoryClient } from "./memory-client.ts"

describe("deleteModel", () => {
  it("hides the model, its versions and its URIs; keeps the events; as-of reads still see it; the name is free again", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await run.logText("w", "model/w.txt")
    await run.end()
    await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model", register: {} })
    await tracker.transitionStage("clf", 1, "Production")
    await tracker.setAlias("clf", "champion", 1)
    const before = await tracker.streamEvents(modelStream("clf"))
    const kept = before.length
    // The log position of the model's last event before the delete: a moment when it still existed.
    const beforeDelete = { position: before[kept - 1].position }

    await tracker.deleteModel("clf")
    const events = await tracker.streamEvents(modelStream("clf"))
    expect(events.map((e) => e.type)).toEqual(["ModelRegistered", "ModelVersionCreated", "StagePromoted", "AliasSet", "ModelDeleted"])
    expect(events.length).toBe(kept + 1)
    expect(await tracker.listModels()).toEqual([])
    for (const read of [
      () => tracker.listModelVersions("clf"),
      () => tracker.getModelVersion("clf", { version: 1 }),
      () => tracker.getModelVersion("clf", { alias: "champion" }),
      () => tracker.readArtifacts("models:/clf/Production"),
      () => tracker.readArtifacts("models:/clf/@champion"),
      () => tracker.deleteModel("clf"),
      () => tracker.transitionStage("clf", 1, "Staging")
    ]) {
      expect(await read().then(() => undefined, (e: unknown) => e)).toMatchObject({ _tag: "NotFound" })
    }
    expect((await tracker.listModels({ asOf: beforeDelete })).map((m) => m.name)).toEqual(["clf"])
    expect((await tracker.getModelVersion("clf", { version: 1 }, { asOf: beforeDelete })).stage).toBe("Production")

    const again = await tracker.createModelVersion("clf", { runId: run.id, artifactPath: "model/w.txt", register: { description: "second" } })
    expect(again.version).toBe(1)
    expect(again.stage).toBe("None")
    expect((await tracker.listModels()).map((m) => [m.name, m.versions, m.description])).toEqual([["clf", 1, "second"]])
  })
})
