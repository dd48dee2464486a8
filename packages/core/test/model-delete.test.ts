/**
 * ModelDeleted: decide refuses a model that is not there, and the folds (one model's stream, and
 * the whole log's projection) agree that a deleted model is gone until registered again, then
 * new from version 1, whatever the order of events across models.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decideDeleteModel, decideRegisterModel } from "../src/decide/models.ts"
import { type Event, modelStream } from "../src/events.ts"
import { LogProjection } from "../src/project/log.ts"
import { evolveModel, type ModelState, toModelView } from "../src/project/models.ts"

type Step = { readonly model: "a" | "b"; readonly op: "register" | "version" | "delete" }

/** Events as the tracker would decide them: a step a model's state refuses appends nothing. */
const logOf = (steps: ReadonlyArray<Step>): Event[] => {
  const events: Event[] = []
  const states = new Map<string, ModelState | undefined>()
  const versions = new Map<string, number>()
  for (const [i, s] of steps.entries()) {
    const stream = modelStream(s.model)
    const state = states.get(s.model)
    let data: { type: string; data: unknown } | undefined
    if (s.op === "register") {
      const d = decideRegisterModel(state, s.model)
      if (d.ok) data = d.events[0]
    } else if (s.op === "delete") {
      const d = decideDeleteModel(state, s.model)
      if (d.ok) data = d.events[0]
    } else if (state !== undefined) {
      data = { type: "ModelVersionCreated", data: { version: state.versions.size + 1, runId: "r", artifactPath: "model" } }
    }
    if (data === undefined) continue
    const version = (versions.get(stream) ?? 0) + 1
    versions.set(stream, version)
    const e = { id: `e${i}`, at: 1000 + i, stream, version, ...data } as unknown as Event
    events.push(e)
    states.set(s.model, evolveModel(state, e))
  }
  return events
}

const steps = fc.array(fc.record({ model: fc.constantFrom("a" as const, "b" as const), op: fc.constantFrom("register" as const, "version" as const, "delete" as const) }), { maxLength: 30 })

describe("ModelDeleted", () => {
  it("the log's projection and each model's own fold agree: a model shows iff registered since its last delete, with the versions made since", () => {
    fc.assert(
      fc.property(steps, (list) => {
        const log = logOf(list)
        const projection = new LogProjection()
        for (const [i, e] of log.entries()) projection.apply({ ...e, position: i + 1 })
        for (const name of ["a", "b"]) {
          const own = log.filter((e) => e.stream === modelStream(name))
          let folded: ModelState | undefined
          for (const e of own) folded = evolveModel(folded, e)
          const lastRegistered = own.map((e) => e.type).lastIndexOf("ModelRegistered")
          const lastDeleted = own.map((e) => e.type).lastIndexOf("ModelDeleted")
          const alive = lastRegistered > lastDeleted
          expect(folded !== undefined).toBe(alive)
          expect(projection.models.has(name)).toBe(alive)
          if (alive) {
            const made = own.slice(lastRegistered).filter((e) => e.type === "ModelVersionCreated").length
            expect(toModelView(projection.models.get(name)!)).toEqual(toModelView(folded!))
            expect(folded!.versions.size).toBe(made)
          }
        }
        expect(projection.listModels().map((m) => m.name)).toEqual(["a", "b"].filter((n) => projection.models.has(n)))
      })
    )
  })

  it("deleting a model that is not registered, or already deleted, is refused as not found", () => {
    const refused = decideDeleteModel(undefined, "m")
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error).toMatchObject({ _tag: "NotFound", message: expect.stringContaining('No registered model "m"') })
    const log = logOf([{ model: "a", op: "register" }, { model: "a", op: "delete" }, { model: "a", op: "delete" }])
    expect(log.map((e) => e.type)).toEqual(["ModelRegistered", "ModelDeleted"])
  })
})
