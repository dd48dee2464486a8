/**
 * Bad input gets MLflow's error shape and code, and appends nothing: the store's log is the same
 * size after every refused request. A real server process over a real store.
 */
import { existsSync, readdirSync, statSync } from "node:fs"
import { request } from "node:http"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mlflow, type ServerProcess, startServerProcess, storeDir } from "./helpers.ts"

/** A request sent exactly as given (fetch would normalize `..` out of the path before sending). */
const rawRequest = (url: string, method: string, path: string, body = ""): Promise<{ status: number; json: Record<string, unknown> }> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const req = request({ host: hostname, port, method, path, headers: { "content-type": "text/plain", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = ""
      res.setEncoding("utf8").on("data", (s: string) => (text += s))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }))
    })
    req.on("error", reject)
    req.end(body)
  })

describe("bad input: MLflow's error, nothing appended", () => {
  let dir: string
  let server: ServerProcess
  let runId: string
  let experimentId: string
  const logSize = () => statSync(join(dir, "events.log")).size

  beforeAll(async () => {
    dir = storeDir()
    server = await startServerProcess(dir)
    const e = await mlflow(server.url, "POST", "experiments/create", { name: "bad-input" })
    experimentId = e.json.experiment_id as string
    const r = await mlflow(server.url, "POST", "runs/create", { experiment_id: experimentId })
    runId = (r.json.run as { info: { run_id: string } }).info.run_id
    expect((await mlflow(server.url, "POST", "runs/log-parameter", { run_id: runId, key: "lr", value: "0.1" })).status).toBe(200)
  })

  afterAll(async () => {
    await server?.stop()
  })

  /** Send, expect the status and code (and a message matching), and no byte appended to the log. */
  const refused = async (send: () => Promise<{ status: number; json: Record<string, unknown> }>, status: number, code: string, message?: RegExp) => {
    const before = logSize()
    const reply = await send()
    expect(reply.status).toBe(status)
    expect(reply.json.error_code).toBe(code)
    expect(typeof reply.json.message).toBe("string")
    if (message) expect(reply.json.message).toMatch(message)
    expect(logSize()).toBe(before)
  }

  const post = (endpoint: string, body: string, contentType = "application/json") => async () => {
    const res = await fetch(`${server.url}/api/2.0/mlflow/${endpoint}`, { method: "POST", body, headers: { "content-type": contentType } })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }

  it("malformed JSON is MALFORMED_REQUEST", () => refused(post("runs/log-metric", `{"run_id": "${"x"}", "key": `), 400, "MALFORMED_REQUEST", /Malformed JSON/))

  it("a JSON body that is not an object is MALFORMED_REQUEST", () => refused(post("runs/log-metric", "[1, 2]"), 400, "MALFORMED_REQUEST"))

  it("a wrong or missing Content-Type is refused as MLflow's server refuses it", async () => {
    await refused(post("runs/log-metric", "{}", "text/plain"), 400, "INVALID_PARAMETER_VALUE", /Content-Type must be one of \['application\/json'\]/)
    await refused(async () => {
      const { hostname, port } = new URL(server.url)
      return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
        const req = request({ host: hostname, port, method: "POST", path: "/api/2.0/mlflow/runs/log-metric", headers: { "content-length": 2 } }, (res) => {
          let text = ""
          res.setEncoding("utf8").on("data", (s: string) => (text += s))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }))
        })
        req.on("error", reject)
        req.end("{}")
      })
    }, 400, "INVALID_PARAMETER_VALUE", /Content-Type header is missing/)
  })

  it("a missing field names it", async () => {
    await refused(() => mlflow(server.url, "POST", "runs/log-metric", { run_id: runId, value: 1, timestamp: 1 }), 400, "INVALID_PARAMETER_VALUE", /Missing value for required parameter 'key'/)
    await refused(() => mlflow(server.url, "POST", "runs/log-metric", { key: "k", value: 1, timestamp: 1 }), 400, "INVALID_PARAMETER_VALUE", /'run_id'/)
    await refused(() => mlflow(server.url, "POST", "runs/log-metric", { run_id: runId, key: "k", value: "high", timestamp: 1 }), 400, "INVALID_PARAMETER_VALUE", /'value'/)
  })

  it("an unknown run or experiment is RESOURCE_DOES_NOT_EXIST (404)", async () => {
    await refused(() => mlflow(server.url, "POST", "runs/log-metric", { run_id: "0123456789abcdef", key: "k", value: 1, timestamp: 1 }), 404, "RESOURCE_DOES_NOT_EXIST")
    await refused(() => mlflow(server.url, "GET", "runs/get", { run_id: "nope" }), 404, "RESOURCE_DOES_NOT_EXIST")
    await refused(() => mlflow(server.url, "GET", "experiments/get", { experiment_id: "nope" }), 404, "RESOURCE_DOES_NOT_EXIST", /No Experiment with id=nope exists/)
    await refused(() => mlflow(server.url, "POST", "runs/create", { experiment_id: "nope" }), 404, "RESOURCE_DOES_NOT_EXIST")
  })

  it("over-limit batches get MLflow's messages", async () => {
    const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: "m", value: i, timestamp: 1, step: i }))
    await refused(() => mlflow(server.url, "POST", "runs/log-batch", { run_id: runId, metrics }), 400, "INVALID_PARAMETER_VALUE", /at most 1000 metrics\. Got 1001 metrics/)
    const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" }))
    await refused(() => mlflow(server.url, "POST", "runs/log-batch", { run_id: runId, params }), 400, "INVALID_PARAMETER_VALUE", /at most 100 params\. Got 101 params/)
    const tags = Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: "v" }))
    await refused(() => mlflow(server.url, "POST", "runs/log-batch", { run_id: runId, tags }), 400, "INVALID_PARAMETER_VALUE", /at most 100 tags\. Got 101 tags/)
    await refused(() => mlflow(server.url, "POST", "runs/log-batch", { run_id: runId, metrics: [{ key: "k".repeat(251), value: 1, timestamp: 1 }] }), 400, "INVALID_PARAMETER_VALUE", /had length 251, which exceeded length limit of 250/)
    await refused(() => mlflow(server.url, "POST", "runs/log-parameter", { run_id: runId, key: "big", value: "v".repeat(6001) }), 400, "INVALID_PARAMETER_VALUE", /Param value .* had length 6001, which exceeded length limit of 6000/)
    await refused(() => mlflow(server.url, "POST", "runs/set-tag", { run_id: runId, key: "big", value: "v".repeat(8001) }), 400, "INVALID_PARAMETER_VALUE", /Tag value .* had length 8001, which exceeded length limit of 8000/)
  })

  it("a batch with one bad entry appends none of it", async () => {
    await refused(
      () => mlflow(server.url, "POST", "runs/log-batch", { run_id: runId, metrics: [{ key: "ok", value: 1, timestamp: 1, step: 0 }, { key: "bad", value: 1, timestamp: 1, step: -1 }], params: [{ key: "fresh", value: "1" }] }),
      400,
      "INVALID_PARAMETER_VALUE"
    )
    const { json } = await mlflow(server.url, "GET", "runs/get", { run_id: runId })
    const data = (json.run as { data: { metrics: unknown[]; params: Array<{ key: string }> } }).data
    expect(data.metrics).toEqual([])
    expect(data.params.map((p) => p.key)).toEqual(["lr"])
  })

  it("changing a param is refused", () =>
    refused(() => mlflow(server.url, "POST", "runs/log-parameter", { run_id: runId, key: "lr", value: "0.2" }), 400, "INVALID_PARAMETER_VALUE", /immutable/))

  /**
   * A POST whose body is `size` bytes, declared by Content-Length (else chunked), of which only
   * `send` bytes are written before the answer is awaited: the answer that comes is the server's
   * early refusal. A write error after the answer (the server closed mid-body) is expected.
   */
  const partialPost = (size: number | undefined, send: number): Promise<{ status: number; json: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(server.url)
      let answered = false
      const req = request(
        { host: hostname, port, method: "POST", path: "/api/2.0/mlflow/runs/log-metric", headers: { "content-type": "application/json", ...(size !== undefined ? { "content-length": size } : {}) } },
        (res) => {
          answered = true
          let text = ""
          res.setEncoding("utf8").on("data", (x: string) => (text += x))
          res.on("end", () => {
            req.destroy()
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> })
          })
        }
      )
      req.on("error", (e) => {
        if (!answered) reject(e)
      })
      const chunk = Buffer.alloc(64 * 1024, "x")
      let written = 0
      const pump = () => {
        while (written < send && !answered) {
          written += chunk.length
          if (!req.write(chunk)) return void req.once("drain", pump)
        }
      }
      req.write(`{"run_id": "${runId}", "pad": "`)
      pump()
    })

  it("an oversized body is refused early (413): by its Content-Length before it is read, or once 10 MB have come", async () => {
    // Only the headers and the body's first bytes are sent: the answer must come from the Content-Length
    // alone (a client still writing when the server closes would see EPIPE instead of the answer).
    await refused(() => partialPost(11 * 1024 * 1024, 0), 413, "REQUEST_LIMIT_EXCEEDED", /over the limit of 10485760 bytes/)
    await refused(() => partialPost(undefined, 11 * 1024 * 1024), 413, "REQUEST_LIMIT_EXCEEDED")
  })

  it("artifact paths with '..', an absolute path or a NUL are refused before anything is stored; DELETE is refused", async () => {
    const base = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts`
    // A URL's own dot segments are resolved by the URL parser (out of artifacts/ here: not a run's place).
    await refused(() => rawRequest(server.url, "PUT", `${base}/../../x.txt`, "x"), 400, "INVALID_PARAMETER_VALUE", /Invalid artifact location/)
    await refused(() => rawRequest(server.url, "PUT", `${base}/a/%2e%2e/%2e%2e/x.txt`, "x"), 400, "INVALID_PARAMETER_VALUE", /Invalid artifact location/)
    // Encoded slashes survive the URL parser and are decoded here: the '..' segments are then refused.
    await refused(() => rawRequest(server.url, "PUT", `${base}/a%2F..%2F..%2F..%2Fx.txt`, "x"), 400, "INVALID_PARAMETER_VALUE", /'\.\.'/)
    await refused(() => rawRequest(server.url, "PUT", `${base}//etc/passwd`, "x"), 400, "INVALID_PARAMETER_VALUE", /absolute/)
    await refused(() => rawRequest(server.url, "PUT", `${base}/a%00b.txt`, "x"), 400, "INVALID_PARAMETER_VALUE", /NUL/)
    await refused(() => rawRequest(server.url, "GET", `${base}/../../../events.log`), 400, "INVALID_PARAMETER_VALUE")
    await refused(() => rawRequest(server.url, "GET", `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=..%2F..`), 400, "INVALID_PARAMETER_VALUE")
    await refused(() => rawRequest(server.url, "DELETE", `${base}/model.txt`), 403, "PERMISSION_DENIED", /immutable/)
    expect((await rawRequest(server.url, "PUT", `${base}/model.txt`, "v1")).status).toBe(200)
  })

  it("writes to a deleted run are refused", async () => {
    const r = await mlflow(server.url, "POST", "runs/create", { experiment_id: experimentId })
    const id = (r.json.run as { info: { run_id: string } }).info.run_id
    expect((await mlflow(server.url, "POST", "runs/delete", { run_id: id })).status).toBe(200)
    await refused(() => mlflow(server.url, "POST", "runs/log-metric", { run_id: id, key: "k", value: 1, timestamp: 1 }), 400, "INVALID_PARAMETER_VALUE", /deleted/)
    await refused(() => mlflow(server.url, "POST", "runs/update", { run_id: id, status: "RUNNING" }), 400, "INVALID_PARAMETER_VALUE", /deleted/)
    const blobs = () => (existsSync(join(dir, "artifacts")) ? readdirSync(join(dir, "artifacts"), { recursive: true }).length : 0)
    const before = blobs()
    await refused(() => rawRequest(server.url, "PUT", `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${id}/artifacts/late.txt`, "late"), 400, "INVALID_PARAMETER_VALUE", /deleted/)
    expect(blobs()).toBe(before)
  })

  it("an unknown endpoint is ENDPOINT_NOT_FOUND", () => refused(() => mlflow(server.url, "POST", "runs/frobnicate", {}), 404, "ENDPOINT_NOT_FOUND"))
})

describe("the token", () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await startServerProcess(storeDir(), [], { RUNLEDGER_TOKEN: "s3cret" })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("without it, or with a wrong one, every request is 401 UNAUTHENTICATED; with it, served", async () => {
    const none = await mlflow(server.url, "POST", "experiments/search", {})
    expect(none.status).toBe(401)
    expect(none.json.error_code).toBe("UNAUTHENTICATED")
    const wrong = await mlflow(server.url, "POST", "experiments/search", {}, { authorization: "Bearer s3cre" })
    expect(wrong.status).toBe(401)
    expect((await fetch(`${server.url}/health`)).status).toBe(401)
    const right = await mlflow(server.url, "POST", "experiments/search", {}, { authorization: "Bearer s3cret" })
    expect(right.status).toBe(200)
    expect((right.json.experiments as Array<{ name: string; experiment_id: string }>).map((e) => e.name)).toEqual(["Default"])
    const health = await fetch(`${server.url}/health`, { headers: { authorization: "Bearer s3cret" } })
    expect(await health.text()).toBe("OK")
  })
})
