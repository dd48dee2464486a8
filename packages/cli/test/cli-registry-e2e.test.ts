/**
 * End-to-end tests of the model registry and the lifecycle commands of the `runledger` executable:
 * `models` (register, promote, alias, show, versions, download, --as-of), `log`, `runs delete|restore`,
 * `experiments rename|fork|delete|restore` and `history --all`. Every check spawns
 * the bin (the published bundle, harness.ts) against one store made by `demo --epochs 2` and looks at what a
 * user sees (stdout, stderr, exit status) and what lands on disk.
 *
 * The tests of the main suite run in order and build on each other (each one writes to the store
 * what the next expects); independent reads within a test run side by side.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import { cpSync, readFileSync, writeFileSync } from "node:fs"
import { hostname, userInfo } from "node:os"
import { join } from "node:path"

import { cli, type CliResult, expectOk, expectUsageError, freshRoot, lines } from "./harness.ts"
import { type EventJson, parseListing, recordStarts, type RunJson, storedJson } from "./formats.ts"


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex")
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")





interface ModelJson {
  name: string
  description: string
  versions: number
  latest: Record<string, number>
  aliases: Record<string, number>
}

/** The model the demo registers (its two best runs as versions 1 and 2). */
const DEMO_MODEL = "demo-classifier"

interface VersionJson {
  name: string
  version: number
  stage: string
  aliases: string[]
  runId: string
  artifactPath: string
  createdAt: number
  updatedAt: number
}

interface ExperimentJson {
  id: string
  name: string
  lifecycle: string
  parentId: string | null
  overrides: Record<string, string | number | boolean>
  runs: number
}

/** The leaderboard rows printed by `demo`: rank, run name, model, val_accuracy, ..., run id. */
const leaderboardRows = (stdout: string) =>
  lines(stdout)
    .map((l) => /^\s*(\d+)\s+(\S+)\s+(mlp|logistic-regression)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([0-9a-f]{32})$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ rank: Number(m[1]), name: m[2], valAccuracy: Number(m[4]), runId: m[8] }))

const parseNdjson = (stdout: string): EventJson[] => lines(stdout).map((l) => JSON.parse(l) as EventJson)

/** The events of one stream as stored in an events.log. */
const storedEvents = (log: Buffer, stream: string): EventJson[] =>
  storedJson(log)
    .map((json) => JSON.parse(json) as EventJson)
    .filter((e) => e.stream === stream)

/** What `log` prints in its WHO column for an event. */
const who = (e: EventJson): string => `${e.meta?.actor ?? "?"}@${e.meta?.host ?? "?"}${e.meta?.pid !== undefined ? ` pid ${e.meta.pid}` : ""}`

/** The rows of a `log` table, split on its columns (VERSION WHEN WHO WHAT DETAILS) by the header's offsets. */
const logRows = (stdout: string) => {
  const [header, ...rows] = lines(stdout)
  expect(header).toMatch(/^VERSION\s+WHEN\s+WHO\s+WHAT\s+DETAILS$/)
  const at = ["WHEN", "WHO", "WHAT", "DETAILS"].map((h) => header.indexOf(h))
  return rows.map((l) => ({
    version: Number(l.slice(0, at[0]).trim()),
    when: l.slice(at[0], at[1]).trim(),
    who: l.slice(at[1], at[2]).trim(),
    what: l.slice(at[2], at[3]).trim(),
    details: l.slice(at[3]).trim()
  }))
}

// ---------------------------------------------------------------------------------------------

