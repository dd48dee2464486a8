/**
 * Replaying the log gives the live state; folding is deterministic; catching up incrementally
 * equals folding from zero. Random command sequences also run against a plain model of the rules.
 */
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type EventStoreShape, foldRun, LogProjection, type RecordedEvent, runStream, StorageError, toRunView } from "../../core/src/index.ts"
import { anyNumber, sameValue } from "@runledger/store-conformance/arbitraries"
import { memoryClient } from "./memory-client.ts"

type Op =
  | { op: "metric"; run: number; key: string; value: number; step: number | undefined }
  | { op: "param"; run: number; key: string; value: string | number }
  | { op: "tag"; run: number; key: string; value: string }
  | { op: "untag"; run: number; key: string }
  | { op: "end"; run: number; status: "FINISHED" | "FAILED" | "KILLED" }
  | { op: "await"; run: number }

const keys = fc.constantFrom("loss", "acc", "lr", "a/b")
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("metric" as const), run: fc.nat(2), key: keys, value: anyNumber, step: fc.option(fc.nat(20), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("param" as const), run: fc.nat(2), key: keys, value: fc.oneof(fc.constantFrom("x", "y"), fc.constantFrom(1, 2)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("tag" as const), run: fc.nat(2), key: keys, value: fc.constantFrom("u", "v") }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("untag" as const), run: fc.nat(2), key: keys }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("end" as const), run: fc.nat(2), status: fc.constantFrom("FINISHED" as const, "FAILED" as const, "KILLED" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("await" as const), run: fc.nat(2) }) }
)

interface Model {
  status: string
  params: Record<string, string | number>
  tags: Record<string, string>
  latest: Map<string, { value: number; step: number; timestamp: number }>
  nextStep: Map<string, number>
}

const all = (events: Stream.Stream<RecordedEvent, unknown>) => Effect.runPromise(Stream.runCollect(events))

/** Record random ops on three runs, then maybe delete one: the store a read test starts from. */
const recordOps = async (tracker: Awaited<ReturnType<typeof memoryClient>>["tracker"], ops: ReadonlyArray<Op>, deleteRun: number | undefined) => {
  const runs = await Promise.all([0, 1, 2].map((i) => tracker.startRun({ experiment: i === 2 ? "other" : "exp", name: `r${i}` })))
  for (const [i, o] of ops.entries()) {
    const run = runs[o.run]
    const done = o.op === "metric"
      ? run.logMetric(o.key, o.value, { step: o.step, timestamp: 1000 + i })
      : o.op === "param"
      ? run.logParam(o.key, o.value)
      : o.op === "tag"
      ? run.setTag(o.key, o.value)
      : o.op === "untag"
      ? run.deleteTag(o.key)
      : o.op === "end"
      ? run.end({ status: o.status })
      : run.flush()
    await done.catch(() => {})
  }
  await Promise.all(runs.map((r) => r.flush().catch(() => {})))
  if (deleteRun !== undefined) await tracker.deleteRun(runs[deleteRun].id)
  return runs.map((r) => r.id)
}

