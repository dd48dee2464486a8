/**
 * The published bin is a rolldown bundle (rolldown.config.mjs), not the source a developer runs:
 * bundled, it prints what the source prints. The CLI's other tests run the bundle (bundle-setup.ts
 * builds it from the same config, inside the package, so its one external, DuckDB, resolves as it
 * does from dist/); here both bins run against the same store: help pages, `show` (text and
 * --json), listings (searched in memory), SQL through the DuckDB read model, `verify`, and usage
 * errors. And what its start-up time depends on: the bundle's bytes are ASCII only, Node's
 * built-ins are required (not imported as ES modules), and a command that only reads loads no
 * node:crypto and builds no Intl.Segmenter (bundle/).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { openTracker } from "../src/index.ts"
import { BIN, type CliOptions, cli, freshRoot, SOURCE_BIN, storeCopies } from "./harness.ts"

let root: string
let store: string
let runId: string

beforeAll(async () => {
  root = freshRoot()
  store = join(root, "store")
  const tracker = await openTracker({ dir: store, durability: "os" })
  try {
    for (let i = 0; i < 3; i++) {
      const run = await tracker.startRun({ experiment: "bundle", name: `run-${i}`, tags: { i: String(i) } })
      await run.logParams({ lr: 0.1 * (i + 1) })
      await run.logBatch({ metrics: [0, 1, 2].map((step) => ({ key: "loss", value: 1 / (step + i + 1), step, timestamp: 1_700_000_000_000 + step })) })
      await run.end()
      runId = run.id
    }
  } finally {
    await tracker.close()
  }
}, 120_000)

// Cases run side by side, and one process holds a store's read model at a time: each case has a
// copy of its own, which its two invocations use one after the other (so paths printed match).
const copy = storeCopies(() => root, () => store)

const both = async (args: (dir: string) => ReadonlyArray<string>, options: CliOptions = {}) => {
  const dir = copy()
  const source = await cli(args(dir), { ...options, bin: SOURCE_BIN })
  const built = await cli(args(dir), { ...options, bin: BIN })
  return { source, built }
}

describe("the bundle's chunks", () => {
  it("are ASCII only: V8 decodes and scans a source with one other character as two-byte text (rolldown.config.mjs)", () => {
    const dir = dirname(BIN)
    const chunks = readdirSync(dir).filter((f) => f.endsWith(".js"))
    expect(chunks.length).toBeGreaterThan(2)
    for (const f of chunks) {
      const at = readFileSync(join(dir, f)).findIndex((b) => b > 0x7f)
      expect(at, `${f} has a byte above 0x7f at ${at}`).toBe(-1)
    }
  })
})

describe("what the bundled bin loads as it starts (bundle/)", () => {
  it("imports no Node built-in as an ES module but node:module: the others are required", () => {
    const dir = dirname(BIN)
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".js"))) {
      const imported = [...readFileSync(join(dir, f), "utf8").matchAll(/from\s*"(node:[^"]+)"/g)].map((m) => m[1])
      expect(imported.filter((m) => m !== "node:module"), f).toEqual([])
    }
  })

  /** The command run with a preload that reports, at exit, whether node:crypto was loaded and how many Intl.Segmenters were built. */
  const loads = async (args: ReadonlyArray<string>) => {
    const report = join(root, `loads-${Math.random().toString(16).slice(2)}.json`)
    const preload = join(root, "loads-probe.cjs")
    writeFileSync(
      preload,
      `let built = 0
const Native = Intl.Segmenter
Intl.Segmenter = class extends Native { constructor(...a) { super(...a); built++ } }
process.on("exit", () => require("node:fs").writeFileSync(process.env.LOADS_REPORT, JSON.stringify({ crypto: process.moduleLoadList.includes("NativeModule crypto"), segmenters: built })))
`
    )
    const r = await cli(args, { env: { NODE_OPTIONS: `--require ${preload}`, LOADS_REPORT: report } })
    expect(r.status, r.stderr).toBe(0)
    return JSON.parse(readFileSync(report, "utf8")) as { crypto: boolean; segmenters: number }
  }

  it("a command that only reads loads no node:crypto and builds no Intl.Segmenter; help builds one, verify loads crypto", async () => {
    const dir = copy()
    expect(await loads(["runs", "--dir", dir])).toEqual({ crypto: false, segmenters: 0 })
    expect(await loads(["show", runId, "--dir", dir])).toEqual({ crypto: false, segmenters: 0 })
    expect(await loads(["experiments", "--dir", dir])).toEqual({ crypto: false, segmenters: 0 })
    // The probe sees both when they happen.
    expect((await loads(["--help"])).segmenters).toBeGreaterThan(0)
    expect((await loads(["verify", "--dir", dir])).crypto).toBe(true)
  }, 60_000)
})

describe("the bundled bin prints what the source prints", () => {
  const cases: ReadonlyArray<[string, (dir: string) => ReadonlyArray<string>]> = [
    ["--help", () => ["--help"]],
    ["show --help", () => ["show", "--help"]],
    ["show RUN", (dir) => ["show", runId, "--dir", dir]],
    ["show RUN --json", (dir) => ["show", runId, "--dir", dir, "--json"]],
    ["runs", (dir) => ["runs", "--dir", dir]],
    ["runs --filter (searched in memory)", (dir) => ["runs", "--filter", "params.lr > 0.15", "--dir", dir]],
    ["sql (the DuckDB read model)", (dir) => ["sql", "SELECT count(*) AS n FROM runs", "--dir", dir]],
    ["verify", (dir) => ["verify", "--dir", dir]],
    ["an unknown run", (dir) => ["show", "no-such-run", "--dir", dir]],
    ["an unknown flag", () => ["show", "--no-such-flag"]]
  ]
  for (const [name, args] of cases) {
    it(name, async () => {
      const { source, built } = await both(args)
      expect(built.stdout).toBe(source.stdout)
      expect(built.stderr).toBe(source.stderr)
      expect(built.status).toBe(source.status)
      expect(source.stdout.length + source.stderr.length).toBeGreaterThan(0)
    }, 60_000)
  }
})
