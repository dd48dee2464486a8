/**
 * The one command handler (command.ts): commands decided in order against the state the earlier
 * ones make, a run handle's lost race re-decided through it, and the Clock and Ids ports the
 * tracker and its handles stamp events with.
 */
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import {
  ArtifactStore,
  Clock,
  EventStore,
  Ids,
  Liveness,
  makeMemoryArtifactStore,
  makeMemoryEventStore,
  type MetricsBatch,
  RunContext,
  runStream,
  UNKNOWN_ENVIRONMENT
} from "../../core/src/index.ts"
import {
  makeTrackerClient,
  TrackerLive
} from "../src/index.ts"
import { memoryClient } from "./memory-client.ts"

describe("command handler", () => {
  it("decides a record's commands in order: a param changed by a later command of the same record is refused, nothing appended", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    const before = await tracker.streamEvents(runStream(run.id))
    const refused = await Effect.runPromise(
      Effect.flip(tracker.effect.record(run.id, [{ _tag: "LogParams", params: { lr: 0.1 } }, { _tag: "LogParams", params: { lr: 0.2 } }]))
    )
    expect(refused._tag).toBe("ParamConflict")
    expect(await tracker.streamEvents(runStream(run.id))).toEqual(before)
  })

  it("a run handle that lost a race re-decides its queued calls against the fresh run", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    // Another writer appends behind the handle's back: the handle's version is stale.
    await Effect.runPromise(tracker.effect.record(run.id, [{ _tag: "SetTags", tags: { by: "other" } }, { _tag: "LogParams", params: { lr: 0.2 } }]))
    // Still valid against the fresh run: appended after re-deciding.
    await run.logMetric("loss", 1, { step: 0 })
    // Valid against the handle's copy, refused against the fresh run: nothing of it is written.
    await expect(run.logParam("lr", 0.1)).rejects.toMatchObject({ _tag: "ParamConflict" })
    // The handle re-read the run, so its next call appends under the right version.
    await run.logMetric("loss", 0.5, { step: 1 })
    await run.end()
    const view = await tracker.getRun(run.id)
    expect(view.params).toEqual({ lr: 0.2 })
    expect(view.tags.by).toBe("other")
    expect(view.status).toBe("FINISHED")
    expect((await tracker.metricHistory(run.id, "loss")).map((p) => p.value)).toEqual([1, 0.5])
  })

  it("takes event times and ids, run and experiment ids, and default metric times from the Clock and Ids provided", async () => {
    let now = 1_700_000_000_000
    let n = 0
    const hex = (i: number) => i.toString(16).padStart(32, "0")
    const layer = TrackerLive.pipe(
      Layer.provide(
        Layer.mergeAll(
          Layer.succeed(EventStore, makeMemoryEventStore()),
          Layer.succeed(ArtifactStore, makeMemoryArtifactStore()),
          Layer.succeed(RunContext, RunContext.fixed({ source: { cwd: "/x" }, environment: UNKNOWN_ENVIRONMENT })),
          Layer.succeed(Liveness, Liveness.unknown),
          Layer.succeed(Clock, { now: () => now }),
          Layer.succeed(Ids, { eventId: (at) => `event-${at}-${++n}`, newId: () => hex(++n) })
        )
      )
    )
    const tracker = await makeTrackerClient(layer)
    const run = await tracker.startRun({ experiment: "fixed" })
    now += 5
    await run.logMetric("loss", 0.5, { step: 0 })
    now += 5
    await run.end()
    const experiments = await tracker.streamEvents("experiments")
    expect(experiments.map((e) => [e.id, e.at, e.type])).toEqual([["event-1700000000000-2", 1_700_000_000_000, "ExperimentCreated"]])
    expect((experiments[0].data as { experimentId: string }).experimentId).toBe(hex(1))
    expect(run.id).toBe(hex(3))
    const events = await tracker.streamEvents(runStream(run.id))
    expect(events.map((e) => [e.id, e.at, e.type])).toEqual([
      ["event-1700000000000-4", 1_700_000_000_000, "RunStarted"],
      ["event-1700000000005-5", 1_700_000_000_005, "MetricsLogged"],
      ["event-1700000000010-6", 1_700_000_000_010, "RunEnded"]
    ])
    // Columns may be typed arrays (the run handle builds them so; the directory store decodes them so).
    const m = events[1].data as MetricsBatch
    expect({ keys: m.keys, values: Array.from(m.values), steps: Array.from(m.steps), timestamps: Array.from(m.timestamps) })
      .toEqual({ keys: ["loss"], values: [0.5], steps: [0], timestamps: [1_700_000_000_005] })
    await tracker.close()
  })
})
