/**
 * A Python training script, standard library only, sending what MLflow's client sends, run as a
 * child process against a real server (with a token); then `runledger runs` shows what it logged.
 */
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cli, python, type ServerProcess, startServerProcess, storeDir } from "./helpers.ts"

describe("an MLflow-style Python training script", () => {
  let server: ServerProcess | undefined
  afterAll(async () => {
    await server?.stop()
  })

  it("logs through the server unchanged, and `runledger runs` shows its run", async () => {
    const dir = storeDir()
    server = await startServerProcess(dir, ["--token", "py-token"])
    const result = await python(join(import.meta.dirname, "fixtures/mlflow_train.py"), { MLFLOW_TRACKING_URI: server.url, MLFLOW_TRACKING_TOKEN: "py-token" })
    expect(result.stderr).toBe("")
    expect(result.status).toBe(0)
    const { run_id } = JSON.parse(result.stdout) as { run_id: string }
    expect(await server.stop()).toEqual({ status: 0, signal: null })
    server = undefined

    const listed = await cli(["runs", "--dir", dir, "--experiment", "python-train", "--json"])
    expect(listed.status).toBe(0)
    const runs = (JSON.parse(listed.stdout) as { runs: Array<Record<string, unknown>> }).runs
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({
      id: run_id,
      name: "py-run",
      status: "FINISHED",
      params: { lr: "0.001", optimizer: "adam", epochs: "5" },
      metrics: { loss: 0.2, accuracy: 0.9, grad_norm: 0.6000000000000001, final_loss: 0.2 },
      tags: { stage: "trained", "mlflow.user": "trainer", "mlflow.source.name": "train.py" }
    })
    const history = await cli(["history", run_id, "grad_norm", "--dir", dir, "--json"])
    expect(history.status).toBe(0)
    expect(history.stdout).toContain("NaN")
  })
})
