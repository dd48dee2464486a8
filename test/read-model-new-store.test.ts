import { existsSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it, vi } from "vitest"
import { freshRoot } from "../packages/cli/test/harness.ts"
import { openTracker } from "../packages/cli/src/index.ts"

describe("analytics on a store that does not exist yet", () => {
  it("answers empty with no notice and creates nothing; after the first write it finds the run", async () => {
    {
      const dir = join(freshRoot(), "store")
      const stderr = vi.spyOn(process.stderr, "write")
      const tracker = await openTracker({ dir })
      try {
        expect((await tracker.searchRuns({})).runs).toEqual([])
        // A ranking asks the read model (a small store's search is answered in memory).
        expect(await tracker.rankRuns({ metric: "loss", goal: "min" })).toEqual([])
        expect(existsSync(dir)).toBe(false)
        expect(stderr.mock.calls.map((c) => String(c[0])).filter((l) => l.includes("read model"))).toEqual([])
        const run = await tracker.startRun({ experiment: "e", name: "first" })
        await run.end()
        expect((await tracker.searchRuns({})).runs.map((r) => r.name)).toEqual(["first"])
        expect(await tracker.sql("SELECT run_name FROM runs")).toEqual([{ run_name: "first" }])
        expect(existsSync(join(dir, "readmodel.duckdb"))).toBe(true)
      } finally {
        stderr.mockRestore()
        await tracker.close()
      }
    }
  })
})
