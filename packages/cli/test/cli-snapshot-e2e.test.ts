/**
 * A store whose log is opened from an index snapshot (with a tail written after it) prints what
 * the same log scanned from the start prints: `show` by id, prefix and name, `runs` (listing and
 * search), `experiments`, `log`, `verify`. Reading writes no snapshot; `repair` writes one.
 */
import { cpSync, existsSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { FsEventLog } from "../../store-fs/src/index.ts"
import { snapshotPath } from "../../store-fs/src/snapshot.ts"
import { openTracker } from "../src/index.ts"
import { cli, expectOk, freshRoot } from "./harness.ts"

let withSnapshot: string
let scanned: string
const ids: string[] = []

const addRuns = async (dir: string, from: number, to: number): Promise<void> => {
  const tracker = await openTracker({ dir, durability: "os" })
  try {
    for (let i = from; i < to; i++) {
      const run = await tracker.startRun({ experiment: i % 3 === 0 ? "other" : "main", name: `run-${i}`, tags: { i: String(i) } })
      await run.logParams({ lr: 0.01 * (i + 1), model: i % 2 ? "mlp" : "linear" })
      await run.logBatch({ metrics: [0, 1, 2, 3].map((step) => ({ key: "loss", value: 1 / (step + i + 1), step, timestamp: 1_700_000_000_000 + step })) })
      await run.end(i === 4 ? { status: "FAILED" } : {})
      ids.push(run.id)
    }
    if (from === 0) await tracker.deleteRun(ids[1])
  } finally {
    await tracker.close()
  }
}

beforeAll(async () => {
  const root = freshRoot()
  withSnapshot = join(root, "snap")
  scanned = join(root, "scan")
  await addRuns(withSnapshot, 0, 6)
  const log = await FsEventLog.open({ dir: withSnapshot })
  expect((await log.writeSnapshot())?.records).toBeGreaterThan(0)
  await log.close()
  // Written after the snapshot: the tail an open scans.
  await addRuns(withSnapshot, 6, 9)
  cpSync(withSnapshot, scanned, { recursive: true })
  rmSync(join(scanned, "snapshots"), { recursive: true })
}, 120_000)

describe("a store opened from its index snapshot", () => {
  it("prints exactly what the same log scanned from the start prints", async () => {
    const before = readFileSync(snapshotPath(withSnapshot))
    const commands = [
      ["show", ids[0]],
      ["show", ids[7].slice(0, 12)],
      ["show", "run-4"],
      ["show", ids[1], "--json"],
      ["runs"],
      ["runs", "--view", "all", "--json"],
      ["runs", "--max", "3", "--json"],
      ["runs", "--filter", "params.model = 'mlp'", "--order-by", "metrics.loss ASC"],
      ["experiments", "--json"],
      ["log", ids[8]],
      ["verify"]
    ]
    for (const args of commands) {
      const [a, b] = await Promise.all([cli([...args, "--dir", withSnapshot]), cli([...args, "--dir", scanned])])
      expectOk(a)
      expectOk(b)
      // The same text but for the store's own path (verify names it).
      expect(a.stdout.replaceAll(withSnapshot, "STORE"), args.join(" ")).toBe(b.stdout.replaceAll(scanned, "STORE"))
      expect(a.stderr).toBe(b.stderr)
    }
    // Reads wrote no snapshot: neither a new one where there was none, nor over the old one.
    expect(existsSync(join(scanned, "snapshots"))).toBe(false)
    expect(readFileSync(snapshotPath(withSnapshot)).equals(before)).toBe(true)
  }, 180_000)

  it("repair, a writer's command, writes one that covers the whole log; opening then uses it", async () => {
    const dir = join(freshRoot(), "repaired")
    cpSync(scanned, dir, { recursive: true })
    expectOk(await cli(["repair", "--dir", dir]))
    const log = await FsEventLog.open({ dir })
    try {
      expect(log.snapshot.records).toBe(await log.head())
    } finally {
      await log.close()
    }
    const [a, b] = await Promise.all([cli(["show", ids[3], "--dir", dir]), cli(["show", ids[3], "--dir", scanned])])
    expect(a.stdout).toBe(b.stdout)
  }, 60_000)
})
