/** The largest step and timestamp validation accepts go through the directory store and the DuckDB read model intact. */
import { expect, it } from "vitest"
import { freshRoot } from "../packages/cli/test/harness.ts"
import { openTracker } from "../packages/cli/src/index.ts"
import { MAX_TIMESTAMP_MS } from "../packages/core/src/index.ts"


it("steps up to MAX_SAFE_INTEGER and timestamps 0 ..= 8.64e15 are stored and queried exactly; 1e19 is refused and analytics keep working", async () => {
  const dir = freshRoot()
  const t = await openTracker({ dir })
  const run = await t.startRun({ experiment: "e" })
  await run.logMetric("m", 1, { step: 0, timestamp: 0 })
  await run.logMetric("m", 2, { step: Number.MAX_SAFE_INTEGER, timestamp: MAX_TIMESTAMP_MS })
  await expect(run.logMetric("m", 3, { step: 1, timestamp: 1e19 })).rejects.toMatchObject({ _tag: "InvalidInput" })
  await run.end()
  const rows = await t.sql("SELECT step, timestamp, value FROM metrics ORDER BY step")
  expect(rows.map((r) => [String(r.step), new Date(r.timestamp as string | number | Date).getTime(), r.value])).toEqual([
    ["0", 0, 1],
    [String(Number.MAX_SAFE_INTEGER), MAX_TIMESTAMP_MS, 2]
  ])
  expect((await t.searchRuns({ filter: "metrics.m = 2" })).runs.map((r) => r.id)).toEqual([run.id])
  await t.close()
})
