/**
 * openTracker({ uri }): the store is chosen by the URI (a directory path, a file: URL, duckdb:),
 * and the tracker and its analytics work over the one store it opened. Real stores on disk.
 */
import { InvalidInput } from "@runledger/core"
import { makeTrackerClient } from "@runledger/tracker"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { ReadModel } from "../../readmodel-duckdb/src/index.ts"
import { openTracker, type Tracker, trackerLayer } from "../src/index.ts"

const dirs: string[] = []
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), "runledger-runtime-"))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** The README's quick start, then a filtered search and a SQL question over what it wrote. */
const quickStartAndSearch = async (tracker: Tracker) => {
  await tracker.withRun({ experiment: "mnist", name: "baseline" }, async (run) => {
    await run.logParams({ lr: 0.01, layers: 2 })
    for (let epoch = 0; epoch < 10; epoch++) run.logMetric("loss", 1 / (epoch + 1), { step: epoch })
    await run.logJson({ weights: [0.1, 0.2] }, "model/weights.json")
  })
  await tracker.withRun({ experiment: "mnist", name: "wide" }, async (run) => {
    await run.logParams({ lr: 0.1, layers: 4 })
    run.logMetric("loss", 0.05, { step: 0 })
  })
  const runs = await tracker.listRuns({ experiment: "mnist" })
  expect(runs.map((r) => [r.name, r.status]).sort()).toEqual([["baseline", "FINISHED"], ["wide", "FINISHED"]])
  const found = await tracker.searchRuns({ experiments: ["mnist"], filter: "params.layers = '2' AND metrics.loss < 0.2" })
  expect(found.runs.map((r) => r.name)).toEqual(["baseline"])
  expect(await tracker.sql("SELECT count(*) AS n FROM metrics WHERE key = 'loss'")).toEqual([{ n: 11 }])
  const baseline = runs.find((r) => r.name === "baseline")!
  expect(JSON.parse(new TextDecoder().decode(await tracker.readArtifact(baseline.id, "model/weights.json")))).toEqual({ weights: [0.1, 0.2] })
}

/** What a second tracker on the same URI sees after the first closed: the writes were durable, in that store. */
const runNames = async (uri: { readonly uri: string } | { readonly dir: string }) => {
  const tracker = await openTracker(uri)
  try {
    return (await tracker.listRuns({ experiment: "mnist" })).map((r) => r.name).sort()
  } finally {
    await tracker.close()
  }
}

describe("openTracker({ uri }) picks the store by URI", () => {
  it("a directory path: the directory store, the same one { dir } opens", async () => {
    const dir = join(freshDir(), "store")
    const tracker = await openTracker({ uri: dir })
    try {
      await quickStartAndSearch(tracker)
    } finally {
      await tracker.close()
    }
    expect(existsSync(join(dir, "events.log"))).toBe(true)
    expect(existsSync(join(dir, "readmodel.duckdb"))).toBe(true)
    expect(await runNames({ dir })).toEqual(["baseline", "wide"])
  })

  it("a file: URL: the directory store at that path", async () => {
    const dir = join(freshDir(), "a store with spaces")
    const uri = pathToFileURL(dir).href
    expect(uri).toContain("%20")
    const tracker = await openTracker({ uri })
    try {
      await quickStartAndSearch(tracker)
    } finally {
      await tracker.close()
    }
    expect(existsSync(join(dir, "events.log"))).toBe(true)
    expect(await runNames({ uri: dir })).toEqual(["baseline", "wide"])
  })

  it("duckdb:<file>: events in the DuckDB file, artifacts and read model in <file>.d beside it", async () => {
    const file = join(freshDir(), "runs.duckdb")
    const tracker = await openTracker({ uri: `duckdb:${file}` })
    try {
      // The search needs the read model to read the very store the tracker holds: DuckDB refuses a
      // second open of the file in this process, so a second store object would fail here.
      await quickStartAndSearch(tracker)
    } finally {
      await tracker.close()
    }
    expect(existsSync(file)).toBe(true)
    expect(existsSync(join(`${file}.d`, "readmodel.duckdb"))).toBe(true)
    expect(readdirSync(join(`${file}.d`, "artifacts")).length).toBeGreaterThan(0)
    expect(existsSync(join(`${file}.d`, "events.log"))).toBe(false)
    expect(await runNames({ uri: `duckdb:${file}` })).toEqual(["baseline", "wide"])
  })

  // http(s) names a server (the remote client: test/remote-client.test.ts).
  it.each(["postgres://localhost/runs", "s3://bucket/runs"])(
    "an unsupported scheme is refused, naming the supported ones, and nothing is created: %s",
    async (uri) => {
      const cwd = process.cwd()
      const before = readdirSync(cwd)
      const refused = await openTracker({ uri }).then(() => undefined, (e: unknown) => e)
      expect(refused).toBeInstanceOf(InvalidInput)
      const message = (refused as InvalidInput).message
      expect(message).toContain(JSON.stringify(uri))
      expect(message).toContain(`the scheme ${uri.slice(0, uri.indexOf(":"))}: is not supported`)
      expect(message).toContain("a directory path, a file: URL (file:///path/to/store), duckdb:<path to a .duckdb file> or a server's http(s)://host:port")
      expect(readdirSync(cwd)).toEqual(before)
    }
  )

  it("a file: URL that is not local, an empty duckdb: path, and uri with dir at once are refused", async () => {
    for (const options of [{ uri: "file://elsewhere.example/store" }, { uri: "duckdb:" }, { uri: freshDir(), dir: freshDir() }]) {
      const refused = await openTracker(options).then(() => undefined, (e: unknown) => e)
      expect(refused, JSON.stringify(options)).toBeInstanceOf(InvalidInput)
    }
  })

  it("trackerLayer (the Effect API's) opens the same store by URI, and closes it with the layer", async () => {
    const uri = `duckdb:${join(freshDir(), "runs.duckdb")}`
    const client = await makeTrackerClient(trackerLayer({ uri }))
    try {
      await client.withRun({ experiment: "mnist", name: "layered" }, async (run) => run.logParam("lr", 1))
    } finally {
      await client.close()
    }
    // Closed with the layer: openTracker can open the file again in this process.
    expect(await runNames({ uri })).toEqual(["layered"])
  })

  it("{ dir } is always a path: a colon in it is no scheme", async () => {
    const base = freshDir()
    const dir = join(base, "postgres:runs")
    const tracker = await openTracker({ dir })
    try {
      await tracker.withRun({ experiment: "mnist", name: "colon" }, async (run) => run.logParam("lr", 1))
    } finally {
      await tracker.close()
    }
    expect(existsSync(join(dir, "events.log"))).toBe(true)
  })
})