describe("replay", () => {
  it("live state = replay of the log = the model of the rules, for random command sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.nat(60), async (ops, split) => {
        const { tracker, store } = await memoryClient()
        const runs = await Promise.all([0, 1, 2].map((i) => tracker.startRun({ experiment: i === 2 ? "other" : "exp", name: `r${i}` })))
        const models: Model[] = runs.map(() => ({ status: "RUNNING", params: {}, tags: {}, latest: new Map(), nextStep: new Map() }))
        const incremental = new LogProjection()
        const pending: Array<Promise<unknown>> = []
        for (const [i, o] of ops.entries()) {
          const run = runs[o.run]
          const m = models[o.run]
          if (i === split) for await (const e of await all(store.readAll(incremental.position))) incremental.apply(e)
          const ended = m.status !== "RUNNING"
          switch (o.op) {
            case "metric": {
              const ts = 1000 + i
              const p = run.logMetric(o.key, o.value, { step: o.step, timestamp: ts })
              pending.push(p.catch(() => {}))
              if (!ended) {
                const step = o.step ?? m.nextStep.get(o.key) ?? 0
                m.nextStep.set(o.key, Math.max(m.nextStep.get(o.key) ?? 0, step + 1))
                const cur = m.latest.get(o.key)
                if (cur === undefined || step > cur.step || (step === cur.step && ts >= cur.timestamp)) m.latest.set(o.key, { value: o.value, step, timestamp: ts })
              }
              break
            }
            case "param": {
              const p = run.logParam(o.key, o.value)
              pending.push(p.catch(() => {}))
              if (!ended && !(o.key in m.params)) m.params[o.key] = o.value
              break
            }
            case "tag":
              pending.push(run.setTag(o.key, o.value).catch(() => {}))
              if (!ended) m.tags[o.key] = o.value
              break
            case "untag":
              pending.push(run.deleteTag(o.key).catch(() => {}))
              if (!ended && o.key in m.tags) delete m.tags[o.key]
              break
            case "end":
              pending.push(run.end({ status: o.status }).catch(() => {}))
              if (!ended) m.status = o.status
              break
            case "await":
              await Promise.all(pending)
              break
          }
        }
        await Promise.all(pending)
        await Promise.all(runs.map((r) => r.flush()))

        const log = await all(store.readAll(0))
        const fresh = new LogProjection()
        for (const e of log) fresh.apply(e)
        for (const e of await all(store.readAll(incremental.position))) incremental.apply(e)
        const again = new LogProjection()
        for (const e of log) again.apply(e)

        for (const [i, run] of runs.entries()) {
          const live = await tracker.getRun(run.id)
          const m = models[i]
          expect(live.status).toBe(m.status)
          expect(live.params).toEqual(m.params)
          expect(live.tags).toEqual(m.tags)
          expect(sameValue(live.metrics, Object.fromEntries([...m.latest].map(([k, v]) => [k, v.value])))).toBe(true)
          // Replay from zero, incremental catch-up, a second fold and the stream fold all agree with the live view.
          expect(sameValue(fresh.runView(run.id), live)).toBe(true)
          expect(sameValue(incremental.runView(run.id), live)).toBe(true)
          expect(sameValue(again.runView(run.id), live)).toBe(true)
          const streamFold = foldRun(await Effect.runPromise(store.readStream(runStream(run.id))))!
          expect(sameValue(toRunView(streamFold, live.experiment), live)).toBe(true)
        }
        expect(fresh.listExperiments().map((e) => e.name).sort()).toEqual(["exp", "other"])
        await tracker.close()
      }),
      { numRuns: 150 }
    )
  })

  it("a run read by id from its stream (no fold of the log) = the same run from the projection = a full replay", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 30 }),
        fc.record({ deleteRun: fc.option(fc.nat(2), { nil: undefined }), deleteOther: fc.boolean(), restoreOther: fc.boolean(), resumeAt: fc.option(fc.nat(10), { nil: undefined }) }),
        async (ops, late) => {
          const { tracker, store } = await memoryClient()
          const ids = await recordOps(tracker, ops, late.deleteRun)
          if (late.deleteOther) await tracker.deleteExperiment("other")
          if (late.deleteOther && late.restoreOther) await tracker.restoreExperiment("other")
          if (late.resumeAt !== undefined) await tracker.resumeRun(ids[0], { fromStep: late.resumeAt }).catch(() => {})
          // This client has not folded the log yet: reads by id go to the runs' streams.
          const byStream = await Promise.all(ids.map((id) => tracker.getRun(id)))
          const manyByStream = await tracker.getRuns(ids)
          // Listing folds the log; from then on the same reads come from the projection.
          await tracker.listRuns({ viewType: "all" })
          const byProjection = await Promise.all(ids.map((id) => tracker.getRun(id)))
          const manyByProjection = await tracker.getRuns(ids)
          const replay = new LogProjection()
          for (const e of await all(store.readAll(0))) replay.apply(e)
          for (const [i, id] of ids.entries()) {
            expect(sameValue(byStream[i], byProjection[i])).toBe(true)
            expect(sameValue(manyByStream[i], byStream[i])).toBe(true)
            expect(sameValue(manyByProjection[i], byStream[i])).toBe(true)
            // A resume sets latest values aside (recomputed from the stream by reads); the rest is the replay's.
            if (late.resumeAt === undefined || i !== 0) expect(sameValue(replay.runView(id), byStream[i])).toBe(true)
          }
          // An unknown id is refused the same way on both paths.
          const fresh = await memoryClient(store)
          await expect(fresh.tracker.getRuns([...ids, "0".repeat(32)])).rejects.toMatchObject({ _tag: "NotFound" })
          await expect(tracker.getRuns([...ids, "0".repeat(32)])).rejects.toMatchObject({ _tag: "NotFound" })
          await fresh.tracker.close()
          await tracker.close()
        }
      ),
      { numRuns: 60 }
    )
  })

  it("metric history keeps every point, out-of-order steps included, ordered by step", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    for (const step of [5, 1, 3, 1, 0]) run.logMetric("m", step * 10, { step })
    await run.flush()
    const h = await tracker.metricHistory(run.id, "m")
    expect(h.map((p) => [p.step, p.value])).toEqual([[0, 0], [1, 10], [1, 10], [3, 30], [5, 50]])
    expect((await tracker.getRun(run.id)).metrics.m).toBe(50)
  })

  /** The store, its whole-log reads held at a gate half way (or failing), and its stream reads counted. */
  const heldStore = (inner: EventStoreShape, mode: "gate" | "fail") => {
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let streamReads = 0
    const store: EventStoreShape = {
      ...inner,
      readStream: (stream) => Effect.suspend(() => {
        streamReads++
        return inner.readStream(stream)
      }),
      readAll: (from) =>
        mode === "fail"
          ? Stream.fail(new StorageError({ message: "the log cannot be read whole (a test's store)" }))
          : Stream.concat(inner.readAll(from).pipe(Stream.take(3)), Stream.unwrap(Effect.promise(() => gate).pipe(Effect.as(inner.readAll(from).pipe(Stream.drop(3))))))
    }
    return { store, release, streamReads: () => streamReads }
  }

  it("the first fold runs in the background: reads by id answer while it is held, equal a full replay before, during and after, then come from the projection", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), fc.option(fc.nat(2), { nil: undefined }), async (ops, deleteRun) => {
        const base = await memoryClient()
        const ids = await recordOps(base.tracker, ops, deleteRun)
        await base.tracker.close()
        const replay = new LogProjection()
        for (const e of await all(base.store.readAll(0))) replay.apply(e)
        const held = heldStore(base.store, "gate")
        const { tracker } = await memoryClient(held.store)
        // Past the threshold (64 runs read by id) while the fold cannot finish: every read still answers.
        for (let i = 0; i < 80; i++) {
          const id = ids[i % ids.length]
          expect(sameValue(await tracker.getRun(id), replay.runView(id))).toBe(true)
        }
        const many = await tracker.getRuns(ids)
        for (const [i, id] of ids.entries()) expect(sameValue(many[i], replay.runView(id))).toBe(true)
        held.release()
        // Once the fold is done, reads by id stop reading the runs' streams.
        let switched = false
        for (let tries = 0; tries < 200 && !switched; tries++) {
          const before = held.streamReads()
          const view = await tracker.getRun(ids[0])
          expect(sameValue(view, replay.runView(ids[0]))).toBe(true)
          switched = held.streamReads() === before
          if (!switched) await new Promise((r) => setTimeout(r, 5))
        }
        expect(switched).toBe(true)
        for (const id of ids) expect(sameValue(await tracker.getRun(id), replay.runView(id))).toBe(true)
        await tracker.close()
      }),
      { numRuns: 15 }
    )
  })

  it("a background fold that fails breaks no read: reads by id go on from the runs' streams, equal to a full replay", async () => {
    const base = await memoryClient()
    const ids = await recordOps(base.tracker, [
      { op: "metric", run: 0, key: "loss", value: 1, step: 3 },
      { op: "param", run: 1, key: "lr", value: 2 },
      { op: "tag", run: 2, key: "a/b", value: "u" }
    ], 1)
    await base.tracker.close()
    const replay = new LogProjection()
    for (const e of await all(base.store.readAll(0))) replay.apply(e)
    const held = heldStore(base.store, "fail")
    const { tracker } = await memoryClient(held.store)
    // Two thresholds crossed: the fold is tried, fails, and is tried again; no read fails meanwhile.
    for (let i = 0; i < 200; i++) {
      const id = ids[i % ids.length]
      expect(sameValue(await tracker.getRun(id), replay.runView(id))).toBe(true)
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1))
    }
    // A read that needs the whole log reports the failure to its caller, as it always did.
    await expect(tracker.listRuns()).rejects.toMatchObject({ _tag: "StorageError" })
    expect(sameValue(await tracker.getRun(ids[0]), replay.runView(ids[0]))).toBe(true)
    await tracker.close()
  })
})
