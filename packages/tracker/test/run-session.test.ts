/**
 * The Effect API of a run (run-session.ts): call-time checks, columnar batching, one append shared
 * by concurrent callers, logBatch as one atomic append, and the end.
 */
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { encodeEvent } from "../../core/src/codec.ts"
import { decideRun } from "../../core/src/decide/runs.ts"
import { type Event, type EventStoreShape, makeMemoryEventStore, MAX_TIMESTAMP_MS, type MetricsBatch, runStream, type TrackerError } from "../../core/src/index.ts"
import { anyNumber } from "@runledger/store-conformance/arbitraries"
import { type BatchMetric, startRunSession, Tracker } from "../src/index.ts"
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

  it("artifacts: logText, logJson, logBytes and logArtifact (a real file) succeed once their events are durable, with the exact bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runledger-session-"))
    try {
      const file = join(dir, "weights.bin")
      writeFileSync(file, Uint8Array.from([0, 1, 2, 255]))
      const store = makeMemoryEventStore()
      const read = (path: string) => readFile(path).then((b) => new Uint8Array(b))
      const out = await Effect.runPromise(Effect.gen(function*() {
        const tracker = yield* Tracker
        const session = yield* startRunSession({ experiment: "e" })
        yield* session.logText("hello", "notes/readme.txt")
        yield* session.logJson({ w: [1, 2] }, "model/w.json")
        yield* session.logBytes(Uint8Array.from([9, 8]), "raw/b.bin")
        yield* session.logArtifact(file, { path: "model/weights.bin" })
        yield* session.logArtifact(file)
        const events = yield* store.readStream(runStream(session.id))
        const bytes = yield* Effect.forEach(["notes/readme.txt", "model/w.json", "raw/b.bin", "model/weights.bin", "weights.bin"], (p) => tracker.readArtifact(session.id, p))
        return { events, bytes, view: yield* tracker.getRun(session.id) }
      }).pipe(Effect.provide(memoryLayer(store, read))))
      // Each call waited for its own append.
      expect(out.events.map((e) => e.type)).toEqual(["RunStarted", "ArtifactStored", "ArtifactStored", "ArtifactStored", "ArtifactStored", "ArtifactStored"])
      expect(out.bytes.map((b) => Array.from(b))).toEqual([
        Array.from(new TextEncoder().encode("hello")),
        Array.from(new TextEncoder().encode(JSON.stringify({ w: [1, 2] }, null, 2))),
        [9, 8],
        [0, 1, 2, 255],
        [0, 1, 2, 255]
      ])
      expect(out.view.artifacts.map((a) => [a.path, a.mediaType])).toEqual([
        ["notes/readme.txt", "text/plain"],
        ["model/w.json", "application/json"],
        ["raw/b.bin", "application/octet-stream"],
        ["model/weights.bin", "application/octet-stream"],
        ["weights.bin", "application/octet-stream"]
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("a refused artifact fails at once with nothing appended: a bad path, a taken place, a missing file, a value JSON cannot hold, an ended run", async () => {
    const store = makeMemoryEventStore()
    const read = (path: string) => readFile(path).then((b) => new Uint8Array(b))
    const out = await Effect.runPromise(Effect.gen(function*() {
      const session = yield* startRunSession({ experiment: "e" })
      yield* session.logText("a", "m/a.txt")
      const before = (yield* store.readStream(runStream(session.id))).length
      const refusals = [
        yield* Effect.flip(session.logText("x", "../out.txt")),
        yield* Effect.flip(session.logText("x", "m/a.txt/under")),
        yield* Effect.flip(session.logArtifact("/nowhere/at/all.bin")),
        yield* Effect.flip(session.logJson(undefined, "u.json"))
      ]
      const after = (yield* store.readStream(runStream(session.id))).length
      yield* session.end()
      const ended = yield* Effect.flip(session.logBytes(Uint8Array.from([1]), "late.bin"))
      return { before, after, refusals: refusals.map((e) => e._tag), ended: ended._tag, final: (yield* store.readStream(runStream(session.id))).map((e) => e.type) }
    }).pipe(Effect.provide(memoryLayer(store, read))))
    expect(out.refusals).toEqual(["InvalidInput", "InvalidInput", "NotFound", "InvalidInput"])
    expect(out.after).toBe(out.before)
    expect(out.ended).toBe("RunNotActive")
    expect(out.final).toEqual(["RunStarted", "ArtifactStored", "RunEnded"])
  })
})

/**
 * logBatch's point objects (MLflow's shape) are checked and transposed by the session in one pass
 * (queueBatch). The same points as columns go through the command's own check (decideRun's
 * LogMetrics, checkMetricsBatch). Both must refuse the same batches with the same error, and
 * otherwise write the same event, byte for byte: the one-pass path changes nothing but speed.
 */
describe("logBatch: point objects and columns agree", () => {
  const goodKey = fc.constantFrom("loss", "acc", "lr", "a/b", "x y", "é")
  const badKey = fc.constantFrom("", "a/../b", "k".repeat(251), "bad\u0000key", 5, null)
  const some = <A, B>(good: fc.Arbitrary<A>, bad: fc.Arbitrary<B>) => fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: bad })
  const point = fc.record({
    key: some(goodKey, badKey),
    value: some(anyNumber, fc.constantFrom("1", null, undefined, true)),
    step: some(fc.oneof(fc.nat({ max: 1_000_000 }), fc.constant(-0)), fc.constantFrom(-1, 1.5, NaN, 2 ** 53, "3", undefined)),
    timestamp: some(fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }), fc.constantFrom(-1, 0.5, MAX_TIMESTAMP_MS + 1, Infinity, null))
  })
  /** A point logged before the batch, in the same queued entry (the batch's points join it). */
  const before = fc.option(fc.record({ key: goodKey, value: fc.double(), step: fc.nat({ max: 100 }), timestamp: fc.nat({ max: 1e12 }) }), { nil: undefined })

  const json = (data: unknown) => encodeEvent({ id: "e", type: "MetricsLogged", at: 1, stream: "run-x", version: 2, prev: "p", data } as Event)
  const refusal = (e: { readonly _tag: string; readonly message: string }) => ({ _tag: e._tag, message: e.message })

  it("same refusals, same events, for random batches (bad points included)", async () => {
    const store = makeMemoryEventStore()
    await runIn(store, Effect.gen(function*() {
      const tracker = yield* Tracker
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(point, { maxLength: 40 }), before, async (points, first) => {
            const { session, state } = await Effect.runPromise(Effect.gen(function*() {
              const session = yield* startRunSession({ experiment: "e" })
              return { session, state: yield* tracker.loadRun(session.id) }
            }).pipe(Effect.provideService(Tracker, tracker)))
            const prior = first === undefined ? [] : [first]
            if (first !== undefined) expect(session.queueMetric(first.key, first.value, { step: first.step, timestamp: first.timestamp })).toBe(true)
            const queued = session.queueBatch({ metrics: points as unknown as ReadonlyArray<BatchMetric> })
            const all = [...prior, ...points]
            const columns = {
              keys: all.map((p) => p.key),
              values: all.map((p) => p.value),
              steps: all.map((p) => p.step),
              timestamps: all.map((p) => p.timestamp)
            } as unknown as MetricsBatch
            const decided = decideRun(state, session.id, { _tag: "LogMetrics", batch: columns })
            if (!decided.ok) {
              expect(typeof queued).toBe("object")
              expect(refusal(queued as TrackerError)).toEqual(refusal(decided.error))
              // Refused whole: nothing of the batch is queued (the earlier point still is).
              expect(session.take().length).toBe(first === undefined ? 0 : 1)
              return
            }
            // True when this call queued something.
            expect(queued).toBe(points.length > 0)
            const taken = session.take()
            expect(taken.length).toBe(all.length > 0 ? 1 : 0)
            expect(decided.events.length).toBe(taken.length)
            for (let i = 0; i < taken.length; i++) {
              const entry = taken[i]
              expect(entry.kind).toBe("metrics")
              expect(json(entry.kind === "metrics" ? entry.batch : null)).toBe(json(decided.events[i].data))
            }
          }),
          { numRuns: 300 }
        )
      )
    }))
  })
})
