/** getRun resolves a run as the CLI does (full id, unique 4+ character prefix, unique name), and reads never append. */
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Liveness } from "../../core/src/index.ts"
import { memoryClient } from "./memory-client.ts"

describe("getRun", () => {
  it("takes a full id, a unique id prefix of 4+ characters, or a unique name", async () => {
    const { tracker } = await memoryClient()
    const baseline = await tracker.startRun({ experiment: "e", name: "baseline" })
    await baseline.end()
    const other = await tracker.startRun({ experiment: "e", name: "other" })
    expect((await tracker.getRun("baseline")).id).toBe(baseline.id)
    expect((await tracker.getRun(baseline.id)).name).toBe("baseline")
    const prefix = [...Array(baseline.id.length).keys()].map((n) => baseline.id.slice(0, n)).find((p) => p.length >= 4 && !other.id.startsWith(p))!
    expect((await tracker.getRun(prefix)).id).toBe(baseline.id)
    await expect(tracker.getRun("nope")).rejects.toMatchObject({ _tag: "NotFound", message: 'No run with id, id prefix or name "nope". List runs with `runledger runs`.' })
    // A prefix shorter than 4 characters is never a prefix.
    await expect(tracker.getRun(baseline.id.slice(0, 3))).rejects.toMatchObject({ _tag: "NotFound" })
  })

  it("an ambiguous name is refused, naming the runs it matches", async () => {
    const { tracker } = await memoryClient()
    const a = await tracker.startRun({ experiment: "e", name: "twin" })
    const b = await tracker.startRun({ experiment: "e", name: "twin" })
    const failed = await tracker.getRun("twin").then(() => null, (e: unknown) => e as { _tag: string; message: string })
    expect(failed?._tag).toBe("InvalidInput")
    expect(failed?.message).toContain('"twin" matches 2 runs (')
    expect(failed?.message).toContain(a.id.slice(0, 12))
    expect(failed?.message).toContain(b.id.slice(0, 12))
    expect(failed?.message).toContain("give more of the id")
    // Its full id still finds each.
    expect((await tracker.getRun(b.id)).id).toBe(b.id)
  })

  it("property: a name resolves exactly when one run has it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom("a", "b", "c", "d"), { minLength: 1, maxLength: 6 }), async (names) => {
        const { tracker } = await memoryClient()
        const ids: string[] = []
        for (const name of names) ids.push((await tracker.startRun({ experiment: "e", name })).id)
        for (const name of new Set(names)) {
          const holders = ids.filter((_, i) => names[i] === name)
          const got = await tracker.getRun(name).then((r) => r.id, (e: { _tag: string }) => e._tag)
          expect(got).toBe(holders.length === 1 ? holders[0] : "InvalidInput")
        }
        await tracker.close()
      }),
      { numRuns: 30 }
    )
  })
})

describe("a run whose process is gone", () => {
  it("reads show it KILLED and append nothing; reapDeadRuns records it", async () => {
    const gone = Liveness.of({ isGone: () => true })
    const { tracker, store } = await memoryClient(undefined, undefined, gone)
    const run = await tracker.startRun({ experiment: "e", name: "crashed" })
    const head = await Effect.runPromise(store.head)
    const view = await tracker.getRun("crashed")
    expect(view.status).toBe("KILLED")
    expect(view.error?.message).toMatch(/exited without ending the run .*not yet recorded in the log/)
    expect((await tracker.listRuns())[0].status).toBe("KILLED")
    expect((await tracker.getRuns([run.id]))[0].status).toBe("KILLED")
    expect(await Effect.runPromise(store.head)).toBe(head)
    // As it was then, the run was RUNNING.
    expect((await tracker.getRun(run.id, { asOf: { position: head } })).status).toBe("RUNNING")
    expect(await Effect.runPromise(tracker.effect.reapDeadRuns)).toEqual([run.id])
    expect(await Effect.runPromise(store.head)).toBe(head + 1)
    const recorded = await tracker.getRun(run.id)
    expect(recorded.status).toBe("KILLED")
    expect(recorded.error?.message).not.toContain("not yet recorded")
  })
})

describe("listExperiments before the log is folded", () => {
  it("property: the experiments stream alone lists what the folded log lists, for every view type", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("create" as const), name: fc.constantFrom("a", "b", "c", "d") }),
      fc.record({ kind: fc.constant("rename" as const), from: fc.constantFrom("a", "b", "c", "d"), to: fc.constantFrom("a", "b", "c", "d", "e") }),
      fc.record({ kind: fc.constant("delete" as const), name: fc.constantFrom("a", "b", "c", "d", "e") }),
      fc.record({ kind: fc.constant("restore" as const), name: fc.constantFrom("a", "b", "c", "d", "e") }),
      fc.record({ kind: fc.constant("tag" as const), name: fc.constantFrom("a", "b", "c", "d", "e"), value: fc.constantFrom("x", "y") })
    )
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const { tracker } = await memoryClient()
        for (const o of ops) {
          // Refusals (a name taken, an experiment missing or already deleted) are part of the sequence.
          const done =
            o.kind === "create" ? tracker.startRun({ experiment: o.name }).then((r) => r.end())
            : o.kind === "rename" ? tracker.renameExperiment(o.from, o.to)
            : o.kind === "delete" ? tracker.deleteExperiment(o.name)
            : o.kind === "restore" ? tracker.restoreExperiment(o.name)
            : tracker.setExperimentTags(o.name, { team: o.value })
          await done.then(() => undefined, () => undefined)
        }
        const views = ["active", "deleted", "all"] as const
        const unfolded = []
        for (const viewType of views) unfolded.push(await tracker.listExperiments({ viewType }))
        await tracker.listRuns({ viewType: "all" }) // folds the log into the projection
        const folded = []
        for (const viewType of views) folded.push(await tracker.listExperiments({ viewType }))
        expect(unfolded).toEqual(folded)
        await tracker.close()
      }),
      { numRuns: 40 }
    )
  })
})
