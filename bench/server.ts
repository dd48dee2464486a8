/**
 * Benchmark: the tracking server's log-batch over HTTP, and the HTTP stack it was chosen by.
 *
 * 20 concurrent clients on loopback, each POSTing MLflow's runs/log-batch with 1000 metrics to its
 * own run, every request awaited until the points are durable (fsync). Reported: points/s, and the
 * p50 / p99 latency of one request. Each stack runs in a child process of its own (the load
 * generator here shares the 2 cores, as a real client on the same machine would), on a fresh store.
 *
 * Stacks, all doing the same work per request (read the body, JSON.parse or schema-decode it,
 * the run's writer handle's atomic logBatch, awaited; the server's path for a running run):
 *   - raw: node:http by hand: the ceiling every other figure is a ratio to;
 *   - hono: Hono on @hono/node-server;
 *   - effect: Effect 4's HttpApi (schema-decoded payload) on @effect/platform-node;
 *   - server: the real `@runledger/server` (MLflow mapping, token check, limits).
 * And the issue's ceiling for the server's rate: the same appends in process, without HTTP
 * (`inProcess`), in the same run; target >= 0.5x.
 *
 * Also: the native API's `POST /api/runledger/runs/search` over a store of 100k runs (bench/open.ts's
 * cached store, copied: the server writes its Default experiment and read model), p50 of one warm
 * client, beside the in-process `searchRuns` of the same query on the same store as the ceiling
 * (the same read model answers both; the difference is HTTP, JSON and the Schema encoding).
 *
 * And the native API's metrics/histories for a compare chart of 100 runs x 100k steps, beside the
 * same call in process (`benchHistoriesHttp`).
 *
 * Run: `node bench/server.ts` (or `pnpm bench --only server`). Child mode: `node bench/server.ts --serve STACK DIR`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { Agent, createServer, request } from "node:http"
import { createServer as netServer } from "node:net"
import { createInterface } from "node:readline"
import type { Run } from "../packages/runtime/src/index.ts"
import { cpSync } from "node:fs"
import { join } from "node:path"
import { cachedStore } from "./open.ts"
import { type BenchOptions, median, msRow, nowMs, pairedRatio, type Row, si, timeIt, withTempDir } from "./report.ts"

const CLIENTS = 20
const POINTS_PER_REQUEST = 1000
const PATH = "/api/2.0/mlflow/runs/log-batch"
const STACKS = ["raw", "hono", "effect", "server"] as const
type Stack = (typeof STACKS)[number]

interface Started {
  readonly port: number
  readonly runs: ReadonlyArray<string>
}

// ---------------------------------------------------------------------------
// Child mode: one stack serving one store.

interface WireMetric {
  readonly key: string
  readonly value: number
  readonly timestamp: number
  readonly step: number
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = netServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const address = s.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      s.close(() => resolve(port))
    })
  })

type Work = "append" | "parse"

const serve = async (stack: Stack, dir: string, work: Work): Promise<void> => {
  const { openTracker } = await import("../packages/runtime/src/index.ts")
  const { Effect } = await import("effect")
  const tracker = await openTracker({ dir })
  const handles = new Map<string, Run>()
  for (let i = 0; i < CLIENTS; i++) {
    const run = await tracker.startRun({ experiment: "bench", name: `client-${i}` })
    handles.set(run.id, run)
  }
  const runs = [...handles.keys()]
  /**
   * The same work every stack does once the body is parsed, and the server does for a running run:
   * the run's writer handle's atomic logBatch, awaited until durable (requests to one run arriving
   * together share an append).
   */
  const logBatch = (runId: string, metrics: ReadonlyArray<WireMetric>): Promise<unknown> => {
    // "parse": the stack's own cost alone (no append), so the store's fsyncs do not hide it.
    if (work === "parse") return Promise.resolve(metrics.length)
    return handles.get(runId)!.logBatch({ metrics })
  }
  const ready = (port: number) => process.stdout.write(`${JSON.stringify({ port, runs })}\n`)

  if (stack === "raw") {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on("data", (c: Buffer) => void chunks.push(c))
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { run_id: string; metrics: WireMetric[] }
        logBatch(body.run_id, body.metrics).then(
          () => res.writeHead(200, { "content-type": "application/json" }).end("{}"),
          (e: unknown) => res.writeHead(500).end(String(e))
        )
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const a = server.address()
      ready(typeof a === "object" && a !== null ? a.port : 0)
    })
  } else if (stack === "hono") {
    const { Hono } = await import("hono")
    const { serve: honoServe } = await import("@hono/node-server")
    const app = new Hono()
    app.post(PATH, async (c) => {
      const body = await c.req.json<{ run_id: string; metrics: WireMetric[] }>()
      await logBatch(body.run_id, body.metrics)
      return c.json({})
    })
    honoServe({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => ready(info.port))
  } else if (stack === "effect") {
    const { Layer, Schema } = await import("effect")
    const { HttpRouter } = await import("effect/http")
    const { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } = await import("effect/http-api")
    const { NodeHttpServer } = await import("@effect/platform-node")
    const Metric = Schema.Struct({ key: Schema.String, value: Schema.Number, timestamp: Schema.Number, step: Schema.Number })
    const Api = HttpApi.make("bench").add(
      HttpApiGroup.make("runs").add(
        HttpApiEndpoint.post("logBatch", PATH, { payload: Schema.Struct({ run_id: Schema.String, metrics: Schema.Array(Metric) }), success: Schema.Struct({}) })
      )
    )
    const Handlers = HttpApiBuilder.group(Api, "runs", (handlers) =>
      handlers.handle("logBatch", ({ payload }) => Effect.promise(() => logBatch(payload.run_id, payload.metrics)).pipe(Effect.as({}))))
    const port = await freePort()
    const Routes = HttpApiBuilder.layer(Api).pipe(Layer.provide(Handlers))
    const ServerLayer = HttpRouter.serve(Routes).pipe(Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })))
    void Effect.runPromise(Layer.launch(ServerLayer))
    // Layer.launch has bound the port once its layer is built; a few ms is enough, and the parent retries connects anyway.
    setTimeout(() => ready(port), 200)
  } else {
    const { startServer } = await import("../packages/server/src/index.ts")
    await tracker.close()
    const server = await startServer({ dir, host: "127.0.0.1", port: 0 })
    ready(server.port)
  }
}

