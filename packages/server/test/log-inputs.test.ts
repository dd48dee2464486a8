/**
 * MLflow's runs/log-inputs against a real server: the datasets a run used are recorded as
 * InputLogged events and come back in runs/get as MLflow returns them; a finished run takes them
 * through an explicit reopen (as MLflow's post-hoc writes do), a deleted one refuses, and a bad
 * body gets MLflow's error shape with nothing appended.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mlflow, type ServerProcess, startServerProcess, storeDir } from "./helpers.ts"

const dataset = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  digest: "d41d8cd9",
  source_type: "local",
  source: `{"uri": "/data/${name}.csv"}`,
  ...extra
})

describe("runs/log-inputs", () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServerProcess(storeDir())
  })
  afterAll(async () => {
    await server?.stop()
  })

  const createRun = async (name: string): Promise<string> => {
    const r = await mlflow(server.url, "POST", "runs/create", { experiment_id: "0", run_name: name })
    expect(r.status).toBe(200)
    return (r.json.run as { info: { run_id: string } }).info.run_id
  }
  const inputsOf = async (runId: string) => ((await mlflow(server.url, "GET", "runs/get", { run_id: runId })).json.run as { inputs: Record<string, unknown> }).inputs
  const streamTypes = async (runId: string): Promise<string[]> => {
    const text = await (await fetch(`${server.url}/api/runledger/events?stream=run-${runId}`)).text()
    return text.trim().split("\n").map((l) => (JSON.parse(l) as { type: string }).type)
  }

  it("records each dataset with its schema, profile and context tags, in order, and a repeated request adds nothing", async () => {
    const runId = await createRun("with-inputs")
    const body = {
      run_id: runId,
      datasets: [
        { tags: [{ key: "mlflow.data.context", value: "train" }], dataset: dataset("train", { schema: '{"mlflow_colspec": []}', profile: '{"num_rows": 3}' }) },
        { tags: [{ key: "mlflow.data.context", value: "eval" }], dataset: dataset("eval") }
      ]
    }
    expect((await mlflow(server.url, "POST", "runs/log-inputs", body)).status).toBe(200)
    expect((await mlflow(server.url, "POST", "runs/log-inputs", body)).status).toBe(200)
    expect(await inputsOf(runId)).toEqual({
      dataset_inputs: [
        { tags: [{ key: "mlflow.data.context", value: "train" }], dataset: dataset("train", { schema: '{"mlflow_colspec": []}', profile: '{"num_rows": 3}' }) },
        { tags: [{ key: "mlflow.data.context", value: "eval" }], dataset: dataset("eval") }
      ]
    })
    expect((await streamTypes(runId)).filter((t) => t === "InputLogged")).toHaveLength(2)
  })

  it("takes inputs on a finished run through an explicit reopen, and the run stays FINISHED", async () => {
    const runId = await createRun("post-hoc")
    expect((await mlflow(server.url, "POST", "runs/update", { run_id: runId, status: "FINISHED" })).status).toBe(200)
    const r = await mlflow(server.url, "POST", "runs/log-inputs", { run_id: runId, datasets: [{ dataset: dataset("holdout") }] })
    expect(r.status).toBe(200)
    expect(await streamTypes(runId)).toEqual(["RunStarted", "RunEnded", "RunResumed", "InputLogged", "RunEnded"])
    const got = await mlflow(server.url, "GET", "runs/get", { run_id: runId })
    expect((got.json.run as { info: { status: string } }).info.status).toBe("FINISHED")
    expect(await inputsOf(runId)).toEqual({ dataset_inputs: [{ tags: [], dataset: dataset("holdout") }] })
  })

  it("refuses a deleted run, an unknown run and bad bodies with MLflow's codes, appending nothing", async () => {
    const runId = await createRun("refusals")
    expect((await mlflow(server.url, "POST", "runs/delete", { run_id: runId })).status).toBe(200)
    const before = await streamTypes(runId)
    const deleted = await mlflow(server.url, "POST", "runs/log-inputs", { run_id: runId, datasets: [{ dataset: dataset("x") }] })
    expect(deleted.status).toBe(400)
    expect(deleted.json.error_code).toBe("INVALID_PARAMETER_VALUE")
    expect(String(deleted.json.message)).toContain("deleted")
    expect(await streamTypes(runId)).toEqual(before)

    const unknown = await mlflow(server.url, "POST", "runs/log-inputs", { run_id: "0".repeat(32), datasets: [{ dataset: dataset("x") }] })
    expect(unknown.status).toBe(404)
    expect(unknown.json.error_code).toBe("RESOURCE_DOES_NOT_EXIST")

    const live = await createRun("bad-bodies")
    const bad: ReadonlyArray<[Record<string, unknown>, string]> = [
      [{ run_id: live, datasets: [{ dataset: { name: "n", digest: "d", source_type: "local" } }] }, "source"],
      [{ run_id: live, datasets: [{ tags: [] }] }, "dataset"],
      [{ run_id: live, datasets: "x" }, "datasets"],
      [{ run_id: live, datasets: [{ dataset: dataset("ok") }, { dataset: dataset("long", { digest: "f".repeat(37) }) }] }, "digest"],
      [{ run_id: live, datasets: [{ tags: [{ key: "mlflow.data.context", value: "v".repeat(501) }], dataset: dataset("t") }] }, "500"],
      [{ datasets: [{ dataset: dataset("x") }] }, "run_id"]
    ]
    const liveBefore = await streamTypes(live)
    for (const [body, named] of bad) {
      const r = await mlflow(server.url, "POST", "runs/log-inputs", body)
      expect({ status: r.status, code: r.json.error_code }).toEqual({ status: 400, code: "INVALID_PARAMETER_VALUE" })
      expect(String(r.json.message)).toContain(named)
    }
    // The batch with one good and one bad dataset appended neither.
    expect(await streamTypes(live)).toEqual(liveBefore)
    expect(await inputsOf(live)).toEqual({})
  })
})
