/**
 * End-to-end tests of the `runledger` executable: every test spawns the bin (the published
 * bundle, harness.ts) as a child process against a store in a fresh temporary directory and checks what a user sees
 * (stdout, stderr, exit status) and what lands on disk.
 *
 * The children are spawned asynchronously so that independent invocations can run side by side
 * (each one pays a few hundred ms of start-up); NODE_COMPILE_CACHE (a private cache directory) makes repeated
 * start-ups cheaper and changes nothing else.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { execFileSync, spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { BIN, cli, type CliResult, expectOk, expectUsageError, freshRoot, lines, repoRoot, startCli, storeCopies } from "./harness.ts"
import { type EventJson, parseListing, recordStarts, type RunJson, storedJson } from "./formats.ts"


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Poll until `check` is true; fails after `timeoutMs`. */
const waitFor = async (check: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}




const DEMO_MODELS = ["logreg-lr0.01", "logreg-lr0.1", "logreg-lr0.5-l2", "mlp-32-relu", "mlp-64-tanh", "mlp-64-relu-lr0.1"]
const SUBCOMMANDS = ["demo", "experiments", "runs", "show", "history", "verify", "anchor", "repair", "events"]
/** The sweep's runs, in the order the demo starts them: the parent, then one child per batch size. */
const SWEEP_RUNS = ["sweep-batch-size", "logreg-bs8", "logreg-bs32", "logreg-bs128"]
const RUNS_PER_DEMO = DEMO_MODELS.length + SWEEP_RUNS.length
/**
 * Events per demo after the first (which also creates the experiment and registers the model):
 * per candidate RunStarted, ParamsLogged, MetricsLogged, 3 x ArtifactStored, RunEnded; the registry's
 * 2 x ModelVersionCreated, 4 x StagePromoted (each version to Staging, then Production) and AliasSet;
 * per sweep run (parent and children) RunStarted, ParamsLogged, MetricsLogged, 2 x ArtifactStored, RunEnded.
 */
const EVENTS_PER_DEMO = 6 * 7 + 7 + 4 * 6
/** The first demo's extra events: ExperimentCreated and ModelRegistered. */
const FIRST_DEMO_EXTRA = 2
/** Streams after two demos: the experiments, the runs and the registered model. */
const STREAMS = 1 + 2 * RUNS_PER_DEMO + 1

/** The leaderboard rows printed by `demo`: rank, run name, model, val_accuracy, ..., run id. */
const leaderboardRows = (stdout: string) =>
  lines(stdout)
    .map((l) => /^\s*(\d+)\s+(\S+)\s+(mlp|logistic-regression)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([0-9a-f]{32})$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ rank: Number(m[1]), name: m[2], model: m[3], valAccuracy: Number(m[4]), runId: m[8] }))

// ---------------------------------------------------------------------------------------------

