/**
 * The run handle in a real training process on the directory store: a bad un-awaited call never
 * kills the process nor costs the good calls around it.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { openTracker } from "../packages/cli/src/index.ts"

const script = join(import.meta.dirname, "fixtures", "handle-script.ts")
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const runScript = (scenario: string) =>
  new Promise<{ dir: string; code: number | null; signal: NodeJS.Signals | null; lines: Array<Record<string, unknown>>; stderr: string }>((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "runledger-handle-"))
    dirs.push(dir)
    const child = spawn(process.execPath, [script, dir, scenario], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      const lines = out.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>)
      resolve({ dir, code, signal, lines, stderr })
    })
  })

describe("run handle in a process", () => {
  it("un-awaited logMetric calls with a NaN step: the process lives on, the good points are durable, the run ends FAILED", async () => {
    const { dir, code, lines, stderr } = await runScript("bad-unawaited-metric")
    expect(stderr).toBe("")
    expect(code).toBe(0)
    const runId = lines[0].run as string
    expect(lines.slice(1)).toEqual([{ survived: true }, { rejected: "InvalidInput" }])
    const t = await openTracker({ dir })
    const view = await t.getRun(runId)
    expect(view.status).toBe("FAILED")
    expect(view.error?.message).toMatch(/step of metric "x" is NaN/)
    expect(view.params.after).toBe(1)
    expect((await t.metricHistory(runId, "x")).map((p) => p.value)).toEqual([...Array(1000).keys()])
    await t.close()
  })
})
