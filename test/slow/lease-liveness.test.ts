/**
 * Liveness of runs held by a lease, with real processes on a directory store: a holder that goes
 * quiet (its process still alive, so no pid check could tell) is shown KILLED once its lease runs
 * out and `runledger repair` records it; a holder whose run handle heartbeats is never reaped.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { cli, freshRoot } from "../../packages/cli/test/harness.ts"
import { openTracker } from "../../packages/cli/src/index.ts"

const script = join(import.meta.dirname, "..", "fixtures", "lease-holder.ts")
const TTL = 3000
const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL")
})

/** Start a holder; resolves with its run id once it has started the run. */
const holder = (dir: string, mode: "quiet" | "heartbeat") =>
  new Promise<{ runId: string; child: ChildProcess }>((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir, mode, String(TTL)], { stdio: ["ignore", "pipe", "pipe"] })
    children.push(child)
    let out = ""
    let err = ""
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString()
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line !== undefined && out.includes("\n")) resolve({ runId: (JSON.parse(line) as { run: string }).run, child })
    })
    child.stderr.on("data", (c: Buffer) => (err += c.toString()))
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`holder ${mode} exited with ${code}: ${err}`)))
  })

const statusOf = async (dir: string, runId: string) => {
  const t = await openTracker({ dir })
  try {
    return await t.getRun(runId)
  } finally {
    await t.close()
  }
}

describe("a run held by a lease", () => {
  it("its quiet holder's run is shown KILLED after the lease and recorded by repair; a heartbeating holder's run is never reaped", async () => {
    const dir = freshRoot()
    const quiet = await holder(dir, "quiet")
    const beating = await holder(dir, "heartbeat")
    // Wait (polling) until the quiet run's lease has run out; its process lives on throughout.
    let view = await statusOf(dir, quiet.runId)
    while (view.status === "RUNNING") {
      await new Promise((r) => setTimeout(r, 250))
      view = await statusOf(dir, quiet.runId)
    }
    expect(quiet.child.exitCode).toBeNull()
    expect(view.status).toBe("KILLED")
    expect(view.error?.message).toMatch(/^no heartbeat for [\d.]+s \(lease of 3s\); not yet recorded in the log/)
    // Two more leases: the heartbeating holder is idle all along.
    await new Promise((r) => setTimeout(r, 2 * TTL))
    expect((await statusOf(dir, beating.runId)).status).toBe("RUNNING")
    const repaired = await cli(["repair", "--dir", dir, "--json"])
    expect(repaired.stderr).toBe("")
    expect(JSON.parse(repaired.stdout).killedRuns).toEqual([quiet.runId])
    const recorded = await statusOf(dir, quiet.runId)
    expect(recorded.status).toBe("KILLED")
    expect(recorded.error?.message).toMatch(/^no heartbeat for [\d.]+s \(lease of 3s\)\.$/)
    const t = await openTracker({ dir })
    const types = (await t.streamEvents(`run-${beating.runId}`)).map((e) => e.type)
    await t.close()
    expect(types[0]).toBe("RunStarted")
    expect(types.length).toBeGreaterThan(2)
    expect(new Set(types.slice(1))).toEqual(new Set(["RunHeartbeat"]))
    expect((await statusOf(dir, beating.runId)).status).toBe("RUNNING")
  }, 60_000)
})
