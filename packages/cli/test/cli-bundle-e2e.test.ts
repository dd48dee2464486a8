/**
 * The published bin is a rolldown bundle (rolldown.config.mjs), not the source a developer runs:
 * bundled, it prints what the source prints. The bundle is built here, from the same config, into
 * a directory inside the package (so the bundle's one external, DuckDB, resolves as it does from
 * dist/), and both bins run against the same store: help pages, `show` (text and --json), a
 * listing through the DuckDB read model, `verify`, and a usage error.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openTracker } from "../src/index.ts"
import { type CliOptions, cli, freshRoot, repoRoot, storeCopies } from "./harness.ts"

const cliDir = join(repoRoot, "packages/cli")
let bundleDir: string
let bundled: string
let root: string
let store: string
let runId: string

beforeAll(async () => {
  bundleDir = mkdtempSync(join(cliDir, ".bundle-test-"))
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, [join(cliDir, "node_modules/rolldown/bin/cli.mjs"), "-c", "rolldown.config.mjs"], { cwd: cliDir, env: { ...process.env, RUNLEDGER_BUNDLE_DIR: bundleDir } }, (error, _out, stderr) =>
      error ? reject(new Error(`rolldown failed: ${stderr || error.message}`)) : resolve()
    )
  )
  bundled = join(bundleDir, "bin.js")
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

afterAll(() => {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true })
})

// Cases run side by side, and one process holds a store's read model at a time: each case has a
// copy of its own, which its two invocations use one after the other (so paths printed match).
const copy = storeCopies(() => root, () => store)

const both = async (args: (dir: string) => ReadonlyArray<string>, options: CliOptions = {}) => {
  const dir = copy()
  const source = await cli(args(dir), options)
  const built = await cli(args(dir), { ...options, bin: bundled })
  return { source, built }
}

describe("the bundled bin prints what the source prints", () => {
  const cases: ReadonlyArray<[string, (dir: string) => ReadonlyArray<string>]> = [
    ["--help", () => ["--help"]],
    ["show --help", () => ["show", "--help"]],
    ["show RUN", (dir) => ["show", runId, "--dir", dir]],
    ["show RUN --json", (dir) => ["show", runId, "--dir", dir, "--json"]],
    ["runs (the DuckDB read model)", (dir) => ["runs", "--dir", dir]],
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
