/** Every invariant: refused with a clear, tagged error, and nothing appended. */
import { Effect } from "effect"
import { beforeEach, describe, expect, it } from "vitest"
import type { EventStoreShape } from "../../core/src/index.ts"
import type { Run, TrackerClient } from "../src/index.ts"
import { memoryClient } from "./memory-client.ts"

let tracker: TrackerClient
let store: EventStoreShape
let run: Run

const head = () => Effect.runPromise(store.head)

/** The call must reject with `tag` and a message matching `message`, and leave the log as it was. */
const refused = async (call: () => Promise<unknown>, tag: string, message: RegExp) => {
  await run.flush()
  const before = await head()
  const error = await call().then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error, "the call should have been refused").toBeDefined()
  expect((error as { _tag: string })._tag).toBe(tag)
  expect((error as Error).message).toMatch(message)
  await run.flush().catch(() => {})
  expect(await head()).toBe(before)
}

beforeEach(async () => {
  ;({ tracker, store } = await memoryClient(undefined, async (p) => {
    if (p === "/exists.bin") return new Uint8Array([1, 2, 3])
    throw new Error("ENOENT")
  }))
  run = await tracker.startRun({ experiment: "e" })
  await run.logParams({ lr: 0.1, model: "mlp", flag: true })
})

describe("invariants", () => {
  it("a logged param keeps its value; the same value again is fine", async () => {
    await refused(() => run.logParam("lr", 0.2), "ParamConflict", /"lr".*0\.1.*cannot change to 0\.2/)
    await refused(() => run.logParam("lr", "0.1"), "ParamConflict", /immutable/)
    await refused(() => run.logParams({ fresh: 1, model: "rf" }), "ParamConflict", /"model"/)
    expect((await tracker.getRun(run.id)).params).toEqual({ lr: 0.1, model: "mlp", flag: true })
    const before = await head()
    await run.logParam("lr", 0.1)
    expect(await head()).toBe(before)
  })

  it("metric values must be numbers", async () => {
    await refused(() => run.logMetric("acc", "0.9" as unknown as number), "InvalidInput", /must be numbers/)
    await refused(() => run.logMetric("acc", null as unknown as number), "InvalidInput", /null/)
    await refused(() => run.logMetrics({ a: 1, b: "x" as unknown as number }), "InvalidInput", /"b"/)
  })

  it("keys: non-empty, at most 250 characters, allowed characters, no '..' segment", async () => {
    await refused(() => run.logMetric("", 1), "InvalidInput", /must not be empty/)
    await refused(() => run.logMetric("x".repeat(251), 1), "InvalidInput", /251 characters; the limit is 250/)
    await refused(() => run.logParam("a/../b", 1), "InvalidInput", /'\.\.' segment/)
    await refused(() => run.setTag("..", "v"), "InvalidInput", /'\.\.' segment/)
    await refused(() => run.logMetric("bad\nkey", 1), "InvalidInput", /character outside/)
    await run.logMetric("x".repeat(250), 1)
    await run.logMetric("train/loss 2.a-b_c", 1)
  })

  it("steps are whole numbers >= 0", async () => {
    await refused(() => run.logMetric("m", 1, { step: -1 }), "InvalidInput", /steps are whole numbers/)
    await refused(() => run.logMetric("m", 1, { step: 1.5 }), "InvalidInput", /1\.5/)
    await refused(() => run.logMetrics({ m: 1 }, { step: NaN }), "InvalidInput", /step/)
    await refused(
      () => run.logBatch({ metrics: [{ key: "m", value: 1, step: -3, timestamp: 0 }] }),
      "InvalidInput",
      /-3/
    )
  })

  it("artifact paths stay inside the run; local files must exist", async () => {
    await refused(() => run.logText("x", "/etc/passwd"), "InvalidInput", /absolute/)
    await refused(() => run.logText("x", "../up.txt"), "InvalidInput", /climbs out/)
    await refused(() => run.logText("x", "a/../../b"), "InvalidInput", /climbs out/)
    await refused(() => run.logText("x", "a\u0000b"), "InvalidInput", /NUL/)
    await refused(() => run.logArtifact("/missing.bin"), "NotFound", /missing\.bin/)
    await refused(() => run.logArtifact("/exists.bin", { path: "../x" }), "InvalidInput", /climbs out/)
    await run.logArtifact("/exists.bin", { path: "data/exists.bin" })
    expect((await tracker.getRun(run.id)).artifacts.map((a) => a.path)).toEqual(["data/exists.bin"])
  })

  it("nothing is logged to an ended run", async () => {
    await run.end()
    await refused(() => run.logMetric("m", 1), "RunNotActive", /has ended \(FINISHED\)/)
    await refused(() => run.logParam("other", 1), "RunNotActive", /Start a new run/)
    await refused(() => run.setTag("t", "v"), "RunNotActive", /ended/)
    await refused(() => run.logText("x", "a.txt"), "RunNotActive", /ended/)
    await refused(() => run.end(), "RunNotActive", /ended/)
  })

  it("an empty experiment name is refused and creates nothing", async () => {
    const before = await head()
    await expect(tracker.startRun({ experiment: "" })).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/must not be empty/) })
    await expect(tracker.startRun({ experiment: "   " })).rejects.toMatchObject({ _tag: "InvalidInput" })
    expect(await head()).toBe(before)
  })

  it("NaN, +Infinity, -Infinity and -0 are valid metric values and come back exactly", async () => {
    const values = [NaN, Infinity, -Infinity, -0, 0, 1e-300]
    for (const [i, v] of values.entries()) run.logMetric("weird", v, { step: i })
    await run.flush()
    const history = await tracker.metricHistory(run.id, "weird")
    expect(history.map((p) => p.value).every((v, i) => Object.is(v, values[i]))).toBe(true)
    const view = await tracker.getRun(run.id)
    expect(Object.is(view.metrics.weird, 1e-300)).toBe(true)
  })

  it("a refused call inside a batch of un-awaited calls fails alone; the others land", async () => {
    const ok1 = run.logMetric("m", 1, { step: 0 })
    const bad = run.logMetric("m", 2, { step: -1 })
    const ok2 = run.logMetric("m", 3, { step: 1 })
    await expect(bad).rejects.toMatchObject({ _tag: "InvalidInput" })
    await ok1
    await ok2
    expect((await tracker.metricHistory(run.id, "m")).map((p) => p.value)).toEqual([1, 3])
  })

  it("logBatch is all or nothing", async () => {
    await refused(
      () => run.logBatch({ params: { extra: 1 }, tags: { t: "v" }, metrics: [{ key: "ok", value: 1, step: 0, timestamp: 1 }, { key: "bad", value: "x" as unknown as number, step: 0, timestamp: 1 }] }),
      "InvalidInput",
      /"bad"/
    )
    await refused(() => run.logBatch({ params: { extra: 1, lr: 9 }, tags: { t: "v" } }), "ParamConflict", /"lr"/)
    const view = await tracker.getRun(run.id)
    expect(view.params.extra).toBeUndefined()
    expect(view.tags.t).toBeUndefined()
  })
})
