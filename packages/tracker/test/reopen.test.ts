/**
 * The tracker's reopen commands (MLflow's writes to ended runs and runs/update, decided here and
 * not in the server's handlers): an ended run is reopened around the writes in one append, keeps
 * its status and error, a deleted run refuses, and a status it already has appends nothing.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { runStream } from "../../core/src/index.ts"
import { memoryClient } from "./memory-client.ts"

const typesOf = (events: ReadonlyArray<{ readonly type: string }>) => events.map((e) => e.type)

describe("recordReopening and setRunStatus", () => {
  it("reopens an ended run around the writes, one past its highest step, and ends it with the status and error it had", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await run.logMetric("loss", 1, { step: 4 })
    await run.end({ status: "FAILED", error: new Error("out of memory") })
    const before = (await tracker.streamEvents(runStream(run.id))).length
    const after = await Effect.runPromise(tracker.effect.recordReopening(run.id, [{ _tag: "LogParams", params: { eval: "post-hoc" } }]))
    const added = (await tracker.streamEvents(runStream(run.id))).slice(before)
    expect(typesOf(added)).toEqual(["RunResumed", "ParamsLogged", "RunEnded"])
    expect((added[0].data as { fromStep: number }).fromStep).toBe(5)
    expect(after.status).toBe("FAILED")
    expect(after.error?.message).toContain("out of memory")
    expect(after.params).toEqual({ eval: "post-hoc" })
  })

  it("records on a running run as record does, computes commands from the run, and refuses a deleted run with nothing appended", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e", tags: { note: "a" } })
    const before = (await tracker.streamEvents(runStream(run.id))).length
    await Effect.runPromise(tracker.effect.recordReopening(run.id, (s) => [{ _tag: "SetTags", tags: { note: `${s.tags.note}b` } }]))
    const events = await tracker.streamEvents(runStream(run.id))
    expect(typesOf(events.slice(before))).toEqual(["TagsSet"])
    expect((await tracker.getRun(run.id)).tags.note).toBe("ab")
    await run.end()
    await tracker.deleteRun(run.id)
    const deleted = (await tracker.streamEvents(runStream(run.id))).length
    const refused = await Effect.runPromise(Effect.flip(tracker.effect.recordReopening(run.id, [{ _tag: "LogParams", params: { x: 1 } }])))
    expect(refused._tag).toBe("RunNotActive")
    expect((await tracker.streamEvents(runStream(run.id))).length).toBe(deleted)
  })

  it("sets statuses as MLflow's runs/update does; the status a run already has appends nothing", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    const stream = runStream(run.id)
    const count = async () => (await tracker.streamEvents(stream)).length
    await Effect.runPromise(tracker.effect.setRunStatus(run.id, "FINISHED"))
    expect((await tracker.getRun(run.id)).status).toBe("FINISHED")
    const ended = await count()
    await Effect.runPromise(tracker.effect.setRunStatus(run.id, "FINISHED"))
    expect(await count()).toBe(ended)
    await Effect.runPromise(tracker.effect.setRunStatus(run.id, "KILLED"))
    const killed = await tracker.streamEvents(stream)
    expect(typesOf(killed.slice(ended))).toEqual(["RunResumed", "RunEnded"])
    expect((await tracker.getRun(run.id)).status).toBe("KILLED")
    await Effect.runPromise(tracker.effect.setRunStatus(run.id, "RUNNING", [{ _tag: "SetTags", tags: { "mlflow.runName": "again" } }]))
    const reopened = await tracker.getRun(run.id)
    expect(reopened.status).toBe("RUNNING")
    expect(reopened.tags["mlflow.runName"]).toBe("again")
    const running = await count()
    await Effect.runPromise(tracker.effect.setRunStatus(run.id, "RUNNING"))
    expect(await count()).toBe(running)
    await expect(Effect.runPromise(tracker.effect.setRunStatus("nope", "FINISHED"))).rejects.toMatchObject({ _tag: "NotFound" })
  })
})
