/**
 * Remote-client conformance: the same tracker behaviours against a directory and against a real
 * server on loopback (`openTracker({ uri: "http://..." })`): writes, reads, artifacts, the
 * registry, and refusals as the same tagged errors.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { NotFound, openTracker, ParamConflict, RunNotActive, type Tracker } from "@runledger/runtime"
import { type RunningServer, startServer } from "@runledger/server"
import { cli } from "../packages/cli/test/harness.ts"

const root = mkdtempSync(join(tmpdir(), "runledger-remote-"))
let server: RunningServer
beforeAll(async () => {
  server = await startServer({ dir: join(root, "served"), port: 0 })
})
afterAll(async () => {
  await server.close()
  rmSync(root, { recursive: true, force: true })
})

const targets: ReadonlyArray<readonly [string, () => Promise<Tracker>]> = [
  ["a directory", () => openTracker({ dir: join(root, "local") })],
  ["a server", () => openTracker({ uri: server.url, spoolDir: join(root, "spool") })]
]

describe.each(targets)("the tracker over %s", (kind, open) => {
  const withTracker = (f: (t: Tracker) => Promise<void>) => async () => {
    const t = await open()
    try {
      await f(t)
    } finally {
      await t.close()
    }
  }

  it("starts, logs params, tags, metrics and artifacts, ends, and reads it all back", withTracker(async (t) => {
    const run = await t.startRun({ experiment: `exp-${kind}`, name: "r1" })
    await run.logParam("lr", 0.1)
    // Un-awaited: grouped into a few appends (one request each), not one per point.
    for (let i = 0; i < 5000; i++) void run.logMetric("loss", i === 7 ? Number.NaN : 1 / (i + 1), { step: i })
    await run.setTags({ a: "b" })
    await run.logText("hello", "notes/hello.txt")
    await run.end()
    const view = await t.getRun(run.id)
    expect(view.status).toBe("FINISHED")
    expect(view.params).toEqual({ lr: 0.1 })
    expect(view.tags.a).toBe("b")
    expect(view.metrics.loss).toBe(1 / 5000)
    const history = await t.metricHistory(run.id, "loss")
    expect(history.length).toBe(5000)
    expect(Number.isNaN(history[7].value)).toBe(true)
    expect(history.map((p) => p.step)).toEqual(Array.from({ length: 5000 }, (_, i) => i))
    expect(new TextDecoder().decode(await t.readArtifact(run.id, "notes/hello.txt"))).toBe("hello")
    expect((await t.listRuns({ experiment: `exp-${kind}` })).map((r) => r.id)).toEqual([run.id])
    const events = await t.streamEvents(`run-${run.id}`)
    const batches = events.filter((e) => e.type === "MetricsLogged").length
    expect(batches).toBeGreaterThan(0)
    expect(batches).toBeLessThan(100)
    // Who holds the run: this process over a directory; a lease (renewed by heartbeats) over a server.
    const started = events[0].data as { owner?: { kind: string } }
    expect(started.owner?.kind).toBe(kind === "a server" ? "lease" : undefined)
  }))

  it("refuses with the same tagged errors", withTracker(async (t) => {
    const run = await t.startRun({ experiment: `errors-${kind}` })
    await run.logParam("p", 1)
    const conflict = await run.logParam("p", 2).then(() => undefined, (e: unknown) => e)
    expect(conflict).toBeInstanceOf(ParamConflict)
    expect((conflict as ParamConflict).key).toBe("p")
    await run.end()
    const ended = await run.logMetric("m", 1).then(() => undefined, (e: unknown) => e)
    expect(ended).toBeInstanceOf(RunNotActive)
    const missing = await t.getRun("0000000000000000000000000000dead").then(() => undefined, (e: unknown) => e)
    expect(missing).toBeInstanceOf(NotFound)
    expect((await t.getRun(run.id)).params).toEqual({ p: 1 })
  }))

  it("searches and queries through the same analytics methods", withTracker(async (t) => {
    const exp = `search-${kind}`
    for (const acc of [0.2, 0.9, 0.7]) {
      await t.withRun({ experiment: exp }, async (run) => {
        await run.logMetric("acc", acc)
      })
    }
    const found = await t.searchRuns({ experiments: [exp], filter: "metrics.acc > 0.5", orderBy: ["metrics.acc DESC"] })
    expect(found.runs.map((r) => r.metrics.acc)).toEqual([0.9, 0.7])
    const rows = await t.sql("SELECT count(*)::INTEGER AS n FROM runs WHERE experiment_id = ?", [found.runs[0].experimentId])
    expect(rows).toEqual([{ n: 3 }])
    const bad = await t.searchRuns({ filter: "metrics.acc >" }).then(() => undefined, (e: unknown) => e)
    expect((bad as { _tag?: string })._tag).toBe("FilterParseError")
  }))

  it("registers models, versions, stages and aliases", withTracker(async (t) => {
    const run = await t.startRun({ experiment: `models-${kind}` })
    await run.logBytes(new Uint8Array([1, 2, 3]), "model/weights.bin")
    await run.end()
    const name = `m-${kind.replace(/ /g, "-")}`
    await t.registerModel(name, { description: "d" })
    const v = await t.createModelVersion(name, { runId: run.id, artifactPath: "model" })
    expect(v.version).toBe(1)
    await t.transitionStage(name, 1, "Production")
    await t.setAlias(name, "champion", 1)
    const byAlias = await t.getModelVersion(name, { alias: "champion" })
    expect(byAlias.stage).toBe("Production")
    const files = await t.readArtifacts(`models:/${name}/@champion`)
    expect(files.map((f) => [...f.bytes])).toEqual([[1, 2, 3]])
    const dup = await t.registerModel(name).then(() => undefined, (e: unknown) => e)
    expect((dup as { _tag?: string })._tag).toBeDefined()
  }))
})

describe("the CLI with --uri", () => {
  it("lists and shows a server's runs; a command that reads the store's files refuses a server", async () => {
    const t = await openTracker({ uri: server.url, spoolDir: join(root, "cli-spool") })
    let runId: string
    try {
      const run = await t.startRun({ experiment: "cli-remote", name: "over-http" })
      await run.logMetric("acc", 0.5)
      await run.end()
      runId = run.id
    } finally {
      await t.close()
    }
    const listed = await cli(["runs", "--uri", server.url, "--experiment", "cli-remote", "--json"], { env: { HOME: root } })
    expect(listed.status, listed.stderr).toBe(0)
    expect(listed.stdout).toContain(runId)
    const viaEnv = await cli(["show", runId, "--json"], { env: { RUNLEDGER_TRACKING_URI: server.url, HOME: root } })
    expect(viaEnv.status, viaEnv.stderr).toBe(0)
    expect(viaEnv.stdout).toContain("over-http")
    const verify = await cli(["verify", "--uri", server.url])
    expect(verify.status).toBe(2)
    expect(verify.stderr).toContain("--dir")
    const both = await cli(["runs", "--uri", server.url, "--dir", root])
    expect(both.status).toBe(2)
    expect(both.stderr).toContain("not both")
  })
})

describe("the remote client's edges", () => {
  it("the Effect API runs over a server through trackerLayer, its runs leased", async () => {
    const { Effect } = await import("effect")
    const { Tracker } = await import("@runledger/tracker")
    const { trackerLayer } = await import("@runledger/runtime")
    const program = Effect.gen(function*() {
      const tracker = yield* Tracker
      const run = yield* tracker.startRun({ experiment: "effect-remote" })
      return yield* tracker.getRun(run.id)
    })
    const view = await Effect.runPromise(program.pipe(Effect.provide(trackerLayer({ uri: server.url, spoolDir: join(root, "effect-spool") }))))
    expect(view.status).toBe("RUNNING")
    expect(view.experiment).toBe("effect-remote")
    const t = await openTracker({ uri: server.url, spoolDir: join(root, "effect-spool") })
    try {
      const started = (await t.streamEvents(`run-${view.id}`))[0].data as { owner?: { kind: string } }
      expect(started.owner?.kind).toBe("lease")
    } finally {
      await t.close()
    }
  })

  it("sends the token; a wrong or missing one is refused with a clear error and nothing is spooled", async () => {
    const guarded = await startServer({ dir: join(root, "guarded"), port: 0, token: "s3cret" })
    try {
      const ok = await openTracker({ uri: guarded.url, token: "s3cret", spoolDir: join(root, "token-spool") })
      try {
        const run = await ok.startRun({ experiment: "tokens" })
        await run.end()
        expect((await ok.getRun(run.id)).status).toBe("FINISHED")
      } finally {
        await ok.close()
      }
      for (const token of ["wrong", undefined]) {
        const bad = await openTracker({ uri: guarded.url, spoolDir: join(root, "token-spool"), ...(token !== undefined ? { token } : {}) })
        try {
          const refused = await bad.startRun({ experiment: "tokens" }).then(() => undefined, (e: unknown) => e)
          expect((refused as { _tag?: string })._tag).toBe("StorageError")
          expect((refused as Error).message).toMatch(/401|token/)
        } finally {
          await bad.close()
        }
      }
    } finally {
      await guarded.close()
    }
  })
})
