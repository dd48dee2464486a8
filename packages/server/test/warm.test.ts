/**
 * `warm`: the server loads its read model in the background once listening, so the first search
 * finds it loaded and caught up. Without it (the library's default) nothing is loaded until asked.
 */
import { startServer } from "@runledger/server"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { mlflow, storeDir } from "./helpers.ts"

/** Where a writable store keeps its read model (the runtime's readModelLocation). */
const READ_MODEL_FILE = "readmodel.duckdb"

describe("the server's warm start", () => {
  it("with warm, the read model is built from the log before any search; without, not until one asks", async () => {
    const cold = storeDir()
    const a = await startServer({ dir: cold, port: 0 })
    await a.warmed
    expect(existsSync(join(cold, READ_MODEL_FILE))).toBe(false)
    await a.close()

    const dir = storeDir()
    const b = await startServer({ dir, port: 0, warm: true })
    try {
      await b.warmed
      expect(existsSync(join(dir, READ_MODEL_FILE))).toBe(true)
      // And it answers from it: the Default experiment the server made is there.
      const r = await mlflow(b.url, "POST", "experiments/search", { max_results: 10 })
      expect(r.status).toBe(200)
      expect((r.json.experiments as ReadonlyArray<{ name: string }>).map((e) => e.name)).toContain("Default")
    } finally {
      await b.close()
    }
  })
})
