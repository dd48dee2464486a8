/**
 * The server process's life: concurrent clients lose nothing, and SIGTERM lets a request in flight
 * finish (an upload still streaming), flushes, and exits 0, with everything acknowledged in the store.
 */
import { afterAll, describe, expect, it } from "vitest"
import { mlflow, type ServerProcess, startServerProcess, storeDir } from "./helpers.ts"

const CLIENTS = 20
const BATCHES = 5
const POINTS = 100

const createRun = async (url: string, experimentId: string, name: string): Promise<string> => {
  const r = await mlflow(url, "POST", "runs/create", { experiment_id: experimentId, run_name: name })
  expect(r.status).toBe(200)
  return (r.json.run as { info: { run_id: string } }).info.run_id
}

const batch = (runId: string, client: number, b: number) => ({
  run_id: runId,
  metrics: Array.from({ length: POINTS }, (_, i) => ({ key: `c${client}`, value: b * POINTS + i, timestamp: 1_700_000_000_000 + i, step: b * POINTS + i })),
  params: [{ key: `p${client}`, value: String(client) }]
})

describe("the server process", () => {
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const s of servers) await s.stop()
  })

  it("serves concurrent clients, on their own runs and on one shared run, losing nothing", async () => {
    const server = await startServerProcess(storeDir())
    servers.push(server)
    const shared = await createRun(server.url, "0", "shared")
    const own = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => createRun(server.url, "0", `client-${c}`)))
    const statuses = await Promise.all(own.map(async (runId, c) => {
      const out: number[] = []
      for (let b = 0; b < BATCHES; b++) {
        out.push((await mlflow(server.url, "POST", "runs/log-batch", batch(runId, c, b))).status)
        out.push((await mlflow(server.url, "POST", "runs/log-batch", batch(shared, c, b))).status)
      }
      return out
    }))
    expect(statuses.flat().filter((s) => s !== 200)).toEqual([])
    for (const [c, runId] of own.entries()) {
      const h = await mlflow(server.url, "GET", "metrics/get-history", { run_id: runId, metric_key: `c${c}` })
      expect((h.json.metrics as unknown[]).length).toBe(BATCHES * POINTS)
    }
    const { json } = await mlflow(server.url, "GET", "runs/get", { run_id: shared })
    const data = (json.run as { data: { metrics: unknown[]; params: unknown[] } }).data
    expect(data.metrics).toHaveLength(CLIENTS)
    expect(data.params).toHaveLength(CLIENTS)
    for (let c = 0; c < CLIENTS; c++) {
      const h = await mlflow(server.url, "GET", "metrics/get-history", { run_id: shared, metric_key: `c${c}` })
      expect((h.json.metrics as Array<{ step: number }>).map((m) => m.step)).toEqual(Array.from({ length: BATCHES * POINTS }, (_, i) => i))
    }
  })

  it("on SIGTERM, finishes the upload in flight, exits 0, and the store has it", async () => {
    const dir = storeDir()
    const server = await startServerProcess(dir)
    servers.push(server)
    const runId = await createRun(server.url, "0", "drained")
    const { json } = await mlflow(server.url, "GET", "runs/get", { run_id: runId })
    const artifactUri = (json.run as { info: { artifact_uri: string } }).info.artifact_uri
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    const parts = ["first half, ", "second half\n"]
    let sent = 0
    let firstSent!: () => void
    const firstIsOut = new Promise<void>((r) => (firstSent = r))
    const upload = fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${artifactUri.slice("mlflow-artifacts:/".length)}/notes.txt`, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: new ReadableStream({
        async pull(controller) {
          if (sent === 1) {
            firstSent()
            await released
          }
          if (sent === parts.length) controller.close()
          else controller.enqueue(new TextEncoder().encode(parts[sent++]))
        }
      }),
      duplex: "half"
    } as RequestInit)
    await firstIsOut
    // Let the request's headers and first bytes reach the server before the signal.
    await new Promise((r) => setTimeout(r, 300))
    const exited = server.stop()
    await new Promise((r) => setTimeout(r, 200))
    release()
    const res = await upload.catch((e: unknown) => {
      throw new Error(`upload failed: ${String(e)}; server stderr: ${server.stderr()}`)
    })
    expect(res.status).toBe(200)
    expect(await exited).toEqual({ status: 0, signal: null })

    const again = await startServerProcess(dir)
    servers.push(again)
    const back = await fetch(`${again.url}/api/2.0/mlflow-artifacts/artifacts/${artifactUri.slice("mlflow-artifacts:/".length)}/notes.txt`)
    expect(await back.text()).toBe("first half, second half\n")
  })
})

describe("metrics/get-history-bulk-interval", () => {
  let server: ServerProcess | undefined
  afterAll(async () => {
    await server?.stop()
  })

  it("gives each run's metric downsampled to at most max_results points, its last point included", async () => {
    server = await startServerProcess(storeDir())
    const runs = [await createRun(server.url, "0", "a"), await createRun(server.url, "0", "b")]
    for (const [r, runId] of runs.entries()) {
      for (let b = 0; b < 3; b++) {
        const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: "loss", value: r === 1 && i === 999 && b === 2 ? "NaN" : 1 / (b * 1000 + i + 1), timestamp: 1_700_000_000_000, step: b * 1000 + i }))
        expect((await mlflow(server.url, "POST", "runs/log-batch", { run_id: runId, metrics })).status).toBe(200)
      }
    }
    const reply = await mlflow(server.url, "GET", "metrics/get-history-bulk-interval", { run_ids: runs, metric_key: "loss", max_results: 50 })
    expect(reply.status).toBe(200)
    const points = reply.json.metrics as Array<{ key: string; value: number | string; step: number; run_id: string }>
    for (const [r, runId] of runs.entries()) {
      const mine = points.filter((p) => p.run_id === runId)
      expect(mine.length).toBeGreaterThan(1)
      expect(mine.length).toBeLessThanOrEqual(50)
      expect(mine.map((p) => p.step)).toEqual([...mine.map((p) => p.step)].sort((x, y) => x - y))
      expect(mine[mine.length - 1].step).toBe(2999)
      expect(mine[mine.length - 1].value).toBe(r === 1 ? "NaN" : 1 / 3000)
    }
    // A step range: every point inside it, the range's last step included.
    const ranged = await mlflow(server.url, "GET", "metrics/get-history-bulk-interval", { run_ids: runs, metric_key: "loss", start_step: 10, end_step: 1500, max_results: 50 })
    expect(ranged.status).toBe(200)
    for (const runId of runs) {
      const mine = (ranged.json.metrics as Array<{ step: number; run_id: string }>).filter((p) => p.run_id === runId)
      expect(mine.length).toBeGreaterThan(1)
      expect(mine.length).toBeLessThanOrEqual(50)
      expect(mine.every((p) => p.step >= 10 && p.step <= 1500)).toBe(true)
      expect(mine[mine.length - 1].step).toBe(1500)
    }
    const backwards = await mlflow(server.url, "GET", "metrics/get-history-bulk-interval", { run_ids: runs, metric_key: "loss", start_step: 20, end_step: 10 })
    expect(backwards.status).toBe(400)
    expect(backwards.json.error_code).toBe("INVALID_PARAMETER_VALUE")
  })
})

describe("runs/log-batch reads MLflow's JSON forms", () => {
  let server: ServerProcess | undefined
  afterAll(async () => {
    await server?.stop()
  })

  it("metrics already typed and metrics in MLflow's other forms (a NaN or Infinity as a string, int64 strings, no step) are stored alike, as MLflow reads them", async () => {
    const s = (server = await startServerProcess(storeDir()))
    const runId = await createRun(s.url, "0", "forms")
    const metrics = [
      { key: "m", value: 0.5, timestamp: 1_700_000_000_000, step: 3 },
      { key: "m", value: "NaN", timestamp: 1_700_000_000_001, step: 4 },
      { key: "m", value: "Infinity", timestamp: "1700000000002", step: "5" },
      { key: "m", value: -2, timestamp: 1_700_000_000_003, step: 6, extra: "ignored" },
      { key: "unstepped", value: -1.25, timestamp: 1_700_000_000_004 }
    ]
    expect((await mlflow(s.url, "POST", "runs/log-batch", { run_id: runId, metrics })).status).toBe(200)
    const history = async (key: string) =>
      ((await mlflow(s.url, "GET", "metrics/get-history", { run_id: runId, metric_key: key })).json.metrics as Array<{ value: unknown; timestamp: unknown; step: unknown }>)
        .map(({ value, timestamp, step }) => ({ value, timestamp, step }))
    expect(await history("m")).toEqual([
      { value: 0.5, timestamp: 1_700_000_000_000, step: 3 },
      { value: "NaN", timestamp: 1_700_000_000_001, step: 4 },
      { value: "Infinity", timestamp: 1_700_000_000_002, step: 5 },
      { value: -2, timestamp: 1_700_000_000_003, step: 6 }
    ])
    expect(await history("unstepped")).toEqual([{ value: -1.25, timestamp: 1_700_000_000_004, step: 0 }])
  })
})
