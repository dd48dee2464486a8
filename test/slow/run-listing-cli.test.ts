/**
 * `runledger runs --max N` on a store past the in-memory search limit answers from the read
 * model's run listing (readmodel-runs.jsonl) without loading DuckDB, with the pages the read model
 * gives: after a tail of new runs and deletions, in a scope, and with a spoiled listing (believed
 * never; written again). The read model's own answer is the same search with a filter that keeps
 * every run (a filter goes to DuckDB). Slow: the store holds 10,001 runs.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { cli, expectOk, freshRoot } from "../../packages/cli/test/harness.ts"
import { openTracker } from "../../packages/runtime/src/index.ts"
import { IN_MEMORY_MAX_EVENTS } from "../../packages/runtime/src/projection-search.ts"
import { RUN_LISTING } from "../../packages/runtime/src/run-listing.ts"
import { FsEventLog } from "../../packages/store-fs/src/index.ts"

const RUNS = 10_001
let dir: string
const ids: string[] = []

const addRuns = async (count: number, experiment = (i: number) => (i % 4 === 0 ? "b" : "a")): Promise<void> => {
  const tracker = await openTracker({ dir, durability: "os" })
  try {
    for (let i = 0; i < count; i++) {
      const run = await tracker.startRun({ experiment: experiment(i), name: `run-${ids.length}` })
      await run.end()
      ids.push(run.id)
    }
  } finally {
    await tracker.close()
  }
}

/** The run ids `runs` prints, with the page token. */
const page = async (...args: string[]): Promise<{ ids: string[]; token: string | null }> => {
  const r = await cli(["runs", "--json", "--dir", dir, ...args])
  expectOk(r)
  const out = JSON.parse(r.stdout) as { runs: Array<{ id: string }>; nextPageToken: string | null }
  return { ids: out.runs.map((x) => x.id), token: out.nextPageToken }
}

/** The same search through DuckDB: a filter that keeps every run. */
const byReadModel = async (...args: string[]) => (await page("--filter", "attributes.status != 'NONE'", ...args)).ids

const readModel = () => join(dir, "readmodel.duckdb")
const listing = () => join(dir, RUN_LISTING)
const dropReadModel = () => {
  rmSync(readModel(), { force: true })
  rmSync(`${readModel()}.wal`, { force: true })
}

beforeAll(async () => {
  dir = join(freshRoot(), "store")
  await addRuns(RUNS)
  const log = await FsEventLog.open({ dir })
  // Past the limit, or this test would see the in-memory search.
  expect(await log.head()).toBeGreaterThan(IN_MEMORY_MAX_EVENTS)
  await log.close()
}, 300_000)

describe("runs --max on a large store", () => {
  it("answers from the listing, without DuckDB, as the read model does: after a tail, in a scope, paged", async () => {
    // The first search goes to the read model, which leaves the listing.
    const first = await page("--max", "7")
    expect(existsSync(listing())).toBe(true)
    expect(first.ids).toEqual(await byReadModel("--max", "7"))

    // Without the read model's file: the listing answers, and DuckDB creates none.
    dropReadModel()
    expect(await page("--max", "7")).toEqual(first)
    expect(existsSync(readModel())).toBe(false)

    // A tail: runs started since, one of them deleted, and a listed run deleted.
    await addRuns(5, () => "b")
    const tracker = await openTracker({ dir, durability: "os" })
    await tracker.deleteRun(ids[ids.length - 2])
    await tracker.deleteRun(first.ids[0])
    await tracker.close()
    const afterTail = await page("--max", "7")
    const second = await page("--max", "7", "--page-token", afterTail.token!)
    const scoped = await page("--max", "4", "--experiment", "b")
    const all = await page("--max", "9", "--view", "all")
    const deleted = await page("--max", "3", "--view", "deleted")
    expect(existsSync(readModel())).toBe(false)
    expect(afterTail.ids).toEqual(await byReadModel("--max", "7"))
    expect(afterTail.ids).not.toContain(first.ids[0])
    expect(second.ids).toEqual((await byReadModel("--max", "14")).slice(7))
    expect(scoped.ids).toEqual(await byReadModel("--max", "4", "--experiment", "b"))
    expect(all.ids).toEqual(await byReadModel("--max", "9", "--view", "all"))
    expect(deleted.ids).toEqual(await byReadModel("--max", "3", "--view", "deleted"))
  }, 300_000)

  it("a spoiled listing is not believed: the read model answers, and writes it again", async () => {
    const expected = await byReadModel("--max", "5")
    const bytes = readFileSync(listing())
    bytes[Math.floor(bytes.length / 2)] ^= 1
    writeFileSync(listing(), bytes)
    expect((await page("--max", "5")).ids).toEqual(expected)
    // Written again whole: the next search answers from it, without DuckDB.
    expect(readFileSync(listing()).equals(bytes)).toBe(false)
    dropReadModel()
    expect((await page("--max", "5")).ids).toEqual(expected)
    expect(existsSync(readModel())).toBe(false)
  }, 300_000)
})