describe("the demo store", () => {
  let root: string
  /** `<root>/runledger`: the default name, so that `./runledger` can be tested from `root`. */
  let store: string
  /** The second `demo`, run by the --follow test (or by the second suite's beforeAll if that test failed early). */
  let secondDemo: CliResult | undefined
  const runSecondDemo = () => cli(["demo", "--epochs", "3", "--dir", store]) // --dir after the subcommand

  beforeAll(() => {
    root = freshRoot()
    store = join(root, "runledger")
  })

  describe("after one demo", () => {
    let demo: CliResult
    let runs: RunJson[]
    let eventCount: number

    beforeAll(async () => {
      demo = await cli(["--dir", store, "demo", "--epochs", "3"]) // --dir before the subcommand
      expect(demo.status, demo.stderr).toBe(0)
      const listed = await cli(["runs", "--json", "--dir", store])
      expect(listed.status, listed.stderr).toBe(0)
      runs = parseListing<RunJson>(listed.stdout, "runs")
      eventCount = recordStarts(readFileSync(join(store, "events.log"))).length
    })

    it("demo trains six models, logs progress on stderr and prints a ranked leaderboard", () => {
      expect(demo.stdout).toContain("Leaderboard (demo-classification, this invocation):")
      expect(lines(demo.stdout).find((l) => l.startsWith("RANK"))).toMatch(/^RANK\s+RUN\s+MODEL\s+VAL_ACCURACY\s+VAL_F1\s+VAL_LOSS\s+TIME\s+RUN ID$/)
      const rows = leaderboardRows(demo.stdout)
      expect(rows.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6])
      expect(new Set(rows.map((r) => r.name))).toEqual(new Set(DEMO_MODELS))
      for (let i = 1; i < rows.length; i++) expect(rows[i].valAccuracy).toBeLessThanOrEqual(rows[i - 1].valAccuracy)
      expect(new Set(rows.map((r) => r.runId))).toEqual(new Set(runs.filter((r) => DEMO_MODELS.includes(r.name)).map((r) => r.id)))
      expect(runs.map((r) => r.name).sort()).toEqual([...DEMO_MODELS, ...SWEEP_RUNS].sort())
      // The summary names the sweep and the registered model; the best run is version 2, in Production, @champion.
      expect(demo.stdout).toMatch(/^Also logged: the sweep sweep-batch-size \(run [0-9a-f]{12}\) with child runs logreg-bs8, logreg-bs32, logreg-bs128; CSV, PNG and SVG artifacts\.$/m)
      expect(demo.stdout).toContain(`Registered model demo-classifier: version 1 from ${rows[1].name} (Archived); version 2 from ${rows[0].name} (Production, @champion).`)
      expect(demo.stdout).toContain(`runledger show ${rows[0].runId.slice(0, 12)}`)
      // Progress goes to stderr: a header, the data line and one line per trained model.
      expect(demo.stderr).toContain(`logging to ${store} (experiment "demo-classification")`)
      expect(lines(demo.stderr).filter((l) => l.trimStart().startsWith("trained "))).toHaveLength(6)
      expect(lines(demo.stderr).filter((l) => l.trimStart().startsWith("sweep "))).toHaveLength(3)
      expect(existsSync(join(store, "events.log"))).toBe(true)
      expect(existsSync(join(store, "events.lock"))).toBe(false)
      expect(eventCount).toBe(FIRST_DEMO_EXTRA + EVENTS_PER_DEMO)
    })

    it("show finds a run by full id, 12-character prefix and unique name, as text and --json", async () => {
      const run = runs.find((r) => r.name === "mlp-64-tanh")!
      const prefix = run.id.slice(0, 12)
      expect(runs.filter((r) => r.id.startsWith(prefix))).toHaveLength(1)
      const [byId, byPrefix, byName, asJson] = await Promise.all([
        cli(["show", run.id, "--dir", store]),
        cli(["show", prefix, "--dir", store]),
        cli(["show", "mlp-64-tanh", "--dir", store]),
        cli(["show", prefix, "--json", "--dir", store])
      ])
      for (const r of [byId, byPrefix, byName, asJson]) {
        expect(r.status, r.stderr).toBe(0)
        expect(r.stderr).toBe("")
      }
      expect(byPrefix.stdout).toBe(byId.stdout)
      expect(byName.stdout).toBe(byId.stdout)
      const text = byId.stdout
      expect(text).toContain(`Run ${run.id}  mlp-64-tanh`)
      expect(text).toMatch(/^ {2}experiment {2}demo-classification \([0-9a-f]{32}\)$/m)
      expect(text).toMatch(/^ {2}status {6}FINISHED$/m)
      expect(text).toMatch(/^ {2}environment node v24\./m)
      for (const section of ["Params", "Tags", "Metrics (latest)", "Artifacts"]) expect(text).toMatch(new RegExp(`^${section.replace(/[()]/g, "\\$&")}$`, "m"))
      expect(text).toMatch(/^\s+activation\s+tanh$/m)
      expect(text).toMatch(/^\s+epochs\s+3$/m)
      // KEY VALUE STEP POINTS HISTORY: the latest val_accuracy is at step 2 of 3 points.
      expect(text).toMatch(/^\s+val_accuracy\s+[\d.]+\s+2\s+3\s+\S{3}$/m)
      for (const path of ["model/weights.json", "eval/confusion_matrix.json", "eval/confusion_matrix.txt"]) expect(text).toMatch(new RegExp(`^\\s+${path}\\s`, "m"))

      const shown = JSON.parse(asJson.stdout) as RunJson
      expect(shown).toEqual(run)
    })

    it("the sweep's batch-size-8 child logs train_loss once per mini-batch (188 of the 1,499 training samples' batches an epoch)", async () => {
      const r = await cli(["show", runs.find((x) => x.name === "logreg-bs8")!.id, "--dir", store])
      expectOk(r)
      // KEY VALUE STEP POINTS HISTORY: 3 epochs x 188 batches, steps 0..563; the validation metrics once an epoch.
      expect(r.stdout).toMatch(/^\s+train_loss\s+[\d.]+\s+563\s+564\s+\S+$/m)
      expect(r.stdout).toMatch(/^\s+val_loss\s+[\d.]+\s+2\s+3\s+\S+$/m)
      for (const path of ["eval/epochs.csv", "eval/confusion_matrix.png"]) expect(r.stdout).toMatch(new RegExp(`^\\s+${path}\\s`, "m"))
    })

    it("show refuses an unknown run and an id prefix shorter than 4 characters", async () => {
      const short = runs[0].id.slice(0, 3)
      const [unknown, tooShort] = await Promise.all([cli(["show", "nope", "--dir", store]), cli(["show", short, "--dir", store])])
      expectUsageError(unknown, `No run with id, id prefix or name "nope"`)
      expect(unknown.stderr).toContain("runledger runs")
      expectUsageError(tooShort, `No run with id, id prefix or name "${short}"`)
    })

    it("history prints one row per epoch, as a table and as --json, and refuses an unknown metric", async () => {
      const run = runs.find((r) => r.name === "logreg-lr0.1")!
      const prefix = run.id.slice(0, 12)
      const [table, json, noMetric] = await Promise.all([
        cli(["history", prefix, "val_accuracy", "--dir", store]),
        cli(["--dir", store, "history", run.id, "val_accuracy", "--json"]),
        cli(["history", prefix, "nope", "--dir", store])
      ])
      expectOk(table)
      const rows = lines(table.stdout)
      expect(rows[0]).toMatch(/^STEP\s+VALUE\s+TIME$/)
      expect(rows.slice(1).map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([0, 1, 2])

      expectOk(json)
      const points = parseListing<{ step: number; value: number; timestamp: number }>(json.stdout, "points")
      expect(points.map((p) => p.step)).toEqual([0, 1, 2])
      for (const p of points) {
        expect(p.value).toBeGreaterThan(0)
        expect(p.value).toBeLessThanOrEqual(1)
        expect(typeof p.timestamp).toBe("number")
      }
      expect(points[2].value).toBe(run.metrics.val_accuracy)
      rows.slice(1).forEach((l, i) => expect(Number(l.trim().split(/\s+/)[1])).toBeCloseTo(points[i].value, 5))

      expectUsageError(noMetric, `has no metric "nope"`)
      expect(noMetric.stderr).toContain("val_accuracy")
    })

    it("events prints one line per event; --json is NDJSON; --from N starts at position N", async () => {
      const [text, json, from, negative] = await Promise.all([
        cli(["events", "--dir", store]),
        cli(["events", "--json", "--dir", store]),
        cli(["events", "--from", "40", "--json", "--dir", store]),
        cli(["events", "--from", "-1", "--dir", store])
      ])
      for (const r of [text, json, from]) {
        expect(r.status, r.stderr).toBe(0)
        expect(r.stderr).toBe("")
      }
      const textLines = lines(text.stdout)
      expect(textLines).toHaveLength(eventCount)
      textLines.forEach((l, i) => expect(l).toMatch(new RegExp(`^\\s*${i + 1}\\s`)))
      expect(textLines[0]).toMatch(/^\s+1\s+\S+ \S+\s+experiments\s+v1\s+ExperimentCreated\s+demo-classification \([0-9a-f]{32}\)$/)
      expect(textLines.at(-1)).toMatch(/\sRunEnded\s+FINISHED$/)

      const events = lines(json.stdout).map((l) => JSON.parse(l) as EventJson)
      expect(events.map((e) => e.position)).toEqual(Array.from({ length: eventCount }, (_, i) => i + 1))
      for (const e of events) {
        expect(typeof e.stream).toBe("string")
        expect(typeof e.type).toBe("string")
        expect(Number.isInteger(e.version)).toBe(true)
      }
      const count = (type: string) => events.filter((e) => e.type === type).length
      expect([count("ExperimentCreated"), count("RunStarted"), count("ArtifactStored"), count("RunEnded")]).toEqual([1, 10, 26, 10])
      expect([count("ModelRegistered"), count("ModelVersionCreated"), count("StagePromoted"), count("AliasSet")]).toEqual([1, 2, 4, 1])
      // Each stream's versions run 1, 2, 3, ...
      const versions = new Map<string, number[]>()
      for (const e of events) versions.set(e.stream, [...(versions.get(e.stream) ?? []), e.version])
      for (const vs of versions.values()) expect(vs).toEqual(vs.map((_, i) => i + 1))

      const after = lines(from.stdout).map((l) => JSON.parse(l) as EventJson)
      expect(after.map((e) => e.position)).toEqual(events.slice(39).map((e) => e.position))
      expect(after[0].id).toBe(events[39].id)
      expectUsageError(negative, "--from must be >= 0, got -1")
    })

    // Last in this suite: it runs the second demo, adding ten more runs to the store.
    it("events --follow prints the existing events, then new ones as another process appends them", async () => {
      const follower = startCli(["events", "--follow", "--json", "--dir", store])
      let out = ""
      let err = ""
      follower.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s))
      follower.stderr!.setEncoding("utf8").on("data", (s: string) => (err += s))
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => follower.on("exit", (code, signal) => r({ code, signal })))
      const complete = () => lines(out.endsWith("\n") ? out : out.slice(0, out.lastIndexOf("\n") + 1))
      try {
        await waitFor(() => complete().length >= eventCount, 10_000, `the follower to print the ${eventCount} existing events`)
        expect(complete()).toHaveLength(eventCount)

        secondDemo = await runSecondDemo()
        expect(secondDemo.status, secondDemo.stderr).toBe(0)
        await waitFor(() => complete().length >= eventCount + EVENTS_PER_DEMO, 5_000, "the follower to print the new events")
        await sleep(300) // one more poll: nothing beyond what was appended
        const followed = complete().map((l) => JSON.parse(l) as EventJson)
        expect(followed.map((e) => e.position)).toEqual(Array.from({ length: eventCount + EVENTS_PER_DEMO }, (_, i) => i + 1))
        const fresh = followed.slice(eventCount)
        expect(fresh.filter((e) => e.type === "RunStarted").map((e) => e.data.name)).toEqual([...DEMO_MODELS, ...SWEEP_RUNS])
        expect(fresh.at(-1)!.type).toBe("RunEnded")
        expect(err).toBe("")
      } finally {
        follower.kill("SIGTERM")
      }
      expect(await exited).toEqual({ code: null, signal: "SIGTERM" })
    })
  })

  describe("after a second demo", () => {
    let runs: RunJson[]
    let log: Buffer

    beforeAll(async () => {
      secondDemo ??= await runSecondDemo()
      expect(secondDemo.status, secondDemo.stderr).toBe(0)
      const listed = await cli(["runs", "--json", "--dir", store])
      expect(listed.status, listed.stderr).toBe(0)
      runs = parseListing<RunJson>(listed.stdout, "runs")
      log = readFileSync(join(store, "events.log"))
    })

    it("the second demo printed a leaderboard of six; the store has 20 runs in one experiment", async () => {
      const board = leaderboardRows(secondDemo!.stdout)
      expect(board.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6])
      expect(board.every((r) => runs.slice(0, RUNS_PER_DEMO).some((run) => run.id === r.runId))).toBe(true) // among the newest
      expect(runs).toHaveLength(2 * RUNS_PER_DEMO)
      const [json, text] = await Promise.all([cli(["experiments", "--json", "--dir", store]), cli(["experiments", "--dir", store])])
      expectOk(json)
      const experiments = parseListing<{ id: string; name: string; createdAt: number; runs: number; lastActivity: number | null }>(json.stdout, "experiments")
      expect(experiments).toHaveLength(1)
      expect(experiments[0]).toMatchObject({ name: "demo-classification", runs: 2 * RUNS_PER_DEMO })
      expect(experiments[0].id).toMatch(/^[0-9a-f]{32}$/)
      expect(typeof experiments[0].createdAt).toBe("number")
      // The newest event of its runs: the last run's end, after the experiment was made.
      expect(experiments[0].lastActivity).toBe(Math.max(...runs.map((r) => r.endTime ?? r.startTime)))
      expect(runs.every((r) => r.experimentId === experiments[0].id)).toBe(true)

      expectOk(text)
      const rows = lines(text.stdout)
      expect(rows[0]).toMatch(/^ID\s+NAME\s+RUNS\s+LAST ACTIVITY\s+CREATED\s+STATE\s+FORKED FROM$/)
      expect(rows).toHaveLength(2)
      expect(rows[1]).toMatch(new RegExp(`^${experiments[0].id.slice(0, 12)}\\s+demo-classification\\s+${2 * RUNS_PER_DEMO}\\s`))
    })

    it("runs lists every run, newest first, with the fields a script needs", async () => {
      const [text, byName, unknown] = await Promise.all([
        cli(["runs", "--dir", store]),
        cli(["runs", "--experiment", "demo-classification", "--json", "--dir", store]),
        cli(["runs", "--experiment", "nope", "--dir", store])
      ])
      expectOk(text)
      const rows = lines(text.stdout)
      expect(rows[0]).toMatch(/^ID\s+NAME\s+EXPERIMENT\s+STATUS\s+STARTED\s+DURATION\s+METRICS$/)
      expect(rows).toHaveLength(1 + 2 * RUNS_PER_DEMO)
      rows.slice(1).forEach((l, i) => {
        expect(l).toMatch(/^[0-9a-f]{12}\s+\S+\s+demo-classification\s+FINISHED\s/)
        expect(l.startsWith(runs[i].id.slice(0, 12))).toBe(true)
        expect(l).toMatch(/ val_accuracy(_best)?=/) // the sweep's parent holds its best child's, as val_accuracy_best
      })

      expectOk(byName)
      expect(parseListing(byName.stdout, "runs")).toEqual(runs)
      expectUsageError(unknown, `No experiment named "nope"`)

      for (let i = 1; i < runs.length; i++) expect(runs[i].startTime).toBeLessThanOrEqual(runs[i - 1].startTime)
      expect(runs.map((r) => r.name).sort()).toEqual([...DEMO_MODELS, ...SWEEP_RUNS, ...DEMO_MODELS, ...SWEEP_RUNS].sort())
      const parents = runs.filter((r) => r.name === "sweep-batch-size")
      for (const r of runs) {
        expect(r.id).toMatch(/^[0-9a-f]{32}$/)
        expect(r.experiment).toBe("demo-classification")
        expect(r.status).toBe("FINISHED")
        expect(r.endTime).toBeGreaterThanOrEqual(r.startTime)
        expect(r.params).toMatchObject({ epochs: 3, "data.seed": 42, "data.classes": 3 })
        expect(r.tags).toMatchObject({ source: "runledger demo" })
        const paths = r.artifacts.map((a) => a.path).sort()
        if (r.name === "sweep-batch-size") {
          // The parent holds the sweep's result: the best child's validation metrics, a results table and a plot.
          expect(r.parentRunId ?? null).toBeNull()
          expect(Object.keys(r.metrics).sort()).toEqual(["val_accuracy_best", "val_loss_best"])
          const children = runs.filter((c) => c.parentRunId === r.id)
          expect(children.map((c) => c.name).sort()).toEqual(SWEEP_RUNS.slice(1).sort())
          expect(r.metrics.val_loss_best).toBe(children.reduce((m, c) => Math.min(m, c.metrics.val_loss), Infinity))
          expect(paths).toEqual(["sweep/results.csv", "sweep/val_loss.svg"])
          expect(r.artifacts.map((a) => a.mediaType).sort()).toEqual(["image/svg+xml", "text/csv"])
          continue
        }
        if (r.name.startsWith("logreg-bs")) {
          // A child of its own demo's sweep, with train_loss per batch, a CSV and a PNG.
          expect(parents.map((p) => p.id)).toContain(r.parentRunId)
          expect(Object.keys(r.metrics).sort()).toEqual(["train_loss", "val_accuracy", "val_f1", "val_loss"])
          expect(r.params).toMatchObject({ batchSize: Number(r.name.slice("logreg-bs".length)) })
          expect(r.metrics.val_accuracy).toBeGreaterThan(0.5)
          expect(paths).toEqual(["eval/confusion_matrix.png", "eval/epochs.csv"])
          continue
        }
        expect(r.parentRunId ?? null).toBeNull()
        expect(Object.keys(r.metrics).sort()).toEqual(["train_loss", "val_accuracy", "val_f1", "val_loss"])
        expect(r.metrics.val_accuracy).toBeGreaterThan(0.5)
        expect(r.metrics.val_accuracy).toBeLessThanOrEqual(1)
        expect(r.tags).toMatchObject({ source: "runledger demo" })
        const weights = r.artifacts.find((a) => a.path === "model/weights.json")
        expect(weights).toMatchObject({ mediaType: "application/json" })
        expect(weights!.sha256).toMatch(/^[0-9a-f]{64}$/)
        expect(weights!.size).toBeGreaterThan(0)
        expect(r.artifacts.map((a) => a.path).sort()).toEqual(["eval/confusion_matrix.json", "eval/confusion_matrix.txt", "model/weights.json"])
      }
    })

    it("the store is found by --dir, else $RUNLEDGER_DIR, else ./runledger (relative paths from the working directory)", async () => {
      const empty = join(root, "empty")
      mkdirSync(empty, { recursive: true })
      const [byEnv, relativeFlagBeatsEnv, byDefault] = await Promise.all([
        cli(["runs", "--json"], { env: { RUNLEDGER_DIR: store } }),
        cli(["--dir", "runledger", "runs", "--json"], { cwd: root, env: { RUNLEDGER_DIR: empty } }),
        cli(["runs", "--json"], { cwd: root })
      ])
      for (const r of [byEnv, relativeFlagBeatsEnv, byDefault]) {
        expectOk(r)
        expect(parseListing(r.stdout, "runs")).toEqual(runs)
      }
    })

    it("a run name shared by two runs is ambiguous: exit 2 naming both runs", async () => {
      const twins = runs.filter((r) => r.name === "mlp-32-relu")
      expect(twins).toHaveLength(2)
      const show = await cli(["show", "mlp-32-relu", "--dir", store])
      expectUsageError(show, `"mlp-32-relu" matches 2 runs`)
      for (const t of twins) expect(show.stderr).toContain(t.id.slice(0, 12))
    })

    it("verify passes on the demo store, as text and --json", async () => {
      const [text, json] = await Promise.all([cli(["verify", "--dir", store]), cli(["verify", "--json", "--dir", store])])
      const events = recordStarts(log).length
      expect(events).toBe(FIRST_DEMO_EXTRA + 2 * EVENTS_PER_DEMO)
      const blobs = new Set(runs.flatMap((r) => r.artifacts.map((a) => a.sha256))).size
      expectOk(text)
      expect(text.stderr).toBe("")
      expect(text.stdout).toMatch(new RegExp(`^OK: ${events} events in ${STREAMS} streams \\(.+\\), ${blobs} artifacts checked in ${store}\\.\\n$`))
      expectOk(json)
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, file: join(store, "events.log"), events, streams: STREAMS, bytes: log.length, artifactsChecked: blobs, findings: [] })
    })

    describe("a damaged record in the middle of the log (a copy of the store)", () => {
      let damaged: string
      let file: string
      let recordOffset: number
      let before: Buffer

      beforeAll(() => {
        damaged = join(root, "damaged")
        cpSync(store, damaged, { recursive: true })
        file = join(damaged, "events.log")
        // Record 3 is the first run's ParamsLogged: change one bit of its stored (deflated) JSON.
        recordOffset = recordStarts(log)[2]
        const last = recordStarts(log)[3] - 1
        before = Buffer.from(log)
        before[last] ^= 0x01
        writeFileSync(file, before)
      })

      it("verify exits 1 and names the damaged record's byte offset", async () => {
        const [text, json] = await Promise.all([cli(["verify", "--dir", damaged]), cli(["verify", "--json", "--dir", damaged])])
        expect(text.status).toBe(1)
        expect(text.stdout).toBe("")
        const [head, first] = lines(text.stderr)
        expect(head).toContain(`the first bad place is ${file} at byte offset ${recordOffset}:`)
        expect(first).toBe(`  damaged-record: record 3 at byte offset ${recordOffset}: the checksum does not match the record's bytes`)

        expect(json.status).toBe(1)
        const report = JSON.parse(json.stdout) as { ok: boolean; events: number; findings: Array<{ kind: string; offset?: number; position?: number; message: string }> }
        expect(report.events).toBe(recordStarts(log).length) // every record counts, the damaged one too
        expect(report.ok).toBe(false)
        expect(report.findings[0]).toMatchObject({ kind: "damaged-record", file, offset: recordOffset, position: 3 })
        expect(report.findings.every((f) => f.offset === undefined || f.offset >= recordOffset)).toBe(true)
        // The skipped record also leaves a hole in its stream's versions, reported at the next record.
        const gap = report.findings.find((f) => f.kind === "version-gap")!
        expect(gap.offset).toBe(recordStarts(log)[3])
        expect(gap.position).toBe(4)
        expect(gap.message).toContain(`record 4 at byte offset ${recordStarts(log)[3]}:`)
        expect(readFileSync(file).equals(before)).toBe(true) // verify changes nothing
      })

      it("commands that read the store refuse it with one line naming the offset, and leave the file alone", async () => {
        const results = await Promise.all([
          cli(["runs", "--dir", damaged]),
          cli(["events", "--dir", damaged])
        ])
        for (const r of results) {
          expect(r.status, r.stderr).toBe(1)
          expect(r.stdout).toBe("")
          expect(lines(r.stderr)).toHaveLength(1)
          expect(r.stderr).toContain(`${file} is damaged at byte offset ${recordOffset}`)
          expect(r.stderr).toContain("runledger verify")
        }
        expect(readFileSync(file).equals(before)).toBe(true)
      })
    })

    describe("a torn tail (a copy of the store with its last bytes cut off)", () => {
      let torn: string
      let file: string
      let lastOffset: number
      let tornSize: number

      beforeAll(() => {
        torn = join(root, "torn")
        cpSync(store, torn, { recursive: true })
        file = join(torn, "events.log")
        lastOffset = recordStarts(log).at(-1)!
        tornSize = log.length - 5
        truncateSync(file, tornSize)
      })

      it("verify reports the torn tail (exit 1) without cutting it; reads leave it too; `repair` cuts it, says so, and records the dead run; then the store verifies", async () => {
        const [text, json] = await Promise.all([cli(["verify", "--dir", torn]), cli(["verify", "--json", "--dir", torn])])
        expect(text.status).toBe(1)
        expect(text.stderr).toContain(`at byte offset ${lastOffset}`)
        expect(text.stderr).toMatch(new RegExp(`^ {2}torn-tail: the last ${tornSize - lastOffset} bytes from byte offset ${lastOffset} are an incomplete append`, "m"))
        expect(json.status).toBe(1)
        const report = JSON.parse(json.stdout) as { ok: boolean; events: number; findings: Array<{ kind: string; offset?: number }> }
        expect(report.ok).toBe(false)
        expect(report.events).toBe(FIRST_DEMO_EXTRA + 2 * EVENTS_PER_DEMO - 1)
        expect(report.findings).toHaveLength(1)
        expect(report.findings[0]).toMatchObject({ kind: "torn-tail", file, offset: lastOffset })
        expect(statSync(file).size).toBe(tornSize)

        // The torn record was the newest run's RunEnded (the second sweep's parent), so without it that run has no end.
        const lastEvent = JSON.parse(storedJson(log).at(-1)!) as EventJson
        expect(lastEvent.type).toBe("RunEnded")
        const listed = await cli(["runs", "--json", "--dir", torn])
        expectOk(listed)
        expect(listed.stderr).toBe("")
        // A read cuts nothing and appends nothing: the file is byte for byte the torn one.
        expect(readFileSync(file).equals(log.subarray(0, tornSize))).toBe(true)
        const after = parseListing<RunJson>(listed.stdout, "runs")
        expect(after).toHaveLength(2 * RUNS_PER_DEMO)
        expect(after.filter((r) => r.status === "FINISHED")).toHaveLength(2 * RUNS_PER_DEMO - 1)
        const cutRun = after.find((r) => `run-${r.id}` === lastEvent.stream)!
        // The run's process (the demo) is gone: the read shows it KILLED, saying it is not recorded yet.
        expect(cutRun.status).toBe("KILLED")
        expect((cutRun as RunJson & { error: { message: string } | null }).error?.message).toMatch(/exited without ending the run .*not yet recorded in the log \(`runledger repair` records it\)/)

        const repaired = await cli(["repair", "--dir", torn])
        expectOk(repaired)
        const savedTo = new RegExp(`^Cut off a torn tail of ${tornSize - lastOffset} bytes at byte offset ${lastOffset} \\(the record has no end \\(an interrupted write\\)\\); the bytes are kept in (.+)\\.$`, "m").exec(repaired.stdout)?.[1]
        expect(savedTo, repaired.stdout).toBeDefined()
        // Nothing is thrown away: the cut bytes are kept beside the log.
        expect(readFileSync(savedTo!).equals(log.subarray(lastOffset, tornSize))).toBe(true)
        expect(repaired.stdout).toContain(`Recorded 1 run(s) whose process is gone (or lease ran out) as KILLED: ${cutRun.id}.`)
        const now = readFileSync(file)
        expect(now.subarray(0, lastOffset).equals(log.subarray(0, lastOffset))).toBe(true) // the good records are untouched
        const appended = storedJson(now.subarray(lastOffset)).map((json) => JSON.parse(json) as EventJson)
        expect(appended).toHaveLength(1)
        expect(appended[0]).toMatchObject({ type: "RunEnded", stream: lastEvent.stream, data: { status: "KILLED" } })

        const [again, verified, twice] = await Promise.all([cli(["runs", "--json", "--dir", torn]), cli(["verify", "--dir", torn]), cli(["repair", "--dir", torn])])
        expectOk(again)
        expect(again.stderr).toBe("")
        expect(parseListing<RunJson>(again.stdout, "runs").find((r) => r.id === cutRun.id)!.status).toBe("KILLED")
        expectOk(verified)
        expect(verified.stdout).toMatch(new RegExp(`^OK: ${FIRST_DEMO_EXTRA + 2 * EVENTS_PER_DEMO} events in ${STREAMS} streams`))
        expectOk(twice)
      })
    })
  })
})