// ---------------------------------------------------------------------------
// Parent mode: the load.

const bodyFor = (runId: string): string => {
  const metrics = new Array<WireMetric>(POINTS_PER_REQUEST)
  for (let i = 0; i < POINTS_PER_REQUEST; i++) {
    metrics[i] = { key: `m${i % 10}`, value: Math.random(), timestamp: 1_700_000_000_000 + i, step: Math.floor(i / 10) }
  }
  return JSON.stringify({ run_id: runId, metrics })
}

const post = (agent: Agent, port: number, body: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: PATH, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

const percentile = (sorted: ReadonlyArray<number>, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]

interface Measured {
  readonly pointsPerSecond: number
  readonly p50: number
  readonly p99: number
}

const measure = async (stack: Stack, work: Work, requests: number, log: (line: string) => void): Promise<Measured> =>
  withTempDir(`server-${stack}`, async (dir) => {
    const child: ChildProcess = spawn(process.execPath, [import.meta.filename, "--serve", stack, dir, work], { stdio: ["ignore", "pipe", "inherit"] })
    try {
      const started = await new Promise<Started>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`the ${stack} server exited with ${code} before it was ready`)))
        // Only our line: a stack may log its own (Effect prints "Listening on ...").
        createInterface({ input: child.stdout! }).on("line", (line) => {
          if (line.startsWith('{"port"')) resolve(JSON.parse(line) as Started)
        })
      })
      const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
      const bodies = started.runs.map(bodyFor)
      // Warm-up: every client once.
      await Promise.all(bodies.map((b) => post(agent, started.port, b)))
      const latencies: number[] = []
      let next = 0
      let failed = 0
      const t0 = nowMs()
      await Promise.all(bodies.map(async (body) => {
        while (next < requests) {
          next++
          const s = nowMs()
          const status = await post(agent, started.port, body)
          latencies.push(nowMs() - s)
          if (status !== 200) failed++
        }
      }))
      const seconds = (nowMs() - t0) / 1000
      agent.destroy()
      if (failed > 0) throw new Error(`${failed} of ${requests} requests to the ${stack} server failed`)
      latencies.sort((a, b) => a - b)
      const m = { pointsPerSecond: (requests * POINTS_PER_REQUEST) / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }
      log(`  ${stack} (${work}): ${si(m.pointsPerSecond)} points/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms`)
      return m
    } finally {
      child.kill("SIGTERM")
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)))
    }
  })

