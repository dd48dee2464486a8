import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fsEventStore, FsEventLog } from "../packages/adapters-fs/src/index.ts"
import { makeMemoryEventStore } from "../packages/core/src/index.ts"
import { describeEventStore } from "./store-conformance.ts"

describeEventStore("memory", async () => ({ store: makeMemoryEventStore(), close: async () => {} }))

describeEventStore("fs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-conf-"))
  const logs: FsEventLog[] = [await FsEventLog.open({ dir })]
  return {
    store: fsEventStore(logs[0]),
    reopen: async () => {
      const log = await FsEventLog.open({ dir })
      logs.push(log)
      return fsEventStore(log)
    },
    close: async () => {
      for (const log of logs) await log.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

// The same directory opened twice in one process behaves as two writers sharing the lock.
describeEventStore("fs, two handles on one directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-conf2-"))
  const a = await FsEventLog.open({ dir })
  const b = await FsEventLog.open({ dir })
  const sa = fsEventStore(a)
  const sb = fsEventStore(b)
  // Writes go through one handle, reads through the other: each must see the other's work.
  const store = { ...sa, readStream: sb.readStream, readAll: sb.readAll, head: sb.head }
  return {
    store,
    close: async () => {
      await a.close()
      await b.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

