/** The Promise API: batching of un-awaited calls, withRun, ordering with artifacts, the getRun shape. */
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { memoryClient } from "./memory-client.ts"

describe("Promise API", () => {
  it("un-awaited logMetric calls become a handful of columnar events, in call order", async () => {
    const { tracker, store } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    const before = await Effect.runPromise(store.head)
    for (let i = 0; i < 10_000; i++) void run.logMetric("loss", 1 / (i + 1), { step: i })
    await run.flush()
    const events = await Effect.runPromise(Stream.runCollect(store.readAll(before)))
    expect(events.length).toBeLessThanOrEqual(2)
    expect(events.every((e) => e.type === "MetricsLogged")).toBe(true)
    const h = await tracker.metricHistory(run.id, "loss")
    expect(h.length).toBe(10_000)
    expect(h.map((p) => p.step)).toEqual([...Array(10_000).keys()])
  })

  it("reads see every later write (the live projection catches up each time)", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await run.logMetric("m", 1)
    expect((await tracker.getRun(run.id)).metrics.m).toBe(1)
    await run.logMetric("m", 2)
    await run.setTag("t", "x")
    const view = await tracker.getRun(run.id)
    expect(view.metrics.m).toBe(2)
    expect(view.tags.t).toBe("x")
    await run.end()
    expect((await tracker.listRuns())[0].status).toBe("FINISHED")
  })

  it("steps default to one past the key's largest step", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    void run.logMetric("a", 1)
    void run.logMetric("a", 2)
    void run.logMetric("a", 3, { step: 10 })
    void run.logMetric("a", 4)
    void run.logMetrics({ a: 5, b: 6 })
    await run.flush()
    expect((await tracker.metricHistory(run.id, "a")).map((p) => p.step)).toEqual([0, 1, 10, 11, 12])
    expect((await tracker.metricHistory(run.id, "b")).map((p) => p.step)).toEqual([12])
  })

  it("withRun ends FINISHED, or FAILED with the error recorded and rethrown", async () => {
    const { tracker } = await memoryClient()
    const value = await tracker.withRun({ experiment: "e", name: "good" }, async (run) => {
      void run.logMetric("m", 1)
      return 42
    })
    expect(value).toBe(42)
    const boom = new Error("diverged at step 7")
    await expect(
      tracker.withRun({ experiment: "e", name: "bad" }, async (run) => {
        await run.logParam("lr", 10)
        throw boom
      })
    ).rejects.toBe(boom)
    const runs = await tracker.listRuns({ experiment: "e" })
    const byName = Object.fromEntries(runs.map((r) => [r.name, r]))
    expect(byName.good.status).toBe("FINISHED")
    expect(byName.good.metrics.m).toBe(1)
    expect(byName.bad.status).toBe("FAILED")
    expect(byName.bad.error?.message).toBe("diverged at step 7")
    expect(byName.bad.error?.stack).toContain("diverged at step 7")
    expect(byName.bad.params.lr).toBe(10)
  })

  it("end() waits for artifacts still uploading and refuses anything after it", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    const upload = run.logText("notes", "notes.txt")
    const ended = run.end({ status: "KILLED" })
    await expect(run.logMetric("m", 1)).rejects.toMatchObject({ _tag: "RunNotActive" })
    await upload
    await ended
    const view = await tracker.getRun(run.id)
    expect(view.status).toBe("KILLED")
    expect(view.artifacts.map((a) => a.path)).toEqual(["notes.txt"])
    expect(new TextDecoder().decode(await tracker.readArtifact(run.id, "notes.txt"))).toBe("notes")
  })

  it("getRun has the documented shape; one experiment name is one experiment", async () => {
    const { tracker } = await memoryClient()
    const a = await tracker.startRun({ experiment: "shared", name: "a", tags: { team: "x" } })
    const b = await tracker.startRun({ experiment: "shared", parentRunId: a.id })
    await a.logParams({ lr: 0.1 })
    await a.logJson({ w: [1, 2] }, "model/w.json")
    await a.end()
    const view = await tracker.getRun(a.id)
    expect(Object.keys(view).sort()).toEqual(
      ["id", "experimentId", "experiment", "name", "status", "startTime", "endTime", "parentRunId", "params", "tags", "metrics", "metricSteps", "artifacts", "inputs", "source", "environment", "error", "lifecycle", "resumedFrom"].sort()
    )
    expect(view).toMatchObject({ id: a.id, experiment: "shared", name: "a", status: "FINISHED", tags: { team: "x" }, params: { lr: 0.1 }, source: { cwd: "/x" } })
    expect(view.endTime).toBeGreaterThanOrEqual(view.startTime)
    expect(view.artifacts[0]).toMatchObject({ path: "model/w.json", mediaType: "application/json", size: JSON.stringify({ w: [1, 2] }, null, 2).length })
    expect((await tracker.getRun(b.id)).parentRunId).toBe(a.id)
    expect(await tracker.listExperiments()).toHaveLength(1)
    await expect(tracker.getRun("nope")).rejects.toMatchObject({ _tag: "NotFound" })
    await expect(tracker.startRun({ experiment: "shared", parentRunId: "missing" })).rejects.toMatchObject({ _tag: "NotFound" })
  })
})
