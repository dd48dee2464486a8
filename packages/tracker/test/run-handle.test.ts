/**
 * The run handle's promises: every call's promise settles, whatever mix of awaited and un-awaited
 * calls, no-op repeats and refusals came before it; and the log holds exactly the accepted calls.
 */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { checkMetricsBatch, decideRun } from "../../core/src/decide/runs.ts"
import { MAX_TIMESTAMP_MS, type ParamValue, type RecordedEvent } from "../../core/src/index.ts"
import { type Run } from "../src/index.ts"
import { memoryClient } from "./memory-client.ts"

type Call =
  | { readonly op: "param"; readonly key: string; readonly value: ParamValue }
  | { readonly op: "params"; readonly params: Record<string, ParamValue> }
  | { readonly op: "metric"; readonly key: string; readonly value: number; readonly step: number | undefined }
  | { readonly op: "metrics"; readonly metrics: Record<string, number>; readonly step: number | undefined }
  | { readonly op: "tag"; readonly key: string; readonly value: string }
  | { readonly op: "deleteTag"; readonly key: string }
  | { readonly op: "batch"; readonly params: Record<string, ParamValue>; readonly metrics: ReadonlyArray<{ key: string; value: number; step: number }> }
  | { readonly op: "flush" }
  | { readonly op: "end" }

const paramKey = fc.constantFrom("lr", "layers", "opt")
const paramValue = fc.constantFrom<ParamValue>(0.1, 0.2, "adam", true)
const metricKey = fc.constantFrom("loss", "acc")
// Mostly valid steps, and the invalid ones a training loop produces by mistake.
const step = fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(NaN, -1, 1.5) })
const call: fc.Arbitrary<Call> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("param" as const), key: paramKey, value: paramValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("params" as const), params: fc.dictionary(paramKey, paramValue, { maxKeys: 2 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("metric" as const), key: metricKey, value: fc.double({ noNaN: true }), step: fc.option(step, { nil: undefined }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("metrics" as const), metrics: fc.dictionary(metricKey, fc.integer(), { maxKeys: 2 }), step: fc.option(step, { nil: undefined }) })
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("tag" as const), key: fc.constantFrom("team", "note"), value: fc.constantFrom("a", "b") }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("deleteTag" as const), key: fc.constantFrom("team", "note") }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("batch" as const),
      params: fc.dictionary(paramKey, paramValue, { maxKeys: 2 }),
      metrics: fc.array(fc.record({ key: metricKey, value: fc.integer(), step }), { maxLength: 3 })
    })
  },
  { weight: 1, arbitrary: fc.constant({ op: "flush" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "end" as const }) }
)

const validStep = (s: number) => Number.isSafeInteger(s) && s >= 0

/** What the handle promises, worked out call by call without it. */
class Model {
  params = new Map<string, ParamValue>()
  tags = new Map<string, string>()
  points: Array<{ key: string; value: number; step: number }> = []
  nextStep = new Map<string, number>()
  status: "RUNNING" | "FINISHED" | "FAILED" = "RUNNING"
  /** The first refusal of an un-awaited call that no flush() or end() has reported yet. */
  unseen = false

  /** Whether the call is accepted, and its effect applied. `flush` and `end` are always awaited. */
  apply(c: Call, awaited: boolean): { ok: boolean } {
    const ok = this.accept(c)
    if (!ok && !awaited && c.op !== "flush" && c.op !== "end") this.unseen = true
    return { ok }
  }

  private accept(c: Call): boolean {
    if (c.op === "flush") {
      const reported = this.unseen
      this.unseen = false
      return !reported
    }
    if (this.status !== "RUNNING") return false
    switch (c.op) {
      case "param":
        return this.logParams({ [c.key]: c.value })
      case "params":
        return this.logParams(c.params)
      case "metric": {
        const s = c.step ?? this.nextStep.get(c.key) ?? 0
        if (!validStep(s)) return false
        this.point(c.key, c.value, s)
        return true
      }
      case "metrics": {
        const keys = Object.keys(c.metrics)
        const s = c.step ?? Math.max(0, ...keys.map((k) => this.nextStep.get(k) ?? 0))
        // Each point is checked; with no points there is nothing to refuse.
        if (keys.length > 0 && !validStep(s)) return false
        for (const k of keys) this.point(k, c.metrics[k], s)
        return true
      }
      case "tag":
        this.tags.set(c.key, c.value)
        return true
      case "deleteTag":
        return this.tags.delete(c.key)
      case "batch": {
        if (!c.metrics.every((m) => validStep(m.step))) return false
        if (!this.logParams(c.params)) return false
        for (const m of c.metrics) this.point(m.key, m.value, m.step)
        return true
      }
      case "end": {
        // An un-awaited refusal nobody looked at fails the run, and end() reports it.
        this.status = this.unseen ? "FAILED" : "FINISHED"
        const reported = this.unseen
        this.unseen = false
        return !reported
      }
    }
  }

