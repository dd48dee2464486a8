/**
 * Dataset inputs (InputLogged): decide refuses what the log must not hold and drops exact repeats,
 * and the fold keeps every other input in the order logged.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decideRun, sameInput } from "../src/decide/runs.ts"
import type { DatasetInput, Event } from "../src/events.ts"
import { evolveRun, type RunState, toRunView } from "../src/project/runs.ts"

let version = 0
const at = (type: string, data: unknown): Event => ({ id: `e${++version}`, type, at: 1000 + version, data, stream: "run-r", version } as unknown as Event)

const started = (): RunState => {
  version = 0
  return evolveRun(undefined, at("RunStarted", {
    runId: "r", experimentId: "0", name: "n", parentRunId: null, tags: {}, source: {},
    environment: { runtime: "node", os: "linux", arch: "x64", cpu: "c", cpus: 1, memoryBytes: 1, host: "h", pid: 1 }
  }))!
}

/** Apply a decision's drafts to the state, as the command handler does after the append. */
const applyDecided = (state: RunState, inputs: ReadonlyArray<DatasetInput>): { state: RunState; appended: number } => {
  const d = decideRun(state, "r", { _tag: "LogInputs", inputs })
  if (!d.ok) throw d.error
  for (const e of d.events) evolveRun(state, at(e.type, e.data))
  return { state, appended: d.events.length }
}

// Few distinct values, so repeats (the case to get right) are common.
const input: fc.Arbitrary<DatasetInput> = fc.record(
  {
    name: fc.constantFrom("train", "eval"),
    digest: fc.constantFrom("abc", "def"),
    sourceType: fc.constant("local"),
    source: fc.constantFrom("/a.csv", "/b.csv"),
    schema: fc.constant('{"cols": []}'),
    profile: fc.constant('{"rows": 1}'),
    tags: fc.dictionary(fc.constant("mlflow.data.context"), fc.constantFrom("train", "eval"), { maxKeys: 1 })
  },
  { requiredKeys: ["name", "digest", "sourceType", "source", "tags"] }
)

describe("InputLogged: decide and fold", () => {
  it("the fold holds every distinct input once, in the order first logged, however calls split them; a repeat appends nothing", () => {
    fc.assert(
      fc.property(fc.array(fc.array(input, { maxLength: 4 }), { maxLength: 6 }), (calls) => {
        let state = started()
        const expected: DatasetInput[] = []
        for (const call of calls) {
          const fresh = call.filter((x, i) => !expected.some((e) => sameInput(e, x)) && !call.slice(0, i).some((y) => sameInput(x, y)))
          const r = applyDecided(state, call)
          state = r.state
          expect(r.appended).toBe(fresh.length)
          for (const x of fresh) expected.push(x)
          // The same call again (a retried request) is a no-op.
          expect(applyDecided(state, call).appended).toBe(0)
        }
        expect(toRunView(state, "Default").inputs).toEqual(expected)
      })
    )
  })

  it("the view is a copy: folding more does not change a view handed out", () => {
    const state = started()
    applyDecided(state, [{ name: "a", digest: "1", sourceType: "local", source: "s", tags: {} }])
    const view = toRunView(state, "Default")
    applyDecided(state, [{ name: "b", digest: "2", sourceType: "local", source: "s", tags: {} }])
    expect(view.inputs.map((i) => i.name)).toEqual(["a"])
  })

  it("refuses an ended or deleted run, and inputs that are missing a field or over a limit, all or none", () => {
    const ok: DatasetInput = { name: "a", digest: "1", sourceType: "local", source: "s", tags: {} }
    const refusal = (state: RunState, inputs: ReadonlyArray<DatasetInput>) => {
      const d = decideRun(state, "r", { _tag: "LogInputs", inputs })
      expect(d.ok).toBe(false)
      return d.ok ? undefined : d.error
    }
    const ended = started()
    evolveRun(ended, at("RunEnded", { status: "FINISHED" }))
    expect(refusal(ended, [ok])).toMatchObject({ _tag: "RunNotActive", message: expect.stringContaining("has ended") })
    const deleted = started()
    evolveRun(deleted, at("RunDeleted", {}))
    expect(refusal(deleted, [ok])).toMatchObject({ _tag: "RunNotActive", message: expect.stringContaining("deleted") })

    const live = started()
    const cases: ReadonlyArray<[DatasetInput, RegExp]> = [
      [{ ...ok, name: "" }, /dataset name must not be empty/],
      [{ ...ok, source: undefined as unknown as string }, /dataset source must be a string/],
      [{ ...ok, digest: "f".repeat(37) }, /digest of dataset "a" has 37 characters; the limit is 36/],
      [{ ...ok, schema: 5 as unknown as string }, /dataset schema must be a string/],
      [{ ...ok, tags: { "mlflow.data.context": "x".repeat(501) } }, /limit is 500/],
      [{ ...ok, tags: { "a/../b": "x" } }, /'\.\.' segment/],
      [{ ...ok, name: "bad\uD800" }, /lone UTF-16 surrogate/]
    ]
    for (const [bad, message] of cases) {
      const error = refusal(live, [ok, bad])
      expect(error).toMatchObject({ _tag: "InvalidInput" })
      expect((error as Error).message).toMatch(message)
    }
    expect(live.inputs).toEqual([])
  })
})
