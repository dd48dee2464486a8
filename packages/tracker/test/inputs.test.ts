/**
 * Dataset inputs through the tracker: the run handle's logInput (Promise API) and the run
 * session's (Effect API) record InputLogged, a repeat appends nothing, an ended run refuses unless
 * reopened by recordReopening (MLflow's post-hoc writes), and getRun shows them in order.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { type DatasetInput, makeMemoryEventStore, runStream } from "../../core/src/index.ts"
import { startRunSession, Tracker } from "../src/index.ts"
import { memoryClient, memoryLayer } from "./memory-client.ts"

const train: DatasetInput = { name: "mnist", digest: "0f3a", sourceType: "http", source: '{"url": "https://x/mnist.npz"}', schema: '{"cols": ["x", "y"]}', tags: { "mlflow.data.context": "train" } }
const evalSet: DatasetInput = { name: "mnist-test", digest: "9c1b", sourceType: "http", source: '{"url": "https://x/test.npz"}', tags: { "mlflow.data.context": "eval" } }

describe("dataset inputs in the tracker", () => {
  it("run.logInput records each input once, in order, and getRun shows them", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await run.logInput(train)
    await run.logInputs([evalSet, train])
    await run.logInput({ ...train })
    const types = (await tracker.streamEvents(runStream(run.id))).map((e) => e.type)
    expect(types.filter((t) => t === "InputLogged")).toHaveLength(2)
    expect((await tracker.getRun(run.id)).inputs).toEqual([train, evalSet])
    await run.end()
    const refused = await run.logInput(evalSet).then(() => undefined, (e: unknown) => e)
    expect(refused).toMatchObject({ _tag: "RunNotActive" })
  })

  it("an invalid input fails its call and costs the valid calls around it nothing", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    const a = run.logInput(train)
    const bad = run.logInput({ ...evalSet, digest: "" }).then(() => undefined, (e: unknown) => e)
    const b = run.logInput(evalSet)
    await Promise.all([a, b])
    expect(await bad).toMatchObject({ _tag: "InvalidInput", message: expect.stringContaining("digest must not be empty") })
    expect((await tracker.getRun(run.id)).inputs).toEqual([train, evalSet])
  })

  it("the Effect API's run session logs inputs too", async () => {
    const store = makeMemoryEventStore()
    const inputs = await Effect.runPromise(
      Effect.gen(function*() {
        const session = yield* startRunSession({ experiment: "e" })
        yield* session.logInput(train)
        yield* session.logInputs([evalSet])
        yield* session.end()
        const tracker = yield* Tracker
        return (yield* tracker.getRun(session.id)).inputs
      }).pipe(Effect.provide(memoryLayer(store)))
    )
    expect(inputs).toEqual([train, evalSet])
  })

  it("recordReopening logs inputs to a finished run inside an explicit reopen; a deleted run refuses", async () => {
    const { tracker } = await memoryClient()
    const run = await tracker.startRun({ experiment: "e" })
    await run.end()
    const before = (await tracker.streamEvents(runStream(run.id))).length
    const after = await Effect.runPromise(tracker.effect.recordReopening(run.id, [{ _tag: "LogInputs", inputs: [evalSet] }]))
    const added = (await tracker.streamEvents(runStream(run.id))).slice(before).map((e) => e.type)
    expect(added).toEqual(["RunResumed", "InputLogged", "RunEnded"])
    expect(after.status).toBe("FINISHED")
    expect(after.inputs).toEqual([evalSet])
    await tracker.deleteRun(run.id)
    const refused = await Effect.runPromise(Effect.flip(tracker.effect.recordReopening(run.id, [{ _tag: "LogInputs", inputs: [train] }])))
    expect(refused._tag).toBe("RunNotActive")
  })
})