  private logParams(params: Record<string, ParamValue>): boolean {
    for (const [k, v] of Object.entries(params)) if (this.params.has(k) && !Object.is(this.params.get(k), v)) return false
    for (const [k, v] of Object.entries(params)) this.params.set(k, v)
    return true
  }

  private point(key: string, value: number, step: number) {
    this.points.push({ key, value, step })
    this.nextStep.set(key, Math.max(this.nextStep.get(key) ?? 0, step + 1))
  }
}

const invoke = (run: Run, c: Call): Promise<void> => {
  switch (c.op) {
    case "param":
      return run.logParam(c.key, c.value)
    case "params":
      return run.logParams(c.params)
    case "metric":
      return run.logMetric(c.key, c.value, c.step === undefined ? undefined : { step: c.step })
    case "metrics":
      return run.logMetrics(c.metrics, c.step === undefined ? undefined : { step: c.step })
    case "tag":
      return run.setTag(c.key, c.value)
    case "deleteTag":
      return run.deleteTag(c.key)
    case "batch":
      return run.logBatch({ params: c.params, metrics: c.metrics.map((m) => ({ ...m, timestamp: 1 })) })
    case "flush":
      return run.flush()
    case "end":
      return run.end()
  }
}

/** Settles, or fails the test naming the call that hung (instead of hanging the suite). */
const settled = async (p: Promise<void>, what: string): Promise<{ ok: boolean }> => {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the promise of ${what} never settled`)), 10_000)
  })
  try {
    return await Promise.race([p.then(() => ({ ok: true }), () => ({ ok: false })), hang])
  } finally {
    clearTimeout(timer)
  }
}

const fold = (events: ReadonlyArray<RecordedEvent>) => {
  const params = new Map<string, ParamValue>()
  const tags = new Map<string, string>()
  const points: Array<{ key: string; value: number; step: number }> = []
  let status = "RUNNING"
  for (const e of events) {
    if (e.type === "ParamsLogged") for (const [k, v] of Object.entries(e.data.params)) params.set(k, v)
    if (e.type === "TagsSet") for (const [k, v] of Object.entries(e.data.tags)) tags.set(k, v)
    if (e.type === "TagDeleted") tags.delete(e.data.key)
    if (e.type === "MetricsLogged") {
      // A flush never appends an empty batch.
      expect(e.data.keys.length).toBeGreaterThan(0)
      e.data.keys.forEach((key, i) => points.push({ key, value: e.data.values[i], step: e.data.steps[i] }))
    }
    if (e.type === "RunEnded") status = e.data.status
  }
  return { params, tags, points, status }
}

describe("run handle", () => {
  it("an awaited no-op right after an awaited call settles", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await run.logParam("lr", 0.1)
    expect(await settled(run.logParam("lr", 0.1), "the repeated logParam")).toEqual({ ok: true })
    await run.logMetric("m", 1)
    expect(await settled(run.logParams({ lr: 0.1 }), "logParams of a logged param")).toEqual({ ok: true })
    void run.logMetric("m", 2)
    expect(await settled(run.logParam("lr", 0.1), "a no-op behind an un-awaited metric")).toEqual({ ok: true })
    expect(await settled(run.logMetrics({}), "logMetrics({})")).toEqual({ ok: true })
    expect(await settled(run.logBatch({}), "logBatch({})")).toEqual({ ok: true })
    await run.end()
    expect((await tracker.metricHistory(run.id, "m")).map((p) => p.value)).toEqual([1, 2])
    await tracker.close()
  })

  it("a failure nobody looked at fails the run at end(); one its caller caught does not", async () => {
    const { tracker } = await memoryClient()
    const caught = await tracker.startRun({ experiment: "e" })
    await expect(caught.logMetric("m", 1, { step: -1 })).rejects.toMatchObject({ _tag: "InvalidInput" })
    caught.logText("x", "../out").catch(() => {})
    await caught.end()
    expect((await tracker.getRun(caught.id)).status).toBe("FINISHED")

    // An upload that fails (the memory store cannot read files), not awaited.
    const run = await tracker.startRun({ experiment: "e" })
    void run.logArtifact("/nowhere/model.bin")
    void run.logMetric("m", 2)
    await expect(run.end()).rejects.toMatchObject({ _tag: "StorageError" })
    const view = await tracker.getRun(run.id)
    expect(view.status).toBe("FAILED")
    expect(view.error?.message).toMatch(/cannot read \/nowhere\/model.bin/)
    expect(view.metrics.m).toBe(2)

    // flush() reports it once; end() then finishes the run as asked.
    const again = await tracker.startRun({ experiment: "e" })
    void again.logText("x", "../out")
    await expect(again.flush()).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/climbs out of the run/) })
    await again.flush()
    await again.end()
    expect((await tracker.getRun(again.id)).status).toBe("FINISHED")
    await tracker.close()
  })

  it("any sequence of awaited and un-awaited calls: every promise settles, the log holds exactly the accepted calls", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ call, awaited: fc.boolean() }), { minLength: 1, maxLength: 40 }), async (calls) => {
        const { tracker } = await memoryClient()
        const run = await tracker.startRun({ experiment: "e" })
        const model = new Model()
        const pending: Array<{ p: Promise<void>; expected: boolean; what: string }> = []
        for (const [i, { call: c, awaited }] of calls.entries()) {
          const always = c.op === "flush" || c.op === "end"
          const p = invoke(run, c)
          const { ok } = model.apply(c, awaited || always)
          const what = `call ${i} (${JSON.stringify(c)}, ${awaited || always ? "awaited" : "not awaited"})`
          if (awaited || always) expect(await settled(p, what), what).toEqual({ ok })
          else pending.push({ p, expected: ok, what })
        }
        // Whatever was left behind settles once the handle is drained.
        await settled(run.flush().catch(() => {}), "the final flush")
        for (const { p, expected, what } of pending) expect(await settled(p, what), what).toEqual({ ok: expected })
        const log = fold(await tracker.streamEvents(`run-${run.id}`))
        expect(log.params).toEqual(model.params)
        expect(log.tags).toEqual(model.tags)
        expect(log.points).toEqual(model.points)
        expect(log.status).toBe(model.status)
        await tracker.close()
      }),
      { numRuns: 300 }
    )
  })
})

describe("renaming through the mlflow.runName tag", () => {
  it("writes TagsSet and RunRenamed in one append; every view and the handle see the new name", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e", name: "old" })
    await run.setTags({ team: "a", "mlflow.runName": "new" })
    expect(run.name).toBe("new")
    const events = await tracker.streamEvents(`run-${run.id}`)
    expect(events.slice(1).map((e) => [e.type, e.data])).toEqual([
      ["TagsSet", { tags: { team: "a", "mlflow.runName": "new" } }],
      ["RunRenamed", { name: "new" }]
    ])
    expect((await tracker.getRun(run.id)).name).toBe("new")
    expect((await tracker.listRuns()).map((r) => r.name)).toEqual(["new"])
    await expect(run.setTag("mlflow.runName", "bad\u0007name")).rejects.toMatchObject({ _tag: "InvalidInput" })
    expect((await tracker.streamEvents(`run-${run.id}`)).length).toBe(events.length)
    await tracker.close()
  })
})

describe("metric timestamps and steps are bounded to what every store and the read model hold", () => {
  const extremes = [1e19, 1e300, Number.MAX_VALUE, MAX_TIMESTAMP_MS + 1, 1.5, -1, NaN, Infinity, -0.5]

  it("1e19, 1e300, Number.MAX_VALUE, fractions and out-of-range values are refused by every path, with nothing appended", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    const before = (await tracker.streamEvents(`run-${run.id}`)).length
    for (const t of extremes) {
      const message = expect.stringMatching(/timestamp of metric "m" is .*whole epoch milliseconds from 0 to 8640000000000000/)
      await expect(run.logMetric("m", 1, { timestamp: t })).rejects.toMatchObject({ _tag: "InvalidInput", message })
      await expect(run.logMetrics({ m: 1 }, { timestamp: t })).rejects.toMatchObject({ _tag: "InvalidInput", message })
      await expect(run.logBatch({ metrics: [{ key: "m", value: 1, step: 0, timestamp: t }] })).rejects.toMatchObject({ _tag: "InvalidInput", message })
      const decided = decideRun(await tracker.effect.loadRun(run.id).pipe(Effect.runPromise), run.id, { _tag: "LogMetrics", batch: { keys: ["m"], values: [1], steps: [0], timestamps: [t] } })
      expect(decided.ok).toBe(false)
    }
    await run.flush()
    expect((await tracker.streamEvents(`run-${run.id}`)).length).toBe(before)
    // The bounds themselves are fine.
    await run.logMetric("m", 1, { step: Number.MAX_SAFE_INTEGER, timestamp: MAX_TIMESTAMP_MS })
    await run.logMetric("m", 2, { step: 0, timestamp: 0 })
    expect((await tracker.metricHistory(run.id, "m")).map((p) => [p.step, p.timestamp])).toEqual([[0, 0], [Number.MAX_SAFE_INTEGER, MAX_TIMESTAMP_MS]])
    await tracker.close()
  })

  it("whatever decide accepts fits a BIGINT, a DuckDB TIMESTAMP (microseconds) and a JS Date", () => {
    const anyTime = fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.constantFrom(...extremes, 0, MAX_TIMESTAMP_MS, -0))
    fc.assert(
      fc.property(anyTime, fc.oneof(fc.double(), fc.maxSafeNat()), (timestamp, step) => {
        const bad = checkMetricsBatch({ keys: ["m"], values: [1], steps: [step], timestamps: [timestamp] })
        if (bad !== undefined) return
        const int64 = (n: bigint) => n >= -(2n ** 63n) && n < 2n ** 63n
        expect(Number.isSafeInteger(step) && step >= 0).toBe(true)
        expect(Number.isSafeInteger(timestamp)).toBe(true)
        expect(int64(BigInt(timestamp) * 1000n)).toBe(true)
        // The same instant (-0 is 0 as a time; the codec writes it as 0).
        expect(new Date(timestamp).getTime() === timestamp).toBe(true)
      })
    )
  })
})
