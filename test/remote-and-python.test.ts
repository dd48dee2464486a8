/**
 * The "done when": an MLflow-style Python script (standard library only) and a TypeScript
 * script on the remote client both log to one server (with a token), and `runledger runs --uri`
 * lists both runs.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { afterAll, expect, it } from "vitest"
import { openTracker } from "@runledger/runtime"
import { cli, freshRoot } from "../packages/cli/test/harness.ts"
import { type ServerProcess, startServerProcess } from "../packages/server/test/helpers.ts"

let server: ServerProcess | undefined
afterAll(async () => {
  await server?.stop()
})

const python = (script: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn("python3", [script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    child.on("error", reject)
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })

it("a Python MLflow-style script and a TypeScript remote client log to one server; runledger runs --uri lists both", async () => {
  const root = freshRoot()
  server = await startServerProcess(join(root, "store"), ["--token", "shared"])
  const py = await python(join(import.meta.dirname, "../packages/server/test/fixtures/mlflow_train.py"), { MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: "shared" })
  expect(py.status, py.stderr).toBe(0)
  const { run_id: pyRun } = JSON.parse(py.stdout) as { run_id: string }

  const tracker = await openTracker({ uri: server.url, token: "shared", spoolDir: join(root, "spool") })
  let tsRun: string
  try {
    tsRun = await tracker.withRun({ experiment: "python-train", name: "ts-run" }, async (run) => {
      for (let step = 0; step < 100; step++) void run.logMetric("loss", 1 / (step + 1), { step })
      await run.logParam("lr", 0.01)
      return run.id
    })
  } finally {
    await tracker.close()
  }

  const listed = await cli(["runs", "--uri", server.url, "--experiment", "python-train", "--json"], { env: { RUNLEDGER_TOKEN: "shared", HOME: root } })
  expect(listed.status, listed.stderr).toBe(0)
  const runs = (JSON.parse(listed.stdout) as { runs: Array<{ id: string; name: string; status: string }> }).runs
  expect(runs.map((r) => [r.id, r.name, r.status]).sort()).toEqual([[pyRun, "py-run", "FINISHED"], [tsRun, "ts-run", "FINISHED"]].sort())
  const refused = await cli(["runs", "--uri", server.url], { env: { HOME: root } })
  expect(refused.status).not.toBe(0)
  expect(refused.stderr).toContain("token")
})