describe("the registry and lifecycle commands on one demo store", () => {
  let root: string
  let store: string
  let log: () => Buffer
  /** `runledger ...args --dir <store>` */
  let rl: (...args: string[]) => Promise<CliResult>
  let runs: RunJson[]
  /** The leaderboard's first and second rows, and its last (the run the lifecycle tests delete). */
  let best: RunJson
  let second: RunJson
  let worst: RunJson
  let experimentId: string
  /** The leaderboard's six runs (the demo's sweep runs are the other four). */
  let candidates: RunJson[]
  /** Distinct artifact blobs the demo stored: what verify checks. */
  let blobs: number
  const prefix = (r: RunJson) => r.id.slice(0, 12)
  const weightsOf = (r: RunJson) => r.artifacts.find((a) => a.path === "model/weights.json")!
  /** The log position and a time (ISO) taken after version 2 was created, before it was promoted. */
  let positionBeforeSecondPromotion: number
  let timeBeforeSecondPromotion: string
  /** `models register clf --run <best> --path model/weights.json`, run beside the first `runs --json`. */
  let registered: CliResult

  beforeAll(async () => {
    root = freshRoot()
    store = join(root, "runledger")
    log = () => readFileSync(join(store, "events.log"))
    rl = (...args: string[]) => cli([...args, "--dir", store])
    const demo = await cli(["demo", "--epochs", "2", "--dir", store])
    expect(demo.status, demo.stderr).toBe(0)
    const board = leaderboardRows(demo.stdout)
    expect(board.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6])
    // The first leaderboard row is the best run: register it (checked by the first test) while listing the runs.
    const [listed, register] = await Promise.all([
      rl("runs", "--json"),
      rl("models", "register", "clf", "--run", board[0].runId.slice(0, 12), "--path", "model/weights.json")
    ])
    registered = register
    expect(listed.status, listed.stderr).toBe(0)
    runs = parseListing<RunJson>(listed.stdout, "runs")
    // The six candidates and the sweep (a parent and three children).
    expect(runs).toHaveLength(10)
    candidates = runs.filter((r) => board.some((b) => b.runId === r.id))
    expect(candidates).toHaveLength(6)
    blobs = new Set(runs.flatMap((r) => r.artifacts.map((a) => a.sha256))).size
    const byId = (id: string) => runs.find((r) => r.id === id)!
    best = byId(board[0].runId)
    second = byId(board[1].runId)
    worst = byId(board[5].runId)
    experimentId = best.experimentId
  })

  it("done when: the best run is registered, promoted and downloaded byte for byte; verify passes, and finds one changed byte", async () => {
    // The leaderboard's first row is the run with the highest val_accuracy.
    expect(best.metrics.val_accuracy).toBe(candidates.reduce((m, r) => Math.max(m, r.metrics.val_accuracy), -Infinity))

    expectOk(registered)
    expect(registered.stdout).toBe(`Registered model clf. Created version 1 of clf from runs:/${best.id}/model/weights.json.\n`)
    const promoted = await rl("models", "promote", "clf", "1", "Production")
    expectOk(promoted)
    expect(promoted.stdout).toBe("clf version 1 is now in Production.\n")

    // A copy of the store with one changed byte in the middle of its log.
    const damaged = join(root, "damaged")
    cpSync(store, damaged, { recursive: true })
    const file = join(damaged, "events.log")
    const original = readFileSync(file)
    const middle = recordStarts(original).length >> 1
    const at = recordStarts(original)[middle + 1] - 1 // the last byte of a record in the middle
    const changed = Buffer.from(original)
    changed[at] ^= 0x01
    writeFileSync(file, changed)

    const dl = join(root, "dl")
    const [fromModel, fromRun, shown, verified, damagedVerify] = await Promise.all([
      rl("models", "download", "models:/clf/Production", "--out", `${dl}/prod/`),
      rl("models", "download", `runs:/${best.id}/model/weights.json`, "--out", `${dl}/run/`),
      rl("show", prefix(best), "--json"),
      rl("verify"),
      cli(["verify", "--dir", damaged])
    ])
    for (const r of [fromModel, fromRun, shown, verified]) expectOk(r)
    // download prints the paths it wrote.
    expect(fromModel.stdout).toBe(`${dl}/prod/weights.json\n`)
    expect(fromRun.stdout).toBe(`${dl}/run/weights.json\n`)
    const bytes = readFileSync(`${dl}/prod/weights.json`)
    expect(readFileSync(`${dl}/run/weights.json`).equals(bytes)).toBe(true)
    const artifact = (JSON.parse(shown.stdout) as RunJson).artifacts.find((a) => a.path === "model/weights.json")!
    expect(artifact).toEqual(weightsOf(best))
    expect(bytes.length).toBe(artifact.size)
    expect(sha256(bytes)).toBe(artifact.sha256)
    expect(() => JSON.parse(bytes.toString("utf8"))).not.toThrow()
    // 75 demo events (43 for the candidates, 8 registering demo-classifier, 24 for the sweep) + ModelRegistered,
    // ModelVersionCreated, StagePromoted; experiments + 10 runs + model-demo-classifier + model-clf.
    expect(verified.stdout).toMatch(new RegExp(`^OK: 78 events in 13 streams \\(.+\\), ${blobs} artifacts checked in ${escape(store)}\\.\\n$`))

    // The changed byte: verify exits 1 and names the byte offset of the damaged record.
    const starts = recordStarts(original)
    const recordOffset = starts[middle]
    const record = starts.indexOf(recordOffset) + 1
    expect(record).toBeGreaterThan(1)
    expect(record).toBeLessThan(starts.length)

    expect(damagedVerify.status, damagedVerify.stderr).toBe(1)
    expect(damagedVerify.stdout).toBe("")
    const [head, first] = lines(damagedVerify.stderr)
    expect(head).toContain(`the first bad place is ${file} at byte offset ${recordOffset}:`)
    expect(first).toBe(`  damaged-record: record ${record} at byte offset ${recordOffset}: the checksum does not match the record's bytes`)
    expect(readFileSync(file).equals(changed)).toBe(true) // verify changes nothing
    expect(log().equals(original)).toBe(true) // and the original store is untouched
  })

  it("a second version from another run's folder; taking Production from version 1 needs --archive-existing", async () => {
    const registered = await rl("models", "register", "clf", "--run", prefix(second), "--path", "model")
    expectOk(registered)
    expect(registered.stdout).toBe(`Created version 2 of clf from runs:/${second.id}/model.\n`)

    // Where the log is, and the time, before the second promotion (for --as-of below); and the
    // promotion without --archive-existing, which is refused and appends nothing.
    const before = log()
    const [events, refused] = await Promise.all([rl("events", "--json"), rl("models", "promote", "clf", "2", "Production")])
    expectOk(events)
    const last = parseNdjson(events.stdout).at(-1)!
    expect(last).toMatchObject({ stream: "model-clf", type: "ModelVersionCreated", data: { version: 2, runId: second.id, artifactPath: "model" } })
    positionBeforeSecondPromotion = last.position
    expectUsageError(refused, `Version 1 of "clf" holds Production`)
    expect(refused.stderr).toContain("--archive-existing")
    expect(log().equals(before)).toBe(true)
    await sleep(20)
    timeBeforeSecondPromotion = new Date().toISOString()
    await sleep(20)

    const promoted = await rl("models", "promote", "clf", "2", "Production", "--archive-existing")
    expectOk(promoted)
    expect(promoted.stdout).toBe("clf version 2 is now in Production; archived version 1.\n")

    const dl = join(root, "dl2")
    const [versions, fromStage] = await Promise.all([
      rl("models", "versions", "clf", "--json"),
      rl("models", "download", "models:/clf/Production", "--out", `${dl}/prod`) // a folder version: the folder is created, its files go under it
    ])
    for (const r of [versions, fromStage]) expectOk(r)
    const vs = parseListing<VersionJson>(versions.stdout, "versions")
    expect(vs).toHaveLength(2)
    expect(vs[0]).toMatchObject({ name: "clf", version: 1, stage: "Archived", aliases: [], runId: best.id, artifactPath: "model/weights.json" })
    expect(vs[1]).toMatchObject({ name: "clf", version: 2, stage: "Production", aliases: [], runId: second.id, artifactPath: "model" })
    expect(fromStage.stdout).toBe(`${dl}/prod/weights.json\n`)
    const bytes = readFileSync(`${dl}/prod/weights.json`)
    expect(sha256(bytes)).toBe(weightsOf(second).sha256)
    expect(bytes.length).toBe(weightsOf(second).size)
    expect(weightsOf(second).sha256).not.toBe(weightsOf(best).sha256)
  })

  it("aliases name a version (not a version number); --as-of a log position or a time shows the registry as it was", async () => {
    const pos = String(positionBeforeSecondPromotion)
    const [set, numeric, listAtPos, showAtPos, showAtTime, garbage] = await Promise.all([
      rl("models", "alias", "clf", "champion", "2"),
      rl("models", "alias", "clf", "3", "1"),
      rl("models", "--as-of", pos, "--json"),
      rl("models", "show", "clf", "Production", "--as-of", pos),
      rl("models", "show", "clf", "Production", "--as-of", timeBeforeSecondPromotion),
      rl("models", "--as-of", "last tuesday-ish")
    ])
    for (const r of [set, listAtPos, showAtPos, showAtTime]) expectOk(r)
    expect(set.stdout).toBe("@champion of clf now points to version 2.\n")
    expectUsageError(numeric, `The alias "3" looks like a version number`)

    const then = parseListing<ModelJson>(listAtPos.stdout, "models")
    expect(then.map((m) => m.name)).toEqual(["clf", DEMO_MODEL]) // the demo registered its own model
    expect(then[0]).toMatchObject({ name: "clf", versions: 2, latest: { Production: 1, None: 2 }, aliases: {} })
    expect(showAtPos.stdout.startsWith(`clf version 1: Production\n  source  runs:/${best.id}/model/weights.json\n`)).toBe(true)
    expect(showAtTime.stdout).toBe(showAtPos.stdout)
    expectUsageError(garbage, `--as-of "last tuesday-ish" is neither a log position (a whole number) nor a date/time`)

    const [byAlias, production] = await Promise.all([rl("models", "show", "clf", "@champion", "--json"), rl("models", "show", "clf", "Production")])
    for (const r of [byAlias, production]) expectOk(r)
    expect(JSON.parse(byAlias.stdout)).toMatchObject({ name: "clf", version: 2, stage: "Production", aliases: ["champion"], runId: second.id, artifactPath: "model" })
    expect(production.stdout).toMatch(new RegExp(`^clf version 2: Production, @champion\\n {2}source {2}runs:/${second.id}/model\\n {2}created \\d{4}-\\S+ \\S+, updated \\d{4}-\\S+ \\S+\\n$`))

    const removed = await rl("models", "alias", "clf", "champion", "--delete")
    expectOk(removed)
    expect(removed.stdout).toBe("Deleted @champion of clf.\n")
  })

  it("refused registry commands exit 2 with one line and append nothing; models / models list / --json; log MODEL", async () => {
    const before = log()
    const [badStage, missingPath, missingVersion, bare, list, json, text] = await Promise.all([
      rl("models", "promote", "clf", "1", "Prod"),
      rl("models", "register", "clf", "--run", prefix(best), "--path", "model/missing.json"),
      rl("models", "promote", "clf", "9", "Production"),
      rl("models"),
      rl("models", "list"),
      rl("models", "--json"),
      rl("log", "clf")
    ])
    expectUsageError(badStage, `Unknown stage "Prod"; use one of None, Staging, Production, Archived.`)
    expectUsageError(missingPath, `Run ${best.id} stored no artifact at "model/missing.json"`)
    expect(missingPath.stderr).toContain("model/weights.json") // it names what the run has
    expectUsageError(missingVersion, `Model "clf" has no version 9 (it has 1..2).`)
    expect(log().equals(before)).toBe(true)

    for (const r of [bare, list, json, text]) expectOk(r)
    expect(list.stdout).toBe(bare.stdout)
    const rows = lines(bare.stdout)
    expect(rows).toHaveLength(3)
    expect(rows[0]).toMatch(/^NAME\s+VERSIONS\s+PRODUCTION\s+STAGING\s+ALIASES\s+UPDATED$/)
    expect(rows[1]).toMatch(/^clf\s+2\s+v2\s+-\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    // The demo's model: the runner-up as version 1 (archived when the best, version 2, took Production).
    expect(rows[2]).toMatch(/^demo-classifier\s+2\s+v2\s+-\s+@champion=v2\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(parseListing(json.stdout, "models")).toEqual([
      expect.objectContaining({ name: "clf", description: "", versions: 2, latest: { Archived: 1, Production: 2 }, aliases: {} }),
      expect.objectContaining({ name: DEMO_MODEL, versions: 2, latest: { Archived: 1, Production: 2 }, aliases: { champion: 2 } })
    ])
    const demoVersions = await rl("models", "versions", DEMO_MODEL, "--json")
    expectOk(demoVersions)
    expect(parseListing<VersionJson>(demoVersions.stdout, "versions")).toEqual([
      expect.objectContaining({ version: 1, stage: "Archived", aliases: [], runId: second.id, artifactPath: "model/weights.json" }),
      expect.objectContaining({ version: 2, stage: "Production", aliases: ["champion"], runId: best.id, artifactPath: "model/weights.json" })
    ])

    // log MODEL: every event of the model's stream, in order, with who did it and what it did.
    const stored = storedEvents(before, "model-clf")
    expect(stored.map((e) => e.type)).toEqual(["ModelRegistered", "ModelVersionCreated", "StagePromoted", "ModelVersionCreated", "StagePromoted", "AliasSet", "AliasDeleted"])
    const logged = logRows(text.stdout)
    expect(logged.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(logged.map((r) => r.what)).toEqual(stored.map((e) => e.type))
    expect(logged.map((r) => r.who)).toEqual(stored.map(who))
    for (const r of logged) {
      expect(r.who).toMatch(new RegExp(`^${escape(userInfo().username)}@${escape(hostname())} pid \\d+$`))
      expect(r.when).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    }
    // One `models register` of a new model wrote the first two events; each later command is another process.
    expect(logged[0].who).toBe(logged[1].who)
    expect(new Set(logged.slice(1).map((r) => r.who)).size).toBe(6)
    expect(logged.map((r) => r.details)).toEqual([
      "clf",
      `version 1 from runs:/${best.id}/model/weights.json`,
      "version 1: None -> Production",
      `version 2 from runs:/${second.id}/model`,
      "version 2: None -> Production (archived v1)",
      "@champion -> version 2",
      "@champion (was version 2)"
    ])
  })

  it("runs delete hides a run (still in --view deleted|all and in show); deleting twice is refused; runs restore brings it back; log RUN", async () => {
    const deleted = await rl("runs", "delete", prefix(worst))
    expectOk(deleted)
    expect(deleted.stdout).toBe(`Deleted run ${worst.id} (${worst.name}). It stays in the log; \`runledger runs restore ${prefix(worst)}\` brings it back.\n`)

    const [active, deletedView, allView, shown, again] = await Promise.all([
      rl("runs", "--json"),
      rl("runs", "--view", "deleted"),
      rl("runs", "--view", "all", "--json"),
      rl("show", prefix(worst)),
      rl("runs", "delete", worst.id)
    ])
    for (const r of [active, deletedView, allView, shown]) expectOk(r)
    const ids = (r: CliResult) => parseListing<RunJson>(r.stdout, "runs").map((x) => x.id)
    expect(ids(active)).toEqual(runs.map((r) => r.id).filter((id) => id !== worst.id))
    expect(ids(allView)).toEqual(runs.map((r) => r.id))
    expect(parseListing<RunJson>(allView.stdout, "runs").find((r) => r.id === worst.id)!.lifecycle).toBe("deleted")
    const deletedRows = lines(deletedView.stdout)
    expect(deletedRows).toHaveLength(2)
    expect(deletedRows[1]).toMatch(new RegExp(`^${prefix(worst)}\\s+${escape(worst.name)}\\s+demo-classification\\s+FINISHED \\(deleted\\)\\s`))
    expect(shown.stdout.startsWith(`Run ${worst.id}  ${worst.name}\n`)).toBe(true)
    expect(shown.stdout).toMatch(/^ {2}status {6}FINISHED \(deleted\)$/m)
    expectUsageError(again, `Run ${worst.id} is already deleted.`)

    const restored = await rl("runs", "restore", prefix(worst))
    expectOk(restored)
    expect(restored.stdout).toBe(`Restored run ${worst.id} (${worst.name}).\n`)
    const [after, text] = await Promise.all([rl("runs", "--json"), rl("log", worst.name)])
    for (const r of [after, text]) expectOk(r)
    expect(ids(after)).toEqual(runs.map((r) => r.id))
    expect(parseListing<RunJson>(after.stdout, "runs").find((r) => r.id === worst.id)!.lifecycle).toBe("active")

    // log RUN: the run's whole stream, its deletion and restoration included.
    const stored = storedEvents(log(), `run-${worst.id}`)
    expect(stored.map((e) => e.type)).toEqual(["RunStarted", "ParamsLogged", "MetricsLogged", "ArtifactStored", "ArtifactStored", "ArtifactStored", "RunEnded", "RunDeleted", "RunRestored"])
    const rows = logRows(text.stdout)
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(rows.map((r) => r.what)).toEqual(stored.map((e) => e.type))
    expect(rows.map((r) => r.who)).toEqual(stored.map(who))
    expect(new Set(rows.slice(0, 7).map((r) => r.who)).size).toBe(1) // the demo process
    expect(rows[7].who).not.toBe(rows[0].who)
    expect(rows[0].details).toBe(`${worst.name} in experiment ${experimentId}`)
    expect(rows[3].details).toMatch(/^model\/weights\.json \(\d+ bytes, sha256 [0-9a-f]{12}\)$/)
    expect(rows[6].details).toBe("FINISHED")
  })

  it("experiments rename (runs follow), fork with overrides, delete (runs hidden, no new runs there) and restore", async () => {
    const renamed = await rl("experiments", "rename", "demo-classification", "demo2")
    expectOk(renamed)
    expect(renamed.stdout).toBe(`Renamed to "demo2" (${experimentId}).\n`)
    const forked = await rl("experiments", "fork", "demo2", "--name", "demo2-lr", "--set", "lr=0.01", "--set", "layers=2")
    expectOk(forked)
    expect(forked.stdout).toMatch(/^Forked "demo2" as "demo2-lr" \([0-9a-f]{32}\) with lr=0\.01 layers=2\.\n$/)

    const [byNewName, listed, taken] = await Promise.all([
      rl("runs", "--experiment", "demo2", "--json"),
      rl("experiments", "--json"),
      rl("experiments", "rename", "demo2", "demo2-lr")
    ])
    for (const r of [byNewName, listed]) expectOk(r)
    const followed = parseListing<RunJson>(byNewName.stdout, "runs")
    expect(followed.map((r) => r.id)).toEqual(runs.map((r) => r.id))
    expect(followed.every((r) => r.experiment === "demo2" && r.experimentId === experimentId)).toBe(true)
    const experiments = parseListing<ExperimentJson>(listed.stdout, "experiments")
    expect(experiments).toHaveLength(2)
    expect(experiments[0]).toMatchObject({ id: experimentId, name: "demo2", lifecycle: "active", parentId: null, overrides: {}, runs: 10 })
    expect(experiments[1]).toMatchObject({ name: "demo2-lr", lifecycle: "active", parentId: experimentId, overrides: { lr: 0.01, layers: 2 }, runs: 0 })
    expect(typeof experiments[1].overrides.lr).toBe("number")
    expect(typeof experiments[1].overrides.layers).toBe("number")
    const forkId = experiments[1].id
    expect(forked.stdout).toContain(`(${forkId})`)
    expectUsageError(taken, `The name "demo2-lr" belongs to experiment ${forkId}`)

    const deleted = await rl("experiments", "delete", "demo2")
    expectOk(deleted)
    expect(deleted.stdout).toBe(`Deleted experiment "demo2" (${experimentId}); its runs are hidden until it is restored.\n`)
    const before = log()
    const [hidden, twice, demo] = await Promise.all([
      rl("runs", "--json"),
      rl("experiments", "delete", "demo2"),
      rl("demo", "--experiment", "demo2", "--epochs", "1")
    ])
    expectOk(hidden)
    expect(parseListing(hidden.stdout, "runs")).toEqual([])
    expectUsageError(twice, `Experiment "demo2" is already deleted.`)
    // demo prints its progress header on stderr before it is refused; the error is its last line.
    expect(demo.status, demo.stderr).toBe(2)
    expect(demo.stdout).toBe("")
    expect(lines(demo.stderr).at(-1)).toBe('runledger: Experiment "demo2" is deleted; restore it with `runledger experiments restore "demo2"` first.')
    expect(demo.stderr).not.toContain("trained ")
    expect(log().equals(before)).toBe(true) // no run was started

    const restored = await rl("experiments", "restore", "demo2")
    expectOk(restored)
    expect(restored.stdout).toBe(`Restored experiment "demo2" (${experimentId}).\n`)
  })

  it("after the restore the runs are back; history --all has a SUPERSEDED column (all '-' in a demo); the store verifies", async () => {
    const [back, all, verified] = await Promise.all([rl("runs", "--json"), rl("history", prefix(best), "val_accuracy", "--all"), rl("verify")])
    for (const r of [back, all, verified]) expectOk(r)
    expect(parseListing<RunJson>(back.stdout, "runs").map((r) => r.id)).toEqual(runs.map((r) => r.id))

    const rows = lines(all.stdout)
    expect(rows[0]).toMatch(/^STEP\s+VALUE\s+TIME\s+SUPERSEDED$/)
    expect(rows).toHaveLength(3)
    rows.slice(1).forEach((l, i) => expect(l).toMatch(new RegExp(`^\\s+${i}\\s+[\\d.]+\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+-$`)))
    expect(Number(rows[2].trim().split(/\s+/)[1])).toBeCloseTo(best.metrics.val_accuracy, 5)

    // experiments, 10 runs, the demo's model and model-clf (the fork lives in the experiments stream); every blob still checks.
    const events = recordStarts(log()).length
    expect(events).toBe(78 + 2 + 2 + 2 + 4) // + v2 and its promotion, the alias set/deleted, a run deleted/restored, rename/fork/delete/restore
    expect(verified.stdout).toMatch(new RegExp(`^OK: ${events} events in 13 streams \\(.+\\), ${blobs} artifacts checked in ${escape(store)}\\.\\n$`))
  })

  // Last, side by side: neither writes to the store above (the first one works on a copy of it).
  describe.concurrent("finally", () => {
    it("a refused register of a NEW model (missing artifact path) appends nothing: no empty model is left behind", async () => {
      const copy = join(root, "copy")
      cpSync(store, copy, { recursive: true })
      const file = join(copy, "events.log")
      const before = readFileSync(file)
      const refused = await cli(["models", "register", "ghost", "--run", prefix(best), "--path", "nope", "--dir", copy])
      expectUsageError(refused, `Run ${best.id} stored no artifact at "nope"`)
      const appended = lines(readFileSync(file).subarray(before.length).toString("utf8")).map((l) => (JSON.parse(l.slice(l.indexOf("\t{") + 1)) as EventJson).type)
      expect(appended).toEqual([]) // today: ["ModelRegistered"], and `runledger models` lists "ghost" with 0 versions
    })

    it("models delete hides the model (listing, show, models:/ download) but not its log or an --as-of read; a second delete exits 2; the name registers again", async () => {
      const copy = join(root, "copy-delete")
      cpSync(store, copy, { recursive: true })
      const at = (...args: string[]) => cli([...args, "--dir", copy])
      const before = await at("models", "--json")
      expectOk(before)
      // The position of the model's last event before the delete: a moment it existed.
      const pre = await at("log", "clf", "--json")
      expectOk(pre)
      const position = String(parseNdjson(pre.stdout).slice(-1)[0].position)
      const deleted = await at("models", "delete", "clf")
      expectOk(deleted)
      expect(deleted.stdout).toContain("Deleted model clf")
      const [listed, shown, download, again, history, then] = await Promise.all([
        at("models", "--json"),
        at("models", "show", "clf", "Production"),
        at("models", "download", "models:/clf/Production", "--out", join(root, "deleted-download")),
        at("models", "delete", "clf"),
        at("log", "clf", "--json"),
        at("models", "--as-of", position, "--json")
      ])
      expect(parseListing<ModelJson>(listed.stdout, "models").map((m) => m.name)).toEqual([DEMO_MODEL])
      for (const r of [shown, download, again]) expectUsageError(r, `No registered model "clf"`)
      expectOk(history)
      expect(parseNdjson(history.stdout).map((e) => e.type).slice(-1)).toEqual(["ModelDeleted"])
      expect(parseListing<ModelJson>(then.stdout, "models")).toEqual(parseListing<ModelJson>(before.stdout, "models"))
      const registered = await at("models", "register", "clf", "--run", prefix(best), "--path", "model")
      expectOk(registered)
      expect(parseListing<ModelJson>((await at("models", "--json")).stdout, "models")).toMatchObject([{ name: "clf", versions: 1 }, { name: DEMO_MODEL }])
    })

    it("models, runs and experiments --help list their subcommands (exit 0)", async () => {
      const groups: Array<[string, string[]]> = [
        ["models", ["list", "show", "versions", "register", "promote", "alias", "rename", "delete", "download"]],
        ["runs", ["delete", "restore"]],
        ["experiments", ["rename", "delete", "restore", "fork"]]
      ]
      const results = await Promise.all(groups.map(([group]) => cli([group, "--help"])))
      results.forEach((r, i) => {
        expectOk(r)
        const [group, subcommands] = groups[i]
        expect(r.stdout).toContain(`runledger ${group} <subcommand>`)
        expect(r.stdout).toContain("SUBCOMMANDS")
        const section = r.stdout.slice(r.stdout.indexOf("SUBCOMMANDS"))
        const listed = lines(section).slice(1).map((l) => /^ {2}(\S+)\s{2,}\S/.exec(l)?.[1]).filter((x) => x !== undefined)
        expect(listed).toEqual(subcommands)
      })
    })
  })
})
