/**
 * The Effect API of a run (run-session.ts): call-time checks, columnar batching, one append shared
 * by concurrent callers, logBatch as one atomic append, and the end.
 */
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { type EventStoreShape, makeMemoryEventStore, runStream } from "../../core/src/index.ts"
import { startRunSession, Tracker } from "../src/index.ts"
import { memoryLayer } from "./memory-client.ts"

/** A memory store whose appends take a turn of the scheduler, as a real store's I/O does. */
const slowStore = (): EventStoreShape => {
  const store = makeMemoryEventStore()
  return { ...store, append: (stream, events, expected) => Effect.yieldNow.pipe(Effect.andThen(store.append(stream, events, expected))) }
}

const runIn = <A, E>(store: EventStoreShape, program: Effect.Effect<A, E, Tracker>) => Effect.runPromise(program.pipe(Effect.provide(memoryLayer(store))))

describe("run session (Effect API)", () => {
  it("concurrent logMetric calls succeed once durable and share appends: 100 calls, at most 2 columnar events", async () => {
    const store = slowStore()
    const runId = await runIn(store, Effect.gen(function*() {
      const session = yield* startRunSession({ experiment: "e" })
      yield* Effect.all(Array.from({ length: 100 }, (_, i) => session.logMetric("loss", i / 100, { step: i })), { concurrency: "unbounded" })
      return session.id
    }))
    const events = await Effect.runPromise(store.readStream(runStream(runId)))
    const metrics = events.filter((e) => e.type === "MetricsLogged")
    expect(metrics.length).toBeGreaterThanOrEqual(1)
    expect(metrics.length).toBeLessThanOrEqual(2)
    const steps = metrics.flatMap((e) => Array.from((e.data as { readonly steps: ArrayLike<number> }).steps))
    expect(steps.sort((a, b) => a - b)).toEqual([...Array(100).keys()])
  })

  it("refuses a bad call at once with nothing appended; the calls around it are written; end() ends the run and refuses what follows", async () => {
    const store = makeMemoryEventStore()
    const result = await runIn(store, Effect.gen(function*() {
      const tracker = yield* Tracker
      const session = yield* startRunSession({ experiment: "e" })
      const before = (yield* store.readStream(runStream(session.id))).length
      yield* session.logParams({ lr: 0.1, layers: 3 })
      yield* session.setTags({ team: "a" })
      const badStep = yield* Effect.flip(session.logMetric("loss", 1, { step: -1 }))
      const changed = yield* Effect.flip(session.logParam("lr", 0.2))
      const afterRefusals = (yield* store.readStream(runStream(session.id))).length
      yield* session.logParam("lr", 0.1) // the same value again: a no-op success
      yield* session.logMetrics({ loss: 0.5, acc: 0.9 })
      yield* session.flush
      yield* session.end()
      const late = yield* Effect.flip(session.logMetric("loss", 0.1))
      return { before, badStep, changed, afterRefusals, late, view: yield* tracker.getRun(session.id), history: yield* tracker.metricHistory(session.id, "acc") }
    }))
    expect(result.badStep._tag).toBe("InvalidInput")
    expect(result.changed._tag).toBe("ParamConflict")
    expect(result.afterRefusals).toBe(result.before + 2)
    expect(result.late._tag).toBe("RunNotActive")
    expect(result.view.params).toEqual({ lr: 0.1, layers: 3 })
    expect(result.view.tags.team).toBe("a")
    expect(result.view.metrics).toEqual({ loss: 0.5, acc: 0.9 })
    expect(result.view.status).toBe("FINISHED")
    expect(result.history.map((p) => p.step)).toEqual([0])
  })

  it("logBatch appends params, tags and metrics in one append, or refuses all of it", async () => {
    const store = makeMemoryEventStore()
    const runId = await runIn(store, Effect.gen(function*() {
      const session = yield* startRunSession({ experiment: "e" })
      yield* session.logBatch({ params: { lr: 0.1 }, tags: { t: "x" }, metrics: [{ key: "loss", value: 1, step: 0, timestamp: 1000 }] })
      const refused = yield* Effect.flip(session.logBatch({ params: { lr: 0.2 }, metrics: [{ key: "loss", value: 2, step: 1, timestamp: 1000 }] }))
      expect(refused._tag).toBe("ParamConflict")
      return session.id
    }))
    const head = await Effect.runPromise(store.head)
    const all = await Effect.runPromise(Stream.runCollect(store.readAll(0)))
    const run = all.filter((e) => e.stream === runStream(runId))
    expect(run.map((e) => e.type)).toEqual(["RunStarted", "ParamsLogged", "TagsSet", "MetricsLogged"])
    // One append: the three events are the last three of the log, in one position run.
    expect(run.slice(1).map((e) => e.position)).toEqual([head - 2, head - 1, head])
  })
})
