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

/** Run a scenario of the script; with `signal`, send it once the script says it is ready. */
const runScript = (scenario: string, signal?: NodeJS.Signals) =>
  new Promise<{ dir: string; code: number | null; signal: NodeJS.Signals | null; lines: Array<Record<string, unknown>>; stderr: string }>((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "runledger-handle-"))
    dirs.push(dir)
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
  it("the script ends without end() or close(): FINISHED, every point written", async () => {
    const { dir, code, lines, stderr } = await runScript("forget-end")
    expect([code, stderr]).toEqual([0, ""])
    expect(await outcome(dir, lines[0].run as string)).toEqual({ status: "FINISHED", error: undefined, lr: 0.1, points: hundred })
  })

  it("the script ends with process.exitCode = 3: FAILED, every point written, exit code kept", async () => {
    const { dir, code, lines } = await runScript("exit-code")
    expect(code).toBe(3)
    expect(await outcome(dir, lines[0].run as string)).toMatchObject({ status: "FAILED", error: "the process exited with code 3", points: hundred })
  })

  it("process.exit(0) right after un-awaited calls: FINISHED, every point written", async () => {
    const { dir, code, lines, stderr } = await runScript("process-exit")
    expect([code, stderr]).toEqual([0, ""])
    expect(await outcome(dir, lines[0].run as string)).toEqual({ status: "FINISHED", error: undefined, lr: 0.1, points: hundred })
  })

  it("process.exit(2): FAILED, every point written, exit code kept", async () => {
    const { dir, code, lines } = await runScript("process-exit-2")
    expect(code).toBe(2)
    expect(await outcome(dir, lines[0].run as string)).toMatchObject({ status: "FAILED", error: "process.exit(2)", points: hundred })
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