// ---------------------------------------------------------------------------------------------

describe("bad usage", () => {
  let root: string
  let empty: string

  beforeAll(() => {
    root = freshRoot()
    empty = join(root, "empty")
    mkdirSync(empty)
  })

  it("bad subcommands, flags, arguments and values exit 2 with one line on stderr", async () => {
    const never = join(root, "never")
    const cases: Array<[ReadonlyArray<string>, RegExp]> = [
      [["frobnicate"], /^runledger: Unknown subcommand "frobnicate" for "runledger" \(see runledger --help\)$/],
      [["runs", "--bogus", "--dir", empty], /^runledger runs: Unrecognized flag: --bogus .*\(see runledger runs --help\)$/],
      [["show", "--dir", empty], /^runledger show: Missing required argument: run /],
      [["runs", "--dir", empty, "--experiment"], /Missing value for flag --experiment/],
      [["demo", "--epochs", "x", "--dir", never], /^runledger demo: Invalid value for flag --epochs: "x"/]
    ]
    const results = await Promise.all(cases.map(([args]) => cli(args)))
    results.forEach((r, i) => expectUsageError(r, cases[i][1]))
    expect(existsSync(never)).toBe(false) // a parse error runs nothing
  })

  it("a refused demo creates nothing", async () => {
    const dir = join(root, "refused")
    const refused = await cli(["demo", "--epochs", "0", "--dir", dir])
    expectUsageError(refused, "--epochs must be between 1 and 10000, got 0.")
    expect(existsSync(join(dir, "events.log"))).toBe(false)
    const runs = await cli(["runs", "--dir", dir])
    expect(runs.status, runs.stderr).toBe(2)
    expect(runs.stderr).toContain("No runledger store")
  })

  it("reading a missing store exits 2, points to `runledger demo`, and creates nothing", async () => {
    const missing = join(root, "missing")
    const commands = [["runs"], ["events"]]
    const results = await Promise.all([
      ...commands.map((c) => cli([...c, "--dir", empty])),
      cli(["runs", "--dir", missing])
    ])
    for (const r of results) expectUsageError(r, "Run `runledger demo` to make one")
    expect(results[0].stderr).toBe(`runledger: No runledger store in ${empty}. Run \`runledger demo\` to make one, or pass --dir (or set RUNLEDGER_DIR).\n`)
    expect(results.at(-1)!.stderr).toContain(`No runledger store in ${missing}.`)
    expect(existsSync(join(empty, "events.log"))).toBe(false)
    expect(existsSync(missing)).toBe(false)
  })

  it("--help exits 0 and lists the subcommands; --version prints the version", async () => {
    const [help, version] = await Promise.all([cli(["--help"]), cli(["--version"])])
    expectOk(help)
    expect(help.stderr).toBe("")
    const section = help.stdout.slice(help.stdout.indexOf("SUBCOMMANDS"))
    for (const name of SUBCOMMANDS) expect(section).toMatch(new RegExp(`^ {2}${name}\\s{2,}\\S`, "m"))
    expect(help.stdout).toContain("--dir")
    expectOk(version)
    expect(version.stdout.trim()).toBe("runledger v0.1.0")
  })
})