/** Run the exit fixture on `uri` in a child process; its run id, exit code and stderr. */
const runScript = (uri: string, scenario: "forget-end" | "process-exit") =>
  new Promise<{ runId: string; code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "exit-script.ts"), uri, scenario], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
    child.on("error", reject)
    child.on("exit", (code) => {
      try {
        resolve({ runId: (JSON.parse(out.split("\n")[0]) as { run: string }).run, code, stderr })
      } catch (e) {
        reject(new Error(`the script printed no run (exit ${code}): ${stderr}`, { cause: e }))
      }
    })
  })

describe("runs left open when the process ends, on a duckdb: store", () => {
  it("the event loop runs dry: the run ends FINISHED with every point written", async () => {
    const uri = `duckdb:${join(freshDir(), "runs.duckdb")}`
    const { runId, code, stderr } = await runScript(uri, "forget-end")
    expect([code, stderr]).toEqual([0, ""])
    const tracker = await openTracker({ uri })
    try {
      expect((await tracker.getRun(runId)).status).toBe("FINISHED")
      expect((await tracker.metricHistory(runId, "x")).map((p) => p.value)).toEqual([...Array(100).keys()])
    } finally {
      await tracker.close()
    }
  })

  it("process.exit(): the file cannot be handed to a child, so the run is named on stderr with what to do, and the exit code is kept", async () => {
    const file = join(freshDir(), "runs.duckdb")
    const { runId, code, stderr } = await runScript(`duckdb:${file}`, "process-exit")
    expect(code).toBe(0)
    expect(stderr).toBe(
      `runledger: process.exit() came with 1 run(s) open on duckdb:${file} (${runId}), whose file this process holds: their latest calls are not written. Await tracker.close() before process.exit().\n`
    )
  })
})

describe("the read model between calls", () => {
  /** Whether this process can open the read model's file itself, i.e. no tracker holds it. */
  const free = async (dir: string): Promise<boolean> => {
    try {
      const model = await ReadModel.open({ file: join(dir, "readmodel.duckdb") })
      await model.close()
      return true
    } catch (e) {
      if (e instanceof Error && /already open in this process/.test(e.message)) return false
      throw e
    }
  }

  it("stays open for the next call when asked to linger, is let go after it, and at once when the tracker closes or by default", async () => {
    const dir = freshDir()
    // Shorter than the server's (LINGER_MS), to see it let go.
    const LINGER_MS = 1_000
    const tracker = await openTracker({ dir, durability: "os", readModelLingerMs: LINGER_MS })
    await tracker.withRun({ experiment: "e", name: "r" }, async (run) => run.logMetric("m", 1, { step: 0 }))
    // A ranking, not a search: a small store's search is answered in memory, without the read model.
    const rank = (t: Tracker) => t.rankRuns({ metric: "m", goal: "min" })
    await rank(tracker)
    expect(await free(dir)).toBe(false)
    // A second call reuses it, and answers as the first.
    expect((await rank(tracker)).map((r) => r.runName)).toEqual(["r"])
    await new Promise((r) => setTimeout(r, LINGER_MS + 500))
    expect(await free(dir)).toBe(true)
    await rank(tracker)
    await tracker.close()
    expect(await free(dir)).toBe(true)

    const eager = await openTracker({ dir, durability: "os" })
    try {
      await rank(eager)
      expect(await free(dir)).toBe(true)
    } finally {
      await eager.close()
    }
  })
})

describe.runIf(process.platform === "linux")("DuckDB is loaded by the first analytics call, not with the store", () => {
  it("opening, getRun and a small store's searchRuns leave DuckDB's library unloaded; sql() loads it", async () => {
    const dir = freshDir()
    const script = `
      import { readFileSync } from "node:fs"
      const duckdb = () => /duckdb/i.test(readFileSync("/proc/self/maps", "utf8"))
      const { openTracker } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, "../src/index.ts")).href)})
      const tracker = await openTracker({ dir: ${JSON.stringify(dir)} })
      const run = await tracker.startRun({ experiment: "e", name: "r" })
      run.logMetric("loss", 0.5, { step: 0 })
      await run.end()
      await tracker.getRun(run.id)
      const found = await tracker.searchRuns({ filter: "metrics.loss < 1" })
      const before = duckdb()
      await tracker.sql("SELECT count(*) AS n FROM runs")
      console.log(JSON.stringify({ found: found.runs.length, before, after: duckdb() }))
      await tracker.close()
    `
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
      child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
      child.on("error", reject)
      child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`the script failed (exit ${code}): ${stderr}`))))
    })
    expect(JSON.parse(out.trim())).toEqual({ found: 1, before: false, after: true })
  })
})
