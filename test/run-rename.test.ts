/**
 * Setting the tag `mlflow.runName` renames the run, as in MLflow: in the tracker's own folds and in
 * the DuckDB read model (so `attributes.run_name` and `tags.mlflow.runName` filters find the new name).
 */
import { expect, it } from "vitest"
import { freshRoot } from "../packages/cli/test/harness.ts"
import { openTracker } from "../packages/cli/src/index.ts"


it("setTag('mlflow.runName', 'new') renames the run in getRun, searchRuns and sql, also after a rebuild", async () => {
  const dir = freshRoot()
  const t = await openTracker({ dir })
  const run = await t.startRun({ experiment: "e", name: "old" })
  const other = await t.startRun({ experiment: "e", name: "other" })
  // The read model has seen the old name before the rename: the rename must update it.
  expect((await t.searchRuns({ filter: "attributes.run_name = 'old'" })).runs.map((r) => r.id)).toEqual([run.id])
  await run.setTag("mlflow.runName", "new")
  expect(run.name).toBe("new")
  const view = await t.getRun(run.id)
  expect([view.name, view.tags["mlflow.runName"]]).toEqual(["new", "new"])
  const search = async (filter: string) => (await t.searchRuns({ filter })).runs.map((r) => r.id)
  const check = async () => {
    expect(await search("attributes.run_name = 'new'")).toEqual([run.id])
    expect(await search("tags.mlflow.runName = 'new'")).toEqual([run.id])
    expect(await search("attributes.run_name = 'old'")).toEqual([])
    expect(await t.sql("SELECT run_name FROM runs ORDER BY run_name")).toEqual([{ run_name: "new" }, { run_name: "other" }])
  }
  await check()
  await t.rebuildReadModel()
  await check()
  // The same name again is a tag write only; a blank name is refused with nothing appended.
  const before = (await t.streamEvents(`run-${run.id}`)).length
  await run.setTag("mlflow.runName", "new")
  expect((await t.streamEvents(`run-${run.id}`)).slice(before).map((e) => e.type)).toEqual(["TagsSet"])
  await expect(run.setTag("mlflow.runName", " ")).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/run name must not be empty/) })
  expect((await t.streamEvents(`run-${run.id}`)).length).toBe(before + 1)
  await run.end()
  await other.end()
  await t.close()
})