/**
 * The ceiling for the server's rate: the same appends in one process, no HTTP. CLIENTS
 * writers at once, each awaiting logBatch of its request's 1000 metrics (parsed from the very
 * body a client sends) into its own run, durable (fsync), on a fresh store. Returns points/s.
 */
const inProcess = (requests: number, log: (line: string) => void): Promise<number> =>
  withTempDir("server-in-process", async (dir) => {
    const { openTracker } = await import("../packages/runtime/src/index.ts")
    const tracker = await openTracker({ dir })
    try {
      const runs: Run[] = []
      for (let i = 0; i < CLIENTS; i++) runs.push(await tracker.startRun({ experiment: "bench", name: `writer-${i}` }))
      const batches = runs.map((r) => (JSON.parse(bodyFor(r.id)) as { metrics: WireMetric[] }).metrics)
      // Warm-up: every writer once, as every client is warmed up against the servers.
      await Promise.all(runs.map((r, i) => r.logBatch({ metrics: batches[i] })))
      let next = 0
      const t0 = nowMs()
      await Promise.all(runs.map(async (r, i) => {
        while (next < requests) {
          next++
          await r.logBatch({ metrics: batches[i] })
        }
      }))
      const pointsPerSecond = (requests * POINTS_PER_REQUEST) / ((nowMs() - t0) / 1000)
      log(`  in process (${CLIENTS} writers, no HTTP): ${si(pointsPerSecond)} points/s`)
      for (const r of runs) await r.end()
      return pointsPerSecond
    } finally {
      await tracker.close()
    }
  })

const WORKS: ReadonlyArray<Work> = ["parse", "append"]

export const benchServer = async (opts: BenchOptions, stacks: ReadonlyArray<Stack> = STACKS): Promise<Row[]> => {
  const requests = opts.quick ? 200 : 1000
  opts.log(`server: log-batch of ${POINTS_PER_REQUEST} metrics, ${CLIENTS} concurrent clients, ${requests} requests per stack`)
  const rows: Row[] = []
  for (const work of WORKS) {
    // The real server always appends: it is measured once, against the append ceiling.
    const here = stacks.filter((s) => work === "append" || s !== "server")
    const samples: Record<Stack, Measured[]> = { raw: [], hono: [], effect: [], server: [] }
    const inProcessRates: number[] = []
    for (let r = 0; r < opts.reps; r++) {
      for (const stack of here) samples[stack].push(await measure(stack, work, requests, opts.log))
      if (work === "append" && here.includes("server")) inProcessRates.push(await inProcess(requests, opts.log))
    }
    if (inProcessRates.length > 0) {
      const pps = samples.server.map((m) => m.pointsPerSecond)
      const ratio = pairedRatio(pps, inProcessRates)
      rows.push({
        name: "server log-batch vs the same appends in process",
        figure: median(pps),
        unit: "points/s",
        ceiling: median(inProcessRates),
        ceilingName: `in process, ${CLIENTS} writers awaiting logBatch(${POINTS_PER_REQUEST}), fsync`,
        ratio,
        target: ">= 0.5x ceiling",
        verdict: ratio >= 0.5 ? "PASS" : "MISS",
        samples: pps,
        ceilingSamples: inProcessRates,
        note: `${CLIENTS} clients, each waiting for its answer before its next request: a request's latency is about ${CLIENTS} / (requests per second), ` +
          `so p50 < 5 ms would take ${si((CLIENTS / 0.005) * POINTS_PER_REQUEST)} points/s.`
      })
    }
    const raw = samples.raw.map((m) => m.pointsPerSecond)
    const rawP50 = median(samples.raw.map((m) => m.p50))
    const rawP99 = median(samples.raw.map((m) => m.p99))
    for (const stack of here) {
      if (stack === "raw") continue
      const pps = samples[stack].map((m) => m.pointsPerSecond)
      const p50 = median(samples[stack].map((m) => m.p50))
      const p99 = median(samples[stack].map((m) => m.p99))
      rows.push({
        name: `server log-batch, ${stack}${work === "parse" ? " (parse only, no append)" : ""}`,
        figure: median(pps),
        unit: "points/s",
        ceiling: median(raw),
        ceilingName: `node:http by hand, ${work === "parse" ? "parse only" : "same append"}`,
        ratio: pairedRatio(pps, raw),
        target: stack === "server" ? "p50 < 5 ms" : "info",
        verdict: stack === "server" ? (p50 < 5 ? "PASS" : "MISS") : "info",
        samples: pps,
        ceilingSamples: raw,
        note: `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (node:http: p50 ${rawP50.toFixed(1)} ms, p99 ${rawP99.toFixed(1)} ms)`
      })
    }
  }
  if (stacks.includes("server")) rows.push(await benchRemoteUnawaited(opts))
  return rows
}

