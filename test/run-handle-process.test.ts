/**
 * The run handle in a real training process on the directory store: a bad un-awaited call never
 * kills the process nor costs the good calls around it.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { freshRoot } from "../packages/cli/test/harness.ts"
import { openTracker } from "../packages/cli/src/index.ts"

const script = join(import.meta.dirname, "fixtures", "handle-script.ts")

/** Run a scenario of the script; with `signal`, send it once the script says it is ready. */
const runScript = (scenario: string, signal?: NodeJS.Signals) =>
  new Promise<{ dir: string; code: number | null; signal: NodeJS.Signals | null; lines: Array<Record<string, unknown>>; stderr: string }>((resolve, reject) => {
    const dir = freshRoot()
    const child = spawn(process.execPath, [script, dir, scenario], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString()
      if (signal !== undefined && out.includes(`{"ready":true}`)) child.kill(signal)
    })
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

/** The run's status, error and points after the script ended (read by a fresh process's tracker). */
const outcome = async (dir: string, runId: string) => {
  const t = await openTracker({ dir })
  const view = await t.getRun(runId)
  const points = (await t.metricHistory(runId, "x")).map((p) => p.value)
  await t.close()
  return { status: view.status, error: view.error?.message, lr: view.params.lr, points }
}
const hundred = [...Array(100).keys()]

describe("runs left open when the process ends", () => {
  it.each([
    ["the script ends without end() or close()", "forget-end", 0, "FINISHED", undefined],
    ["the script ends with process.exitCode = 3", "exit-code", 3, "FAILED", "the process exited with code 3"],
    ["process.exit(0) right after un-awaited calls", "process-exit", 0, "FINISHED", undefined],
    ["process.exit(2) right after un-awaited calls", "process-exit-2", 2, "FAILED", "process.exit(2)"]
  ])("%s: the run ends, every point is written, the exit code is kept", async (_, scenario, exitCode, status, error) => {
    const { dir, code, lines, stderr } = await runScript(scenario as string)
    expect([code, stderr]).toEqual([exitCode, ""])
    expect(await outcome(dir, lines[0].run as string)).toEqual({ status, error, lr: 0.1, points: hundred })
  })

  it.each([
    ["uncaught", "boom at step 100"],
    ["unhandled-rejection", "rejected at step 100"]
  ])("%s error: FAILED with it, every point written, Node still reports it and exits 1", async (scenario, message) => {
    const { dir, code, lines, stderr } = await runScript(scenario)
    expect(code).toBe(1)
    expect(stderr).toContain(message)
    expect(await outcome(dir, lines[0].run as string)).toMatchObject({ status: "FAILED", error: message, points: hundred })
  })

  it.each(["SIGTERM", "SIGINT"] as const)("%s: KILLED, every point written, the process ends by the signal", async (signal) => {
    const { dir, signal: got, lines } = await runScript("signal", signal)
    expect(got).toBe(signal)
    expect(await outcome(dir, lines[0].run as string)).toEqual({ status: "KILLED", error: undefined, lr: 0.1, points: hundred })
  })
})
