/**
 * MLflow's Python client, replayed: the exact request bodies MLflow's own tests assert its client
 * sends (fixtures/mlflow-fluent-requests.json, from tests/store/tracking/test_rest_store.py), in
 * the fluent API's order, against a real `runledger server` over a real store.
 */
import { openTracker } from "@runledger/runtime"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mlflow, type Replayed, replay, type ServerProcess, startServerProcess, steps, storeDir } from "./helpers.ts"

const fixture = { steps: steps("mlflow-fluent-requests.json") }

describe("MLflow's fluent client, replayed from MLflow's own test bodies", () => {
  let dir: string
  let server: ServerProcess
  let vars: Record<string, string> = {}
  let replies: ReadonlyArray<Replayed> = []

  beforeAll(async () => {
    dir = storeDir()
    server = await startServerProcess(dir)
    ;({ vars, replies } = await replay(server.url, fixture.steps))
  })

  afterAll(async () => {
    await server?.stop()
  })

  it("answers every request of the sequence with MLflow's status and error code", () => {
    expect(replies.map((r) => ({ call: r.step.call, status: r.status, error_code: r.json.error_code }))).toEqual(
      fixture.steps.map((s) => ({ call: s.call, status: s.expect.status, error_code: s.expect.error_code }))
    )
  })

  it("leaves the run as the accepted requests made it, and nothing of the refused ones", async () => {
    const { json } = await mlflow(server.url, "GET", "runs/get", { run_id: vars.RUN })
    const run = json.run as { info: Record<string, unknown>; data: { metrics: Array<Record<string, unknown>>; params: Array<Record<string, unknown>>; tags: Array<Record<string, unknown>> } }
    expect(run.info).toMatchObject({ run_id: vars.RUN, run_name: "my name", experiment_id: vars.EXP, user_id: "mock user", status: "FINISHED", lifecycle_stage: "active" })
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${vars.EXP}/${vars.RUN}/artifacts`)
    expect(Object.fromEntries(run.data.params.map((p) => [p.key, p.value]))).toEqual({ k1: "v1", p1: "p1val", p2: "p2val" })
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]))
    expect(tags).toMatchObject({ "mlflow.source.name": "rest test", "mlflow.source.type": "LOCAL", "mlflow.user": "mock user", "mlflow.runName": "my name", t1: "t1val", t2: "t2val" })
    // log_inputs' dataset, as MLflow's runs/get returns it.
    expect((json.run as { inputs: unknown }).inputs).toEqual({
      dataset_inputs: [{ tags: [{ key: "k1", value: "v1" }], dataset: { name: "name", digest: "digest", source_type: "st", source: "source" } }]
    })
    // m1 latest is the step-3 point; m2 only from the accepted batch (step 1), never the refused step -1.
    expect(run.data.metrics.sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual([
      { key: "m1", value: 0.87, timestamp: 12345, step: 3 },
      { key: "m2", value: 0.49, timestamp: 12345, step: 1 },
      { key: "m3", value: 0.58, timestamp: 12345, step: 2 }
    ])
  })

  it("pages the metric history: two pages of one point, the second without a token", () => {
    const pages = replies.filter((r) => r.step.endpoint === "metrics/get-history").map((r) => r.json)
    expect(pages).toHaveLength(2)
    expect(pages[0].metrics).toHaveLength(1)
    expect(typeof pages[0].next_page_token).toBe("string")
    expect(pages[1].metrics).toHaveLength(1)
    expect(pages[1].next_page_token).toBeUndefined()
    const steps = [...(pages[0].metrics as Array<{ step: number }>), ...(pages[1].metrics as Array<{ step: number }>)].map((m) => m.step).sort()
    expect(steps).toEqual([0, 3])
  })

  it("finds the run by MLflow's filter and lists, downloads its artifact", async () => {
    const search = replies.find((r) => r.step.call.startsWith("search_runs (SearchRuns on this"))!
    expect((search.json.runs as Array<{ info: { run_id: string } }>).map((r) => r.info.run_id)).toEqual([vars.RUN])
    const list = await mlflow(server.url, "GET", "artifacts/list", { run_id: vars.RUN, path: "model" })
    expect(list.json).toEqual({ root_uri: `mlflow-artifacts:/${vars.EXP}/${vars.RUN}/artifacts`, files: [{ path: "model/weights.txt", is_dir: false, file_size: 12 }] })
    const res = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${vars.EXP}/${vars.RUN}/artifacts/model/weights.txt`)
    expect(await res.text()).toBe("0.1 0.2 0.3\n")
    const proxyList = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts?path=${vars.EXP}/${vars.RUN}/artifacts/model`)
    expect(await proxyList.json()).toEqual({ files: [{ path: "weights.txt", is_dir: false, file_size: 12 }] })
  })

  it("searches experiments by name; Default is MLflow's experiment 0", async () => {
    const r = await mlflow(server.url, "POST", "experiments/search", { filter: "name LIKE 'fluent%'", view_type: "ALL" })
    expect((r.json.experiments as Array<{ name: string; experiment_id: string }>).map((e) => [e.name, e.experiment_id])).toEqual([["fluent-replay", vars.EXP]])
    const zero = await mlflow(server.url, "GET", "experiments/get", { experiment_id: "0" })
    expect((zero.json.experiment as { name: string }).name).toBe("Default")
    const bad = await mlflow(server.url, "POST", "experiments/search", { filter: "params.x = 'y'" })
    expect(bad.json.error_code).toBe("INVALID_PARAMETER_VALUE")
  })

  it("takes runledger's OR, NOT and parentheses in runs/search filters, beyond MLflow's AND", async () => {
    const ids = async (filter: string) => {
      const r = await mlflow(server.url, "POST", "runs/search", { experiment_ids: [vars.EXP], filter, run_view_type: "ALL" })
      expect(r.status).toBe(200)
      return ((r.json.runs ?? []) as Array<{ info: { run_id: string } }>).map((x) => x.info.run_id)
    }
    expect(await ids("params.k1 = 'nope' OR (metrics.m1 > 0.5 AND NOT tags.t2 = 'other')")).toEqual([vars.RUN])
    expect(await ids("NOT (params.k1 = 'v1')")).toEqual([])
    const bad = await mlflow(server.url, "POST", "runs/search", { experiment_ids: [vars.EXP], filter: "metrics.m1 >" })
    expect(bad.status).toBe(400)
    expect(bad.json.error_code).toBe("INVALID_PARAMETER_VALUE")
  })

  it("logs to a FINISHED run as MLflow allows, recording the reopen and the end again in the run's log", async () => {
    const posthoc = await mlflow(server.url, "POST", "runs/log-metric", { run_id: vars.RUN, key: "eval_acc", value: "NaN", timestamp: 20000, step: 0 })
    expect(posthoc).toEqual({ status: 200, json: {} })
    const { json } = await mlflow(server.url, "GET", "runs/get", { run_id: vars.RUN })
    const run = json.run as { info: { status: string }; data: { metrics: Array<{ key: string; value: unknown }> } }
    expect(run.info.status).toBe("FINISHED")
    expect(run.data.metrics.find((m) => m.key === "eval_acc")?.value).toBe("NaN")
    const reopened = await mlflow(server.url, "POST", "runs/update", { run_id: vars.RUN, status: "RUNNING" })
    expect((reopened.json.run_info as { status: string }).status).toBe("RUNNING")
    await server.stop()
    const tracker = await openTracker({ dir })
    try {
      const types = (await tracker.streamEvents(`run-${vars.RUN}`)).map((e) => e.type)
      expect(types.slice(-4)).toEqual(["RunResumed", "MetricsLogged", "RunEnded", "RunResumed"])
    } finally {
      await tracker.close()
    }
  })
})
