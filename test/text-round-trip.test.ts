/**
 * Text is stored exactly or refused when logged, never altered:
 * - rare but valid characters (a BOM after the first character, zero-width space, U+FFFD, emoji)
 *   round-trip through the log, a fresh process and the DuckDB read model;
 * - a leading BOM is stored exactly by the log and DuckDB, but DuckDB's Node client drops it from
 *   every string it returns, so it is refused when logged;
 * - a lone UTF-16 surrogate, which no UTF-8 text can hold, is refused when logged.
 */
import { expect, it } from "vitest"
import { freshRoot } from "../packages/cli/test/harness.ts"
import { openTracker } from "../packages/cli/src/index.ts"


const BOM = "\uFEFF"
const rare = `a${BOM}${BOM}b\u200Bc\uFFFDd\u{1F600}`

it("rare characters in tags, params, run and experiment names come back exactly, from the log and from DuckDB", async () => {
  const dir = freshRoot()
  const t = await openTracker({ dir })
  const run = await t.startRun({ experiment: `exp ${rare}`, name: `name ${rare}` })
  await run.setTag("t", rare)
  await run.logParam("p", rare)
  await run.end()
  await t.close()
  // A fresh tracker reads the log from disk.
  const r = await openTracker({ dir })
  const view = await r.getRun(run.id)
  expect([view.name, view.tags.t, view.params.p]).toEqual([`name ${rare}`, rare, rare])
  expect((await r.listExperiments()).map((e) => e.name)).toContain(`exp ${rare}`)
  expect(await r.sql("SELECT run_name FROM runs")).toEqual([{ run_name: `name ${rare}` }])
  expect(await r.sql("SELECT value FROM tags WHERE key = 't'")).toEqual([{ value: rare }])
  expect(await r.sql("SELECT value FROM params")).toEqual([{ value: rare }])
  expect((await r.searchRuns({ filter: `tags.t = '${rare}'` })).runs.map((x) => x.id)).toEqual([run.id])
  await r.close()
})

it("a leading BOM or a lone surrogate in a tag, param, name or artifact path is refused with a clear error, nothing appended", async () => {
  const dir = freshRoot()
  const t = await openTracker({ dir })
  const run = await t.startRun({ experiment: "e" })
  const before = (await t.streamEvents(`run-${run.id}`)).length
  const bom = { _tag: "InvalidInput", message: expect.stringMatching(/starts with a byte-order mark \(U\+FEFF\)/) }
  const lone = (code: string) => ({ _tag: "InvalidInput", message: expect.stringMatching(new RegExp(`lone UTF-16 surrogate \\(U\\+${code} at index \\d+\\)`)) })
  await expect(run.setTag("t", `${BOM}x`)).rejects.toMatchObject(bom)
  await expect(run.logParam("p", `${BOM}x`)).rejects.toMatchObject(bom)
  await expect(run.setTag("t", "cut \uD83D")).rejects.toMatchObject(lone("D83D"))
  await expect(run.setTag("t", "\uDE00 cut")).rejects.toMatchObject(lone("DE00"))
  await expect(run.logParam("p", "x\uDE00\uD83D")).rejects.toMatchObject(lone("DE00"))
  await expect(run.setTag("mlflow.runName", `${BOM}new`)).rejects.toMatchObject(bom)
  await expect(run.logText("x", "a/\uD83D.txt")).rejects.toMatchObject(lone("D83D"))
  await expect(run.setTag(`k\uD83D`, "x")).rejects.toMatchObject({ _tag: "InvalidInput" })
  await expect(t.startRun({ experiment: "e", name: `${BOM}run` })).rejects.toMatchObject(bom)
  await expect(t.startRun({ experiment: `\uD83De`, name: "run" })).rejects.toMatchObject(lone("D83D"))
  await expect(t.startRun({ experiment: "e", tags: { t: "\uDE00" } })).rejects.toMatchObject(lone("DE00"))
  await expect(t.registerModel("m", { description: `${BOM}d` })).rejects.toMatchObject(bom)
  await run.flush()
  expect((await t.streamEvents(`run-${run.id}`)).length).toBe(before)
  expect((await t.listRuns()).length).toBe(1)
  await run.end()
  await t.close()
})