// ---------------------------------------------------------------------------
// The remote client: un-awaited logMetric calls through a real `runledger server` child process.

/** `runledger server --dir DIR --port 0` as a child; its URL once it listens. */
const startRealServer = (dir: string): Promise<{ url: string; stop: () => Promise<void> }> =>
  new Promise((resolve, reject) => {
    const bin = new URL("../packages/cli/src/bin.ts", import.meta.url).pathname
    const child = spawn(process.execPath, [bin, "server", "--dir", dir, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] })
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before it listened`)))
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line)
      if (m !== null) {
        resolve({
          url: m[1],
          stop: () => new Promise((r) => {
            child.removeAllListeners("exit")
            child.once("exit", () => r())
            child.kill("SIGTERM")
          })
        })
      }
    })
  })

/** n un-awaited `logMetric` calls (4 keys) then `await run.flush()`, over `uri`: calls/s, flush included. */
const unawaitedRate = async (uri: { uri: string; spoolDir: string } | { dir: string }, n: number): Promise<number> => {
  const { openTracker } = await import("../packages/runtime/src/index.ts")
  const keys = ["loss", "accuracy", "learning_rate", "grad_norm"]
  const tracker = await openTracker(uri)
  try {
    const run = await tracker.startRun({ experiment: "bench", name: "unawaited" })
    const t0 = nowMs()
    for (let i = 0; i < n; i++) void run.logMetric(keys[i & 3], i / n, { step: i >> 2 })
    await run.flush()
    const ms = nowMs() - t0
    await run.end()
    return n / (ms / 1000)
  } finally {
    await tracker.close()
  }
}

/** Remote un-awaited logMetric (target >= 200k calls/s), beside the same loop in-process on a directory as the ceiling. */
export const benchRemoteUnawaited = (opts: BenchOptions): Promise<Row> =>
  withTempDir("remote-unawaited", async (dir) => {
    const n = opts.quick ? 200_000 : 1_000_000
    opts.log(`server: remote un-awaited logMetric, ${si(n)} calls + flush, against in-process`)
    const server = await startRealServer(join(dir, "served"))
    try {
      const remote: number[] = []
      const local: number[] = []
      // A warm-up of each, not measured.
      await unawaitedRate({ uri: server.url, spoolDir: join(dir, "spool") }, 20_000)
      await unawaitedRate({ dir: join(dir, "local") }, 20_000)
      for (let r = 0; r < opts.reps; r++) {
        remote.push(await unawaitedRate({ uri: server.url, spoolDir: join(dir, "spool") }, n))
        local.push(await unawaitedRate({ dir: join(dir, "local") }, n))
        opts.log(`  rep ${r + 1}: remote ${si(remote[r])} calls/s, in-process ${si(local[r])} calls/s`)
      }
      const figure = median(remote)
      return {
        name: `remote un-awaited logMetric (${si(n)} calls + flush, over HTTP)`,
        figure,
        unit: "calls/s",
        ceiling: median(local),
        ceilingName: "the same loop in-process on a directory",
        ratio: pairedRatio(remote, local),
        target: ">= 200k calls/s",
        verdict: figure >= 200_000 ? "PASS" : "MISS",
        samples: remote,
        ceilingSamples: local
      }
    } finally {
      await server.stop()
    }
  })

/** runs/search through HTTP over a large store, beside the in-process searchRuns of the same query. */
export const benchSearchHttp = async (opts: BenchOptions): Promise<Row[]> => {
  const runs = opts.quick ? 2_000 : 100_000
  const built = await cachedStore(runs, opts.quick ? 10 : 100, opts.log)
  return withTempDir("search-http", async (tmp) => {
    const dir = join(tmp, "store")
    cpSync(built.dir, dir, { recursive: true })
    const { LINGER_MS, openTracker } = await import("../packages/runtime/src/index.ts")
    const { startServer } = await import("../packages/server/src/index.ts")
    // bench/open.ts's runs: 10 experiments, params lr and layers, tags group, four metrics.
    const query = { experiments: ["exp-3"], filter: "params.layers = '2' and tags.group != '0'", orderBy: ["metrics.loss DESC"], maxResults: 100 }
    const reps = opts.quick ? 5 : 20
    opts.log(`server: runs/search over ${si(runs)} runs, in-process then through HTTP (the first call folds the read model)`)
    const tracker = await openTracker({ dir, readModelLingerMs: LINGER_MS })
    let ceiling: number[]
    let found: number
    try {
      found = (await tracker.searchRuns(query)).runs.length
      // Warm means folded too: the reads by id behind each page would fold the log in the background
      // after FOLD_AFTER runs, and the timings would share the CPU with it.
      await tracker.listRuns({ viewType: "all" })
      await timeIt(3, () => tracker.searchRuns(query))
      ceiling = await timeIt(reps, () => tracker.searchRuns(query))
    } finally {
      await tracker.close()
    }
    // As `runledger server` starts: warmed, the read model loaded and the log folded.
    const server = await startServer({ dir, port: 0, warm: true })
    await server.warmed
    try {
      const search = async () => {
        const res = await fetch(`${server.url}/api/runledger/runs/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(query) })
        const body = (await res.json()) as { runs?: unknown[] }
        if (res.status !== 200 || body.runs?.length !== found) throw new Error(`runs/search answered ${res.status} with ${body.runs?.length} runs, in-process ${found}`)
      }
      await timeIt(3, search)
      const ours = await timeIt(reps, search)
      return [msRow(`runs/search through HTTP, ${si(runs)} runs (p50, warm)`, ours, ceiling, "in-process searchRuns, same store", 60, "p50 < 60 ms", `${found} runs a page; `)]
    } finally {
      await server.close()
    }
  })
}

