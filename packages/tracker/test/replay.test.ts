/**
 * Replaying the log gives the live state; folding is deterministic; catching up incrementally
 * equals folding from zero. Random command sequences also run against a plain model of the rules.
 */
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { foldRun, LogProjection, type RecordedEvent, runStream, toRunView } from "../../core/src/index.ts"
import { anyNumber, sameValue } from "../../core/test/arbitraries.ts"
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

  it("metric history keeps every point, out-of-order steps included, ordered by step", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    for (const step of [5, 1, 3, 1, 0]) run.logMetric("m", step * 10, { step })
    await run.flush()
    const h = await tracker.metricHistory(run.id, "m")
    expect(h.map((p) => [p.step, p.value])).toEqual([[0, 0], [1, 10], [1, 10], [3, 30], [5, 50]])
    expect((await tracker.getRun(run.id)).metrics.m).toBe(50)
  })
})
