/**
 * Runs the server starts are nobody's: MLflow's clients never say they are gone, so a run they
 * start is never judged dead, and least of all by the pid of the server that served it. A server
 * restart leaves a RUNNING run RUNNING, in MLflow's view, in the CLI's, and for `repair`.
 */
import { afterAll, describe, expect, it } from "vitest"
import { parseListing } from "../../cli/test/formats.ts"
import { cli, mlflow, type ServerProcess, startServerProcess, storeDir } from "./helpers.ts"

describe("a server restart", () => {
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const s of servers) await s.stop()
  })

  it("leaves the runs it started RUNNING, and repair reaps none of them", async () => {
    const dir = storeDir()
    const first = await startServerProcess(dir)
    servers.push(first)
    const created = await mlflow(first.url, "POST", "runs/create", { experiment_id: "0", run_name: "survivor" })
    expect(created.status).toBe(200)
    const runId = (created.json.run as { info: { run_id: string } }).info.run_id
    expect((await mlflow(first.url, "POST", "runs/log-metric", { run_id: runId, key: "loss", value: 0.5, timestamp: 1_700_000_000_000, step: 0 })).status).toBe(200)
    expect(await first.stop()).toEqual({ status: 0, signal: null })

    const second = await startServerProcess(dir)
    servers.push(second)
    const got = await mlflow(second.url, "GET", "runs/get", { run_id: runId })
    expect(got.status).toBe(200)
    expect((got.json.run as { info: { status: string } }).info.status).toBe("RUNNING")
    // The run takes writes after the restart as before it.
    expect((await mlflow(second.url, "POST", "runs/log-metric", { run_id: runId, key: "loss", value: 0.25, timestamp: 1_700_000_000_001, step: 1 })).status).toBe(200)
    expect(await second.stop()).toEqual({ status: 0, signal: null })

    const listed = await cli(["runs", "--dir", dir, "--json"])
    expect(listed.status, listed.stderr).toBe(0)
    const runs = parseListing<{ id: string; status: string }>(listed.stdout, "runs")
    expect(runs.find((r) => r.id === runId)?.status).toBe("RUNNING")

    const repaired = await cli(["repair", "--dir", dir, "--json"])
    expect(repaired.status, repaired.stderr).toBe(0)
    expect((JSON.parse(repaired.stdout) as { killedRuns: string[] }).killedRuns).toEqual([])
    const after = parseListing<{ id: string; status: string }>((await cli(["runs", "--dir", dir, "--json"])).stdout, "runs")
    expect(after.find((r) => r.id === runId)?.status).toBe("RUNNING")
  })
})