/**
 * The native API's `POST /api/runledger/metrics/histories` for a compare chart: RUNS runs x STEPS
 * steps (logged through the Promise API), downsampled to 1500 buckets each (the UI's one bucket
 * per pixel), p50 of one warm client that also reads the answer, beside the in-process
 * `downsampledHistories` of the same call on the same store as the ceiling: the difference is
 * HTTP and the answer's writing and reading. Two rows: the default JSON answer (its decimals
 * written and parsed), the binary one (Accept: application/vnd.runledger.histories.f64le: doubles,
 * read in place), whose target is 1.5x, and the binary one of the fields a 100-run chart asks for
 * (step, last, timestamp), what the web UI sends.
 */
export const benchHistoriesHttp = async (opts: BenchOptions): Promise<Row[]> => {
  const runs = opts.quick ? 10 : 100
  const steps = opts.quick ? 10_000 : 100_000
  const maxPoints = 1500
  return withTempDir("histories-http", async (dir) => {
    const { HISTORIES_F64, historiesOfF64, LINGER_MS, openTracker } = await import("../packages/runtime/src/index.ts")
    const { startServer } = await import("../packages/server/src/index.ts")
    opts.log(`server: metrics/histories of ${runs} runs x ${si(steps)} steps, in-process then through HTTP (the first call folds the read model)`)
    const tracker = await openTracker({ dir, durability: "os", readModelLingerMs: LINGER_MS })
    const ids: string[] = []
    const reps = opts.quick ? 3 : 10
    let ceiling: number[]
    let buckets: number
    try {
      for (let r = 0; r < runs; r++) {
        const run = await tracker.startRun({ experiment: "long", name: `long-${r}` })
        for (let step = 0; step < steps; step++) run.logMetric("loss", (1 + r / runs) / (1 + step / 1000) + 0.01 * Math.sin(step / 50), { step })
        await run.end()
        ids.push(run.id)
      }
      const call = () => tracker.downsampledHistories(ids, "loss", { maxPoints })
      buckets = (await call()).reduce((n, s) => n + s.buckets.length, 0)
      await timeIt(2, call)
      ceiling = await timeIt(reps, call)
    } finally {
      await tracker.close()
    }
    const server = await startServer({ dir, port: 0, warm: true })
    await server.warmed
    try {
      const body = JSON.stringify({ runIds: ids, key: "loss", maxPoints })
      const sizes = { json: 0, binary: 0, chart: 0 }
      const chartBody = JSON.stringify({ runIds: ids, key: "loss", maxPoints, fields: ["step", "last", "timestamp"] })
      const fetchHistories = (form: "json" | "binary" | "chart") => async () => {
        const res = await fetch(`${server.url}/api/runledger/metrics/histories`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(form === "json" ? {} : { accept: HISTORIES_F64 }) },
          body: form === "chart" ? chartBody : body
        })
        let got: number | undefined
        if (form === "json") {
          const text = await res.text()
          sizes.json = text.length
          got = (JSON.parse(text) as { series?: Array<{ step: unknown[] }> }).series?.reduce((n, s) => n + s.step.length, 0)
        } else {
          const bytes = await res.arrayBuffer()
          sizes[form] = bytes.byteLength
          got = res.status === 200 ? historiesOfF64(bytes).series.reduce((n, s) => n + s.step.length, 0) : undefined
        }
        if (res.status !== 200 || got !== buckets) throw new Error(`metrics/histories (${form}) answered ${res.status} with ${got} buckets, in-process ${buckets}`)
      }
      const forms = ["json", "binary", "chart"] as const
      for (const form of forms) await timeIt(2, fetchHistories(form))
      // Interleaved: every form sees the same machine.
      const ours: Record<(typeof forms)[number], number[]> = { json: [], binary: [], chart: [] }
      for (let i = 0; i < reps; i++) for (const form of forms) ours[form] = ours[form].concat(await timeIt(1, fetchHistories(form)))
      const name = (form: string) => `metrics/histories through HTTP, ${form}, ${runs} runs x ${si(steps)} steps to ${maxPoints} buckets (p50, warm)`
      const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
      const binaryRow = (form: "binary" | "chart", label: string) => {
        const row = msRow(name(label), ours[form], ceiling, "in-process downsampledHistories, same store", undefined, "<= 1.5x the ceiling", `${buckets.toLocaleString("en-US")} buckets, ${mb(sizes[form])}, read by the client; `)
        return { ...row, verdict: row.ratio <= 1.5 ? ("PASS" as const) : ("MISS" as const) }
      }
      return [
        msRow(name("JSON"), ours.json, ceiling, "in-process downsampledHistories, same store", undefined, "info (the UI asks for the binary form)", `${buckets.toLocaleString("en-US")} buckets, ${mb(sizes.json)}, parsed by the client; `),
        binaryRow("binary", "binary (f64le), all fields"),
        binaryRow("chart", "binary (f64le), the chart's fields step, last, timestamp")
      ]
    } finally {
      await server.close()
    }
  })
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3] as Stack, process.argv[4], process.argv[5] as Work)
} else if (import.meta.filename === process.argv[1]) {
  const { formatTable } = await import("./report.ts")
  const quick = process.argv.includes("--quick")
  const only = process.argv.find((a) => a.startsWith("--stacks="))?.slice("--stacks=".length).split(",") as Stack[] | undefined
  const rows = await benchServer({ quick, json: false, reps: 1, log: (l) => process.stderr.write(`${l}\n`) }, only ?? STACKS)
  process.stdout.write(`${formatTable(rows)}\n`)
}