// ---------------------------------------------------------------------------------------------

/**
 * A small store written through the library (no demo, so it is quick): experiment "small" with two
 * FINISHED runs, one FAILED and one KILLED (the crashed ones have the best `acc`), two JSON
 * artifacts under good-a's model/, and a model "m" registered from good-a's model/weights.json.
 */
const smallStore = async (dir: string) => {
  const { openTracker } = await import("../src/index.ts")
  const tracker = await openTracker({ dir })
  try {
    const log = async (name: string, model: string, acc: ReadonlyArray<number>, status: "FINISHED" | "FAILED" | "KILLED") => {
      const run = await tracker.startRun({ experiment: "small", name })
      await run.logParams({ model })
      for (const [step, value] of acc.entries()) await run.logMetric("acc", value, { step })
      if (name === "good-a") {
        await run.logJson({ weights: [1, 2] }, "model/weights.json")
        await run.logJson({ layers: 2 }, "model/config.json")
      }
      await run.end({ status })
      return run.id
    }
    const ids = {
      goodA: await log("good-a", "a", [0.5, 0.6, 0.7], "FINISHED"),
      goodB: await log("good-b", "b", [0.8], "FINISHED"),
      crashed: await log("crashed", "a", [0.99], "FAILED"),
      killed: await log("killed", "b", [0.95], "KILLED")
    }
    await tracker.createModelVersion("m", { runId: ids.goodA, artifactPath: "model/weights.json", register: { description: "" } })
    return ids
  } finally {
    await tracker.close()
  }
}

