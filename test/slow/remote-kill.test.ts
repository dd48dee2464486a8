/**
 * The server SIGKILLed under load from several remote clients, then restarted on the same store and
 * port: every point any client logged (acknowledged by the server or durable in its spool) is
 * present exactly once. Concurrent clients lose and duplicate nothing. A remote client that stops
 * heartbeating (SIGKILLed) has its run shown as KILLED once its lease runs out: no pid check.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { expect, it } from "vitest"
import { openTracker, type Run, type Tracker } from "@runledger/runtime"
import { freshRoot, repoRoot } from "../../packages/cli/test/harness.ts"
import { serve } from "./remote-harness.ts"

const POINTS = 3000
const CLIENTS = 4

/** Log steps 0..POINTS-1: mostly un-awaited, every 50th awaited (acknowledged, or durable in the spool). */
const logAll = async (run: Run, killAt: (i: number) => void) => {
  for (let i = 0; i < POINTS; i++) {
    if (i % 50 === 0) await run.logMetric("x", i, { step: i })
    else void run.logMetric("x", i, { step: i })
    killAt(i)
  }
  await run.end()
}

it("SIGKILL of the server under load from concurrent clients, then a restart: every point is present exactly once", async () => {
  const root = freshRoot()
  const store = join(root, "store")
  let server = await serve(store)
  const trackers: Tracker[] = []
  for (let c = 0; c < CLIENTS; c++) trackers.push(await openTracker({ uri: server.url, spoolDir: join(root, `spool-${c}`) }))
  try {
    const runs = await Promise.all(trackers.map((t, c) => t.startRun({ experiment: "kill", name: `client-${c}` })))
    let killed: Promise<void> | undefined
    const port = server.port
    // The first client to pass step 1000 kills the server, and restarts it a little later.
    const killAt = (i: number) => {
      if (i === 1000 && killed === undefined) {
        killed = server.stop("SIGKILL").then(async () => {
          await new Promise((r) => setTimeout(r, 500))
          server = await serve(store, port)
        })
      }
    }
    await Promise.all(runs.map((run) => logAll(run, killAt)))
    await killed
    for (const t of trackers) await t.close()
    const reader = await openTracker({ uri: server.url, spoolDir: join(root, "reader") })
    try {
      for (const run of runs) {
        const history = await reader.metricHistory(run.id, "x")
        expect(history.map((p) => p.step)).toEqual(Array.from({ length: POINTS }, (_, i) => i))
        expect((await reader.getRun(run.id)).status).toBe("FINISHED")
      }
    } finally {
      await reader.close()
    }
  } finally {
    await server.stop()
  }
}, 300_000)

it("a remote client that stops heartbeating has its run shown as KILLED after its lease", async () => {
  const root = freshRoot()
  const server = await serve(join(root, "store"))
  try {
    const script = [
      "const { openTracker } = await import('@runledger/runtime')",
      "const t = await openTracker({ uri: process.argv[1], spoolDir: process.argv[2], leaseMs: 1000 })",
      "const r = await t.startRun({ experiment: 'lease' })",
      "console.log(r.id)",
      "setInterval(() => {}, 1000)"
    ].join(";")
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, server.url, join(root, "spool")], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] })
    const runId = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve))
    const reader = await openTracker({ uri: server.url, spoolDir: join(root, "reader") })
    try {
      // Longer than the lease: the client's heartbeats keep the run RUNNING.
      await new Promise((r) => setTimeout(r, 2500))
      expect((await reader.getRun(runId)).status).toBe("RUNNING")
      child.kill("SIGKILL")
      await new Promise((r) => child.once("exit", r))
      await new Promise((r) => setTimeout(r, 2500))
      expect((await reader.getRun(runId)).status).toBe("KILLED")
    } finally {
      await reader.close()
    }
  } finally {
    await server.stop()
  }
}, 120_000)
