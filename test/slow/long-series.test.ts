/**
 * A long series through every read path of the CLI: one metric of 1,000,000 points, read by
 * `show` (sparkline, point count), `history` (table and --json) and `sql`. A spread of a large
 * array into a call (`Math.min(...values)`, `push(...rows)`) overflowed the stack at ~200,000 points
 * and every one of these exited 2 with "Maximum call stack size exceeded".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { openTracker } from "../../packages/cli/src/index.ts"
import { BIN } from "../../packages/cli/test/harness.ts"

const POINTS = 1_000_000

/** `runledger ...args`, with room for a big output (and a slow, shared machine). */
const runCli = (args: ReadonlyArray<string>): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmpdir(), stdio: ["ignore", "pipe", "pipe"] })
    const out: Buffer[] = []
    let stderr = ""
    child.stdout.on("data", (b: Buffer) => out.push(b))
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    child.on("error", reject)
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(out).toString("utf8"), stderr }))
  })

describe(`a metric of ${POINTS.toLocaleString("en-US")} points`, () => {
  let dir: string
  let runId: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "runledger-long-series-"))
    const tracker = await openTracker({ dir })
    try {
      const run = await tracker.startRun({ experiment: "long", name: "long" })
      runId = run.id
      for (let from = 0; from < POINTS; from += 50_000) {
        const metrics = []
        for (let step = from; step < from + 50_000; step++) metrics.push({ key: "loss", value: 1 / (step + 1), step, timestamp: 1_700_000_000_000 + step })
        await run.logBatch({ metrics })
      }
      await run.end()
    } finally {
      await tracker.close()
    }
  })

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it("show prints the run with the point count and a sparkline", async () => {
    const r = await runCli(["show", "long", "--dir", dir])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^\\s+loss\\s+1\\.0000e-6\\s+${POINTS - 1}\\s+${POINTS}\\s+[▁▂▃▄▅▆▇█]{24}$`, "m"))
  })

  it("history prints every point, as a table and as --json", async () => {
    const [table, json] = [await runCli(["history", runId, "loss", "--dir", dir]), await runCli(["history", runId, "loss", "--json", "--dir", dir])]
    for (const r of [table, json]) {
      expect(r.stderr).toBe("")
      expect(r.status).toBe(0)
    }
    const rows = table.stdout.trimEnd().split("\n")
    expect(rows).toHaveLength(POINTS + 1)
    expect(rows[0].trim()).toMatch(/^STEP\s+VALUE\s+TIME$/)
    expect(rows[POINTS].trim().split(/\s+/).slice(0, 2)).toEqual([String(POINTS - 1), "1.0000e-6"])
    const points = (JSON.parse(json.stdout) as { points: Array<{ step: number; value: number }> }).points
    expect(points).toHaveLength(POINTS)
    expect(points[POINTS - 1]).toMatchObject({ step: POINTS - 1, value: 1 / POINTS })
  })

  it("sql selects every point: --json streams all of them, a table shows the first --max-rows with a note", async () => {
    const query = "SELECT step, value FROM metrics ORDER BY step"
    const json = await runCli(["sql", query, "--json", "--dir", dir])
    expect(json.stderr).not.toContain("call stack")
    expect(json.status, json.stderr).toBe(0)
    const rows = JSON.parse(json.stdout) as Array<{ step: number; value: number }>
    expect(rows).toHaveLength(POINTS)
    expect(rows[POINTS - 1]).toEqual({ step: POINTS - 1, value: 1 / POINTS })
    const table = await runCli(["sql", query, "--dir", dir])
    expect(table.status, table.stderr).toBe(0)
    expect(table.stdout.trimStart().startsWith("step")).toBe(true)
    expect(table.stdout).toContain("(the first 1,000 rows; the query has more")
  })
})