/** Run `jobs` at most `width` at a time (each CLI process opens DuckDB; the machine has 2 cores), in order. */
const few = async <A>(jobs: ReadonlyArray<() => Promise<A>>, width = 3): Promise<A[]> => {
  const results: A[] = new Array(jobs.length)
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++
      results[i] = await jobs[i]()
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker))
  return results
}

describe("a small store written through the library", { timeout: 180_000 }, () => {
  let root: string
  let store: string
  let ids: Awaited<ReturnType<typeof smallStore>>
  /** A copy of the store, for an analytics command that runs beside others (the read model is one process's). */
  const copy = storeCopies(() => root, () => store)

  beforeAll(async () => {
    root = freshRoot()
    store = join(root, "store")
    ids = await smallStore(store)
  })

  it("every listing's --json is one object: the items under their plural name and nextPageToken (null on the last page)", async () => {
    const listings: Array<[ReadonlyArray<string>, string, number]> = [
      [["runs", "--json", "--dir", store], "runs", 4],
      [["runs", "--filter", "params.model = 'a'", "--json", "--dir", copy()], "runs", 2],
      [["runs", "--order-by", "metrics.acc DESC", "--max", "1", "--json", "--dir", copy()], "runs", 1],
      [["experiments", "--json", "--dir", store], "experiments", 1],
      [["models", "--json", "--dir", store], "models", 1],
      [["models", "list", "--json", "--dir", store], "models", 1],
      [["models", "versions", "m", "--json", "--dir", store], "versions", 1],
      [["history", "good-a", "acc", "--json", "--dir", store], "points", 3],
      [["rank", "--metric", "acc", "--goal", "max", "--json", "--dir", copy()], "runs", 2]
    ]
    const results = await few(listings.map(([args]) => () => cli(args)))
    results.forEach((r, i) => {
      const [args, kind, count] = listings[i]
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0)
      expect(parseListing(r.stdout, kind), args.join(" ")).toHaveLength(count)
      const page = JSON.parse(r.stdout) as { nextPageToken: string | null }
      // Only the --max 1 search has a further page.
      if (args.includes("--max")) expect(page.nextPageToken).toMatch(/^[A-Za-z0-9_-]+$/)
      else expect(page.nextPageToken, args.join(" ")).toBeNull()
    })
    // Paged and unpaged listings of the same runs agree.
    const all = parseListing<RunJson>(results[0].stdout, "runs")
    expect(parseListing<RunJson>(results[1].stdout, "runs").map((r) => r.name).sort()).toEqual(["crashed", "good-a"])
    expect(all.map((r) => r.id).sort()).toEqual(Object.values(ids).sort())
  })

  it("a small store's searches (runs --filter, --order-by) are answered from the log: DuckDB's read model is never made", async () => {
    const dir = copy()
    rmSync(join(dir, "readmodel.duckdb"), { force: true })
    rmSync(join(dir, "readmodel.duckdb.wal"), { force: true })
    const [filtered, ordered] = await few([
      () => cli(["runs", "--filter", "params.model = 'b'", "--json", "--dir", dir]),
      () => cli(["runs", "--order-by", "metrics.acc DESC", "--max", "2", "--json", "--dir", dir])
    ], 1)
    expectOk(filtered)
    expect(parseListing<RunJson>(filtered.stdout, "runs").map((r) => r.name).sort()).toEqual(["good-b", "killed"])
    expectOk(ordered)
    expect(parseListing<RunJson>(ordered.stdout, "runs").map((r) => r.name)).toEqual(["crashed", "killed"])
    expect(existsSync(join(dir, "readmodel.duckdb"))).toBe(false)
  })

  it("rank ranks FINISHED runs only and says what it left out; --all-statuses ranks every run; --filter narrows the runs", async () => {
    const [text, all, filtered] = await few([
      () => cli(["rank", "--metric", "acc", "--goal", "max", "--dir", copy()]),
      () => cli(["rank", "--metric", "acc", "--goal", "max", "--all-statuses", "--dir", copy()]),
      () => cli(["rank", "--metric", "acc", "--goal", "max", "--filter", "params.model = 'a'", "--json", "--dir", copy()])
    ])
    for (const r of [text, all, filtered]) expectOk(r)
    const rows = lines(text.stdout)
    expect(rows[0]).toMatch(/^RANK\s+RUN\s+ID\s+ACC \(last\)$/)
    expect(rows.slice(1, 3).map((l) => l.trim().split(/\s+/).slice(0, 2))).toEqual([["1", "good-b"], ["2", "good-a"]])
    expect(rows.slice(3)).toEqual(["Only FINISHED runs are ranked; left out: 1 FAILED, 1 KILLED (--all-statuses includes them)."])

    const allRows = lines(all.stdout)
    expect(allRows[0]).toMatch(/^RANK\s+RUN\s+ID\s+STATUS\s+ACC \(last\)$/)
    expect(allRows.slice(1, 5).map((l) => l.trim().split(/\s+/).filter((_, i) => i !== 2))).toEqual([
      ["1", "crashed", "FAILED", "0.99"],
      ["2", "killed", "KILLED", "0.95"],
      ["3", "good-b", "FINISHED", "0.8"],
      ["4", "good-a", "FINISHED", "0.7"]
    ])
    expect(allRows.slice(5)).toEqual(["Runs of every status are ranked."])

    expect(JSON.parse(filtered.stdout)).toEqual({
      runs: [expect.objectContaining({ rank: 1, runName: "good-a", runId: ids.goodA, status: "FINISHED", score: 0.7 })],
      nextPageToken: null,
      statuses: "FINISHED",
      leftOut: { FAILED: 1 }
    })
  })

  it("stats gives each method its own verdict, explains a disagreement, warns below 5 runs a group; a group under 2 runs is refused (exit 2)", async () => {
    // Two runs a group, [0, 1] against [2, 3]: the bootstrap interval [1, 3] excludes 0, Welch's p is 0.106.
    const dir = join(root, "stats")
    const { openTracker } = await import("../src/index.ts")
    const tracker = await openTracker({ dir })
    for (const [model, acc] of [["a", 0], ["a", 1], ["b", 2], ["b", 3]] as const) {
      const run = await tracker.startRun({ experiment: "s" })
      await run.logParams({ model })
      await run.logMetric("acc", acc)
      await run.end()
    }
    await tracker.close()
    const args = ["stats", "--a", "params.model = 'a'", "--b", "params.model = 'b'", "--metric", "acc"]
    const [text, json, tooFew] = await few([
      () => cli([...args, "--dir", dir]),
      () => cli([...args, "--json", "--dir", copy()]),
      () => cli(["stats", "--a", "params.model = 'a'", "--b", "attributes.run_name = 'good-b'", "--metric", "acc", "--dir", copy()])
    ])
    expectOk(text)
    expect(text.stdout).toBe(
      [
        "acc (each run's latest value): B - A = 2",
        "",
        "  GROUP  RUNS  MEAN  FILTER",
        "  A         2   0.5  params.model = 'a'",
        "  B         2   2.5  params.model = 'b'",
        "",
        "  Welch's t-test          t = 2.82843, df = 2, p = 0.105573:  not significant at the 5% level (p >= 0.05)",
        "  95% bootstrap interval  [1, 3] of B - A (10000 resamples):  excludes 0: B differs from A",
        "",
        "  The two disagree. Welch's test allows for not knowing each group's true spread (the t distribution widens for",
        "  few runs); the percentile bootstrap only resamples the values seen, so with few runs its interval is too narrow.",
        "  Neither settles it: log more runs per group.",
        "",
        "Warning: Fewer than 5 runs in group A (2) and group B (2): with so few runs neither result is reliable; log more runs per group.",
        ""
      ].join("\n")
    )
    expectOk(json)
    const r = JSON.parse(json.stdout) as { a: { runs: number; excluded: number }; verdict: Record<string, unknown>; warnings: string[] }
    // The small store's groups: a is good-a and crashed, b is good-b and killed.
    expect(r.a).toMatchObject({ runs: 2, excluded: 0 })
    expect(r.verdict).toEqual({ alpha: expect.closeTo(0.05, 12), welchSignificant: expect.any(Boolean), intervalExcludesZero: expect.any(Boolean), agree: expect.any(Boolean) })
    expect(r.warnings).toEqual([expect.stringContaining("Fewer than 5 runs in group A (2) and group B (2)")])
    expectUsageError(tooFew, `Group b ("attributes.run_name = 'good-b'") has 1 run(s) with a value of acc; a test needs at least 2. Widen the filter, or log more runs.`)
  })

  it("exit status: 0 ok, 1 damage (a missing artifact blob), 2 bad usage or an unknown thing (rank --metric nope, history RUN nope)", async () => {
    const damaged = copy()
    const weights = parseListing<RunJson>((await cli(["runs", "--json", "--dir", store])).stdout, "runs")
      .find((r) => r.name === "good-a")!.artifacts.find((a) => a.path === "model/weights.json")!
    rmSync(join(damaged, "artifacts", weights.sha256.slice(0, 2), weights.sha256.slice(2)))
    const [rank, history, blob, fine] = await few([
      () => cli(["rank", "--metric", "nope", "--goal", "max", "--dir", copy()]),
      () => cli(["history", "good-a", "nope", "--dir", store]),
      () => cli(["models", "download", "models:/m/1", "--out", join(root, "never.json"), "--dir", damaged]),
      () => cli(["rank", "--metric", "acc", "--goal", "max", "--filter", "params.model = 'zzz'", "--dir", copy()])
    ])
    expectUsageError(rank, `runledger: No run has a metric "nope"; \`runledger show RUN\` lists a run's metrics.`)
    expectUsageError(history, `has no metric "nope"`)
    expect(blob.status, blob.stderr).toBe(1)
    expect(blob.stdout).toBe("")
    expect(lines(blob.stderr)).toEqual([`runledger: No artifact blob ${weights.sha256} in ${join(damaged, "artifacts")}.`])
    expect(existsSync(join(root, "never.json"))).toBe(false)
    // A known metric that the filter's runs lack is an empty answer, not an error.
    expectOk(fine)
    expect(lines(fine.stdout)[0]).toBe("No FINISHED run the filter selects has a value of acc.")
  })

  it("small defects: compare with one run, an empty deleted view, events --from N inclusive, download --out -, plot to a pipe", async () => {
    const plotDir = join(root, "plot-cwd")
    mkdirSync(plotDir)
    const [one, deleted, from, events, single, folder, plot] = await few([
      () => cli(["compare", "good-a", "--dir", store]),
      () => cli(["experiments", "--view", "deleted", "--dir", store]),
      () => cli(["events", "--from", "3", "--json", "--dir", store]),
      () => cli(["events", "--json", "--dir", store]),
      () => cli(["models", "download", "models:/m/1", "--out", "-", "--dir", store]),
      () => cli(["models", "download", "runs:/good-a/model/", "--out", "-", "--dir", store]),
      () => cli(["plot", "good-a", "good-b", "--metric", "acc", "--dir", copy()], { cwd: plotDir })
    ])
    expectUsageError(one, `compare needs two or more runs, got one ("good-a")`)
    expectOk(deleted)
    expect(deleted.stdout).toBe("No deleted experiments.\n")
    // --from N starts with event N, as --as-of N includes event N.
    expectOk(from)
    const all = lines(events.stdout).map((l) => JSON.parse(l) as EventJson)
    expect(lines(from.stdout).map((l) => (JSON.parse(l) as EventJson).position)).toEqual(all.slice(2).map((e) => e.position))
    expect((JSON.parse(lines(from.stdout)[0]) as EventJson).position).toBe(3)
    // One file's bytes on stdout, and no file named "-"; a folder of two files is refused.
    expectOk(single)
    expect(JSON.parse(single.stdout)).toEqual({ weights: [1, 2] })
    expect(existsSync(join(tmpdir(), "-"))).toBe(false)
    expectUsageError(folder, "runs:/good-a/model/ holds 2 files (")
    expect(folder.stderr).toContain("); --out - writes one file to stdout. Give a folder instead, or name one file.")
    for (const f of ["config.json", "weights.json"]) expect(folder.stderr).toContain(f)
    // plot without --out into a pipe: the SVG on stdout, no ./chart.svg.
    expectOk(plot)
    expect(plot.stdout.startsWith("<svg xmlns=")).toBe(true)
    expect(plot.stdout.trimEnd().endsWith("</svg>")).toBe(true)
    expect(readdirSync(plotDir)).toEqual([])
  })

  it("plot without --out on a terminal is refused and writes nothing", async () => {
    // `script` gives the child a pseudo-terminal for stdout, as a user's shell would.
    const dir = copy()
    const cwd = join(root, "tty-cwd")
    mkdirSync(cwd)
    const command = [process.execPath, BIN, "plot", "good-a", "--metric", "acc", "--dir", dir].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ")
    const r = await new Promise<{ status: number | null; output: string }>((done) => {
      const child = spawn("script", ["-qec", command, "/dev/null"], { cwd, stdio: ["ignore", "pipe", "pipe"] })
      let output = ""
      child.stdout!.setEncoding("utf8").on("data", (t: string) => (output += t))
      child.stderr!.setEncoding("utf8").on("data", (t: string) => (output += t))
      child.on("close", (status) => done({ status, output }))
    })
    expect(r.status, r.output).toBe(2)
    expect(r.output).toContain("plot writes an SVG chart: give --out FILE.svg, or redirect stdout")
    expect(r.output).not.toContain("<svg")
    expect(readdirSync(cwd)).toEqual([])
  })

  it("help: only --help and --version as global flags, every flag and argument described, the filter grammar at the root", async () => {
    const paths = [
      [], ["demo"], ["experiments"], ["experiments", "rename"], ["experiments", "delete"], ["experiments", "restore"], ["experiments", "fork"],
      ["runs"], ["runs", "delete"], ["runs", "restore"], ["show"], ["history"], ["compare"], ["rank"], ["stats"], ["plot"], ["sql"], ["export"],
      ["models"], ["models", "list"], ["models", "show"], ["models", "versions"], ["models", "register"], ["models", "promote"], ["models", "alias"],
      ["models", "download"], ["log"], ["verify"], ["events"], ["rebuild"]
    ]
    const helps = await few(paths.map((p) => () => cli([...p, "--help"])))
    helps.forEach((h, i) => {
      const what = `runledger ${paths[i].join(" ")} --help`
      expect(h.status, `${what}: ${h.stderr}`).toBe(0)
      for (const flag of ["--wizard", "--completions", "--log-level"]) expect(h.stdout, what).not.toContain(flag)
      let section = ""
      for (const line of h.stdout.split("\n")) {
        if (/^[A-Z]/.test(line)) section = line
        else if (/^(ARGUMENTS|FLAGS|INHERITED FLAGS|GLOBAL FLAGS)$/.test(section) && line.startsWith("  ")) {
          // "  --width integer    Chart width in pixels": a name, two or more spaces, a description.
          const described = /^ {2}\S.*?\S {2,}(\S.*)$/.exec(line.trimEnd())
          expect(described, `${what}: ${JSON.stringify(line)} has no description`).not.toBeNull()
          expect(described![1], `${what}: ${JSON.stringify(line)}`).not.toBe("(optional)")
        }
      }
    })
    const root = helps[0].stdout
    expect(root).toContain("Filters (runs --filter, rank --filter, export --filter, stats --a/--b): MLflow's search syntax plus OR, NOT, ( ).")
    for (const piece of ["metrics.KEY > 0.9", "LIKE ILIKE", "IN / NOT IN", "a AND b, a OR b, NOT a", "Order (--order-by)"]) expect(root).toContain(piece)
    expect(root).toMatch(/^Exit status: 0 success; 1 the store failed or is damaged/m)
  })

  it("every `runledger ...` hint in the sources names a command and flags that exist", async () => {
    // In template literals the closing backtick is escaped: strip the backslash before it.
    const sources = execFileSync("git", ["grep", "-hoE", "`runledger [a-z][^`$]*", "--", "packages/*/src/**"], { cwd: repoRoot, encoding: "utf8" })
    const hints = [...new Set(lines(sources).map((l) => l.slice(1).replace(/\\$/, "").trim()))]
    expect(hints.length).toBeGreaterThan(5)
    const subcommands = new Set(["demo", "experiments", "runs", "show", "history", "compare", "rank", "stats", "plot", "sql", "export", "models", "log", "verify", "events", "rebuild", "repair", "anchor", "sync", "server", "ui", "rename", "delete", "restore", "fork", "list", "versions", "register", "promote", "alias", "download"])
    const checks = hints.map((hint) => {
      const words = hint.split(/\s+/).slice(1)
      const path: string[] = []
      for (const w of words) {
        if (subcommands.has(w) && path.length < 2) path.push(w)
        else break
      }
      return { hint, path, flags: words.filter((w) => w.startsWith("--")).map((w) => w.replace(/[=.,;)].*$/, "")) }
    })
    const helps = await few(checks.map((c) => () => cli([...c.path, "--help"])))
    checks.forEach((c, i) => {
      expect(c.path.length, `${c.hint}: names no command`).toBeGreaterThan(0)
      expect(helps[i].status, `${c.hint}: ${helps[i].stderr}`).toBe(0)
      for (const flag of c.flags) expect(helps[i].stdout, `${c.hint}: ${flag} is not a flag of runledger ${c.path.join(" ")}`).toMatch(new RegExp(`^\\s+${flag}[ ,]`, "m"))
    })
  })

  it("show caps the metric rows of a run with 8,000 keys, with a note; --json has every one", async () => {
    const dir = join(root, "wide")
    const { openTracker } = await import("../src/index.ts")
    const tracker = await openTracker({ dir })
    const keys = Array.from({ length: 8000 }, (_, k) => `m${String(k).padStart(5, "0")}`)
    const run = await tracker.startRun({ experiment: "wide", name: "wide" })
    for (let step = 0; step < 2; step++) await run.logBatch({ metrics: keys.map((key, k) => ({ key, value: k + step, step, timestamp: 1_700_000_000_000 + step })) })
    await run.end()
    await tracker.close()
    const [text, json] = await few([() => cli(["show", "wide", "--dir", dir]), () => cli(["show", "wide", "--json", "--dir", dir])])
    expectOk(text)
    const shown = lines(text.stdout)
    const header = shown.indexOf("Metrics (latest; the first 50 of 8000)")
    expect(header, text.stdout.slice(0, 2000)).toBeGreaterThan(0)
    expect(shown[header + 1]).toMatch(/^\s+KEY\s+VALUE\s+STEP\s+POINTS\s+HISTORY$/)
    const rows = shown.slice(header + 2, header + 52)
    rows.forEach((l, k) => expect(l).toMatch(new RegExp(`^\\s+${keys[k]}\\s+${k + 1}\\s+1\\s+2\\s+\\S+$`)))
    expect(shown[header + 52]).toBe("  … and 7950 more; use --json for every metric.")
    expectOk(json)
    const full = JSON.parse(json.stdout) as RunJson
    expect(Object.keys(full.metrics)).toHaveLength(8000)
    keys.forEach((key, k) => expect(full.metrics[key]).toBe(k + 1))
  })

  it("control characters in stored names, tags, params and messages reach no terminal (runs, show, log, events, experiments, compare, errors); --json is exact", async () => {
    const dir = join(root, "hostile")
    // Names refuse C0 and DEL when logged, but C1 (U+009B is a one-character CSI) and bidi
    // overrides pass; tags and params take any text, ESC and BEL included.
    const hostile = {
      experiment: "exp\u009b31mred",
      name: "run\u009b2J\u202egnp.exe",
      tag: "clear\x1b[2Jscreen\x1b]0;title\x07",
      param: "bell\x07\u202eevil\nforged line",
      error: "boom\x1b[1A\x1b[2Kfaked"
    }
    const { openTracker } = await import("../src/index.ts")
    const tracker = await openTracker({ dir })
    const run = await tracker.startRun({ experiment: hostile.experiment, name: hostile.name, tags: { note: hostile.tag } })
    await run.logParams({ model: hostile.param })
    await run.logMetric("acc", 0.5)
    await run.end({ status: "FAILED", error: new Error(hostile.error) })
    const other = await tracker.startRun({ experiment: hostile.experiment, name: "other" })
    await other.logParams({ model: "plain" })
    await other.end()
    await tracker.close()

    const prefix = run.id.slice(0, 12)
    const commands = [["runs"], ["show", prefix], ["log", prefix], ["events"], ["experiments"], ["compare", prefix, "other"], ["show", "nope\u009b2J"]]
    const results = await few(commands.map((c) => () => cli([...c, "--dir", dir])))
    const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
    results.forEach((r, i) => {
      const what = commands[i].join(" ")
      expect(controls.test(r.stdout), `${what}: ${JSON.stringify(r.stdout)}`).toBe(false)
      expect(controls.test(r.stderr), `${what}: ${JSON.stringify(r.stderr)}`).toBe(false)
    })
    const [runs, show, log, events, experiments, compare, unknown] = results
    for (const r of [runs, show, log, events, experiments, compare]) expectOk(r)
    expect(runs.stdout).toContain("run\\x9b2J\\u202egnp.exe")
    expect(show.stdout).toContain(`Run ${run.id}  run\\x9b2J\\u202egnp.exe`)
    expect(show.stdout).toContain("status      FAILED: boom\\x1b[1A\\x1b[2Kfaked")
    expect(show.stdout).toMatch(/^\s+note\s+clear\\x1b\[2Jscreen\\x1b\]0;title\\x07$/m)
    // A newline in a value is escaped: it cannot forge a line of output.
    expect(show.stdout).toMatch(/^\s+model\s+bell\\x07\\u202eevil\\nforged line$/m)
    expect(lines(show.stdout).some((l) => l.startsWith("forged line"))).toBe(false)
    expect(events.stdout).toContain("model=bell\\x07\\u202eevil\\nforged line")
    expect(lines(events.stdout)).toHaveLength(8)
    expect(log.stdout).toContain("run\\x9b2J\\u202egnp.exe in experiment")
    expect(experiments.stdout).toContain("exp\\x9b31mred")
    expect(compare.stdout).toContain("run\\x9b2J\\u202egnp.exe")
    expectUsageError(unknown, 'No run with id, id prefix or name "nope\\x9b2J"')

    // --json keeps every string exact.
    const [json, ndjson] = await few([() => cli(["show", prefix, "--json", "--dir", dir]), () => cli(["events", "--json", "--dir", dir])])
    const shown = JSON.parse(json.stdout) as RunJson & { error: { message: string } }
    expect([shown.name, shown.experiment, shown.tags.note, shown.params.model, shown.error.message]).toEqual([hostile.name, hostile.experiment, hostile.tag, hostile.param, hostile.error])
    expect(lines(ndjson.stdout).map((l) => JSON.parse(l) as EventJson).find((e) => e.type === "ParamsLogged")!.data).toEqual({ params: { model: hostile.param } })
  })

  it("export takes the format from --out's extension; a contradicting --format or an unknown extension is refused and writes nothing", async () => {
    const out = join(root, "exports")
    const file = (name: string) => join(out, name)
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [["--out", file("runs.csv")], "csv"],
      [["--out", file("runs.parquet")], "parquet"],
      [["--out", file("runs.feather")], "arrow"],
      [["--out", file("runs.ARROW")], "arrow"],
      [["--out", file("runs.dat"), "--format", "csv"], "csv"]
    ]
    const refused: Array<[ReadonlyArray<string>, string]> = [
      [["--out", file("wrong.csv"), "--format", "parquet"], `--out "${file("wrong.csv")}" has the extension .csv (csv) but --format is parquet`],
      [["--out", file("unknown.dat")], `Cannot tell the format of --out "${file("unknown.dat")}" from its extension .dat`],
      [["--out", file("bare")], "from its missing extension"]
    ]
    const results = await few([...cases, ...refused].map(([args]) => () => cli(["export", ...args, "--dir", copy()])))
    cases.forEach(([args, format], i) => {
      const r = results[i]
      expectOk(r)
      expect(r.stdout).toContain(`(${format})`)
      const bytes = readFileSync(args[1])
      if (format === "csv") expect(bytes.toString("utf8").split("\n")[0]).toMatch(/^run_id,experiment_id,experiment,run_name,/)
      else if (format === "parquet") expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(["PAR1", "PAR1"])
      else expect(bytes.subarray(0, 6).toString()).toBe("ARROW1")
    })
    refused.forEach(([args, message], i) => {
      expectUsageError(results[cases.length + i], message)
      expect(existsSync(args[1])).toBe(false)
    })
  })
})
