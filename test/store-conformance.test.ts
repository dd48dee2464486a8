import { createHash } from "node:crypto"
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expect, it } from "vitest"
import { fsEventStore, FsEventLog, verifyStore } from "../packages/store-fs/src/index.ts"
import { makeMemoryEventStore } from "../packages/core/src/index.ts"
import { FIXED_APPENDS, FIXED_CHAIN, FIXED_LOG_SHA256, FIXED_V1_CHAIN, FIXED_V1_LOG, FIXED_V1_LOG_SHA256 } from "./store-fixed-log.ts"
import { describeEventStore } from "@runledger/store-conformance"

const auditOf = (dir: string) => async () => (await verifyStore(dir, { artifacts: false })).findings.map((f) => f.message)

describeEventStore("memory", async () => ({ store: makeMemoryEventStore(), close: async () => {} }))

describeEventStore("fs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-conf-"))
  const logs: FsEventLog[] = [await FsEventLog.open({ dir })]
  return {
    store: fsEventStore(logs[0]),
    audit: auditOf(dir),
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
    audit: auditOf(dir),
    close: async () => {
      await a.close()
      await b.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
})


it("the directory store in text form writes the bytes it always wrote: existing logs verify, hashes unchanged", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-fixed-"))
  const log = await FsEventLog.open({ dir, durability: "os", recordForm: "text" })
  try {
    for (const group of FIXED_APPENDS) await Promise.all(group.map((a) => log.append(a.stream, a.events, a.expected)))
    expect(createHash("sha256").update(readFileSync(join(dir, "events.log"))).digest("hex")).toBe(FIXED_LOG_SHA256)
    expect(await log.headChain()).toBe(FIXED_CHAIN)
  } finally {
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

it("a log written before MetricsLogged v2 reads, verifies and takes appends: its records are never rewritten", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-fixed-v1-"))
  const file = join(dir, "events.log")
  copyFileSync(FIXED_V1_LOG, file)
  expect(createHash("sha256").update(readFileSync(file)).digest("hex")).toBe(FIXED_V1_LOG_SHA256)
  const log = await FsEventLog.open({ dir, durability: "os" })
  try {
    expect(await log.headChain()).toBe(FIXED_V1_CHAIN)
    const [metrics] = (await log.readStream("run-a")).filter((e) => e.type === "MetricsLogged")
    expect(metrics).toMatchObject({ id: "e2", schema: 2, data: { keys: ["loss", "loss"], steps: Float64Array.of(0, 1), timestamps: Float64Array.of(1001, 1002) } })
    expect(Object.is(metrics.data.values[0], NaN) && Object.is(metrics.data.values[1], -0)).toBe(true)
    await log.append("run-a", [{ id: "e5", type: "MetricsLogged", at: 1005, data: { keys: ["a", "b", "a", "b"], values: [1, 2, 3, 4], steps: [7, 7, 8, 8], timestamps: [9, 9, 10, 10] } }], 3)
    expect((await verifyStore(dir, { artifacts: false })).findings).toEqual([])
    expect(readFileSync(file).subarray(0, readFileSync(FIXED_V1_LOG).length).equals(readFileSync(FIXED_V1_LOG))).toBe(true)
    const added = (await log.readStream("run-a")).at(-1)!
    expect(added).toMatchObject({ id: "e5", schema: 2, version: 4, data: { keys: ["a", "b", "a", "b"] } })
  } finally {
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

it("the compact form stores the same events under the same hashes and chain as the text form", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-fixed-compact-"))
  const log = await FsEventLog.open({ dir, durability: "os" })
  try {
    for (const group of FIXED_APPENDS) await Promise.all(group.map((a) => log.append(a.stream, a.events, a.expected)))
    expect(await log.headChain()).toBe(FIXED_CHAIN)
    expect(createHash("sha256").update(readFileSync(join(dir, "events.log"))).digest("hex")).not.toBe(FIXED_LOG_SHA256)
    expect((await verifyStore(dir, { artifacts: false })).findings).toEqual([])
  } finally {
    await log.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
