/** SIGKILL a writer at random moments: on reopen, every acknowledged event is there. */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { verifyStore } from "../packages/store-fs/src/index.ts"
import { openTracker } from "../packages/cli/src/index.ts"

const writer = join(import.meta.dirname, "fixtures", "crash-writer.ts")
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** Run the writer until `killAfterAcks` acknowledgements, then SIGKILL it; return what it acknowledged. */
const runAndKill = (dir: string, killAfterAcks: number) =>
  new Promise<{ runId: string; acked: number[]; bursts: number[] }>((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir], { stdio: ["ignore", "pipe", "inherit"] })
    let runId = ""
    const acked: number[] = []
    const bursts: number[] = []
    let buffered = ""
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split("\n")
      buffered = lines.pop()!
      for (const line of lines) {
        const [what, value] = line.split(" ")
        if (what === "run") runId = value
        if (what === "ack") acked.push(Number(value))
        if (what === "burst") bursts.push(Number(value))
      }
      if (acked.length >= killAfterAcks) child.kill("SIGKILL")
    })
    child.on("error", reject)
    child.on("exit", (_code, signal) => {
      clearTimeout(timer)
      if (signal !== "SIGKILL") reject(new Error(`writer exited on its own (${signal})`))
      else resolve({ runId, acked, bursts })
    })
  })

describe("crash", () => {
  it.each([5, 37, 120])("a writer killed after %i acknowledgements loses nothing it acknowledged", async (n) => {
    const dir = mkdtempSync(join(tmpdir(), "runledger-crash-"))
    dirs.push(dir)
    const { runId, acked, bursts } = await runAndKill(dir, n)
    expect(acked.length).toBeGreaterThanOrEqual(n)
    const tracker = await openTracker({ dir, onRecover: () => {} })
    try {
      const steps = new Set((await tracker.metricHistory(runId, "m")).map((p) => p.step))
      for (const step of acked) expect(steps.has(step), `acknowledged step ${step} is missing`).toBe(true)
      const burstSteps = new Set((await tracker.metricHistory(runId, "burst")).map((p) => p.step))
      for (const b of bursts) for (let k = 0; k < 100; k++) expect(burstSteps.has(b * 100 + k)).toBe(true)
      // Its process is gone, so the run shows KILLED (not RUNNING forever), saying why.
      const view = await tracker.getRun(runId)
      expect(view.status).toBe("KILLED")
      expect(view.error?.message).toMatch(/exited without ending the run/)
      // The store takes new appends (the first one cuts a torn tail, if the kill left one).
      const run = await tracker.startRun({ experiment: "crash" })
      await run.end()
    } finally {
      await tracker.close()
    }
    const report = await verifyStore(dir)
    expect(report.findings).toEqual([])
  })
})
