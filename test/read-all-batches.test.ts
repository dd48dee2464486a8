/**
 * A full read of the directory store hands its events out in small batches, letting the event
 * loop run between them: a process that folds its log in the background (the tracker's first
 * fold, in a server) goes on answering meanwhile. The batches hold every event, in order.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, expect, it } from "vitest"
import { FsEventLog } from "../packages/store-fs/src/index.ts"
import { type NewEvent, uuidv7 } from "../packages/core/src/index.ts"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "runledger-read-all-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const ev = (i: number): NewEvent => ({ id: uuidv7(), at: i, type: "TagsSet", data: { tags: { i: String(i) } } })

it("a full read gives every event in order, in batches between which other work runs", async () => {
  const n = 1500
  const writer = await FsEventLog.open({ dir, durability: "os" })
  for (let i = 0; i < n; i += 100) await writer.append("s", Array.from({ length: 100 }, (_, k) => ev(i + k)), i)
  await writer.close()
  const log = await FsEventLog.open({ dir })
  try {
    const positions: number[] = []
    let batches = 0
    let ranBetween = 0
    for await (const batch of log.readAll(0)) {
      batches++
      for (const e of batch) positions.push(e.position)
      // Work queued now runs before the next batch is handed out (the log is one chunk: no file read in between).
      if (batches === 1) setImmediate(() => ranBetween = batches)
    }
    expect(positions).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    expect(batches).toBeGreaterThan(1)
    expect(ranBetween).toBeGreaterThan(0)
    expect(ranBetween).toBeLessThan(batches)
  } finally {
    await log.close()
  }
})
