/** What a crash or damage leaves in the log, and how opening and verify treat it. */
import { Effect } from "effect"
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { chainAfter, encodeFrame, encodeFrameBytes, FsEventLog, fsEventStore, type RecordForm, type Recovery, sha256, verifyStore } from "../packages/store-fs/src/index.ts"
import { uuidv7, type NewEvent } from "../packages/core/src/index.ts"
import { encodeEvent } from "../packages/core/src/store-kit/index.ts"
import { DirectoryLock, LEASE_MS } from "../packages/store-fs/src/lock.ts"

let dir: string
let file: string
const ev = (i: number): NewEvent => ({ id: uuidv7(), at: i, type: "TagsSet", data: { tags: { i: String(i) } } })

/** A log of n events. Text records by default: the tests that edit the file as text lines are about logs written before the compact form. */
const seed = async (n: number, recordForm: RecordForm = "text") => {
  const log = await FsEventLog.open({ dir, recordForm })
  for (let i = 0; i < n; i++) await log.append("s", [ev(i)], i)
  await log.close()
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "runledger-recovery-"))
  file = join(dir, "events.log")
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe("torn tail", () => {
  const tornFrame = () => {
    const json = encodeEvent({ ...ev(9), stream: "s", version: 6 } as never)
    return encodeFrame("s", "x", json, sha256(json), chainAfter("", sha256(json)))
  }

  it.each([
    ["half a record", (frame: string) => frame.slice(0, frame.length >> 1)],
    ["a whole record but its last byte", (frame: string) => frame.slice(0, -1)],
    ["garbage with no end", () => "garbage and no end"]
  ])("%s at the end: opening (a read) leaves it; the first append cuts it off, reports it, and the log goes on", async (_name, tear) => {
    await seed(5)
    const good = statSync(file).size
    appendFileSync(file, tear(tornFrame()))
    const torn = readFileSync(file)
    const before = await verifyStore(dir)
    expect(before.findings.map((f) => f.kind)).toEqual(["torn-tail"])
    expect(before.findings[0].offset).toBe(good)
    const recovered: Recovery[] = []
    const log = await FsEventLog.open({ dir, onRecover: (r) => recovered.push(r) })
    expect(await log.head()).toBe(5)
    expect((await log.readStream("s")).map((e) => e.version)).toEqual([1, 2, 3, 4, 5])
    // A reader never cuts: the file is byte for byte what it was.
    expect(readFileSync(file).equals(torn)).toBe(true)
    expect(recovered).toEqual([])
    await log.append("s", [ev(6)], 5)
    expect(recovered).toEqual([expect.objectContaining({ file, offset: good, bytes: torn.length - good })])
    expect(readFileSync(recovered[0].savedTo).equals(torn.subarray(good))).toBe(true)
    expect((await log.readStream("s")).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6])
    await log.close()
    expect((await verifyStore(dir)).findings).toEqual([])
  })

  it.each([
    ["a complete last record with a bad checksum", (frame: string) => `00000000${frame.slice(8)}`],
    ["an acknowledged last record altered in place", null],
    ["garbage lines", () => "garbage\nmore garbage\n"]
  ])("%s is damage: reported by open, append and verify, and never cut", async (_name, tear) => {
    await seed(5)
    let damagedAt: number
    if (tear === null) {
      const bytes = readFileSync(file)
      damagedAt = bytes.lastIndexOf(10, bytes.length - 2) + 1
      const at = bytes.indexOf('"i":"4"', damagedAt) + 5
      bytes[at] = 0x58 // "4" -> "X"
      writeFileSync(file, bytes)
    } else {
      damagedAt = statSync(file).size
      appendFileSync(file, tear(tornFrame()))
    }
    const damaged = readFileSync(file)
    const report = await verifyStore(dir)
    expect(report.findings[0]).toMatchObject({ kind: "damaged-record", offset: damagedAt })
    expect(report.findings.map((f) => f.kind)).not.toContain("torn-tail")
    await expect(FsEventLog.open({ dir })).rejects.toMatchObject({ _tag: "StoreCorrupted", offset: damagedAt, message: expect.stringContaining("nothing was cut") })
    expect(readFileSync(file).equals(damaged)).toBe(true)
  })

  it("a reader without the lock leaves a half-written tail alone (it may be an append in progress)", async () => {
    await seed(3)
    const log = await FsEventLog.open({ dir })
    const json = encodeEvent({ ...ev(9), stream: "s", version: 4 } as never)
    const frame = encodeFrame("s", "y", json, sha256(json), chainAfter("", sha256(json)))
    appendFileSync(file, frame.slice(0, 20))
    expect(await log.head()).toBe(3)
    appendFileSync(file, frame.slice(20))
    expect(await log.head()).toBe(4)
    await log.close()
  })
})

describe("reading writes nothing", () => {
  it("opening and reading a store that does not exist creates nothing; the first append creates it", async () => {
    const missing = join(dir, "not-yet")
    const log = await FsEventLog.open({ dir: missing })
    expect(await log.head()).toBe(0)
    expect(await log.readStream("s")).toEqual([])
    expect(existsSync(missing)).toBe(false)
    await log.append("s", [ev(0)], 0)
    // The writer may keep the lock a moment for a next append (event-log.ts); closing lets go of it.
    expect(readdirSync(missing).filter((f) => f !== "events.lock")).toEqual(["events.log"])
    expect((await log.readStream("s")).map((e) => e.version)).toEqual([1])
    await log.close()
    expect(readdirSync(missing)).toEqual(["events.log"])
  })

  it("a reader sees what another handle appends later, even when the file did not exist when it opened", async () => {
    const reader = await FsEventLog.open({ dir })
    expect(await reader.head()).toBe(0)
    await seed(3)
    expect(await reader.head()).toBe(3)
    expect(readdirSync(dir)).toEqual(["events.log"])
    await reader.close()
  })
})

describe("damage in the middle", () => {
  it("is an error naming the file and byte offset, on open and in verify; nothing is cut", async () => {
    await seed(6)
    const bytes = readFileSync(file)
    const third = bytes.indexOf(10, bytes.indexOf(10) + 1) + 1 // start of record 3
    const at = third + 40
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41
    writeFileSync(file, bytes)
    const size = statSync(file).size
    await expect(FsEventLog.open({ dir })).rejects.toMatchObject({
      _tag: "StoreCorrupted",
      file,
      offset: third,
      message: expect.stringContaining(`byte offset ${third}`)
    })
    expect(statSync(file).size).toBe(size)
    const report = await verifyStore(dir)
    // The first bad place is named; the record it hid also shows as a gap in its stream.
    expect(report.findings[0]).toEqual(expect.objectContaining({ kind: "damaged-record", offset: third, position: 3 }))
  })

  it("a removed or reordered record is caught by verify, at the first bad place", async () => {
    await seed(4)
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean)
    writeFileSync(file, [lines[0], lines[2], lines[1], lines[3]].map((l) => `${l}\n`).join(""))
    const reordered = await verifyStore(dir)
    expect(reordered.findings[0]).toMatchObject({ position: 2 })
    expect(reordered.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(["version-gap", "chain-mismatch", "prev-mismatch"]))
    writeFileSync(file, [lines[0], lines[1], lines[3]].map((l) => `${l}\n`).join(""))
    const removed = await verifyStore(dir)
    expect(removed.findings[0]).toMatchObject({ position: 3 })
    expect(removed.findings.map((f) => f.kind).sort()).toEqual(["chain-mismatch", "prev-mismatch", "version-gap"])
  })

  it("an event altered with its checksum recomputed is still caught by its hash", async () => {
    await seed(3)
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean)
    const [, stream, id, hash, chain, json] = lines[1].split("\t")
    const forged = json.replace('"i":"1"', '"i":"X"')
    expect(forged).not.toBe(json)
    lines[1] = encodeFrame(stream, id, forged, hash, chain).slice(0, -1)
    writeFileSync(file, lines.map((l) => `${l}\n`).join(""))
    const report = await verifyStore(dir)
    expect(report.findings[0]).toMatchObject({ kind: "hash-mismatch", position: 2 })
    // Recomputing the hash too moves the break to the chain and to the next event's prev.
    lines[1] = encodeFrame(stream, id, forged, sha256(forged), chain).slice(0, -1)
    writeFileSync(file, lines.map((l) => `${l}\n`).join(""))
    expect((await verifyStore(dir)).findings.map((f) => f.kind)).toEqual(["chain-mismatch", "prev-mismatch"])
  })
})

describe("lock", () => {
  it("a lock left by a dead process is broken; a live holder is waited for", async () => {
    await seed(1)
    writeFileSync(join(dir, "events.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname(), nonce: "dead", at: 0 }))
    const log = await FsEventLog.open({ dir })
    await log.append("s", [ev(1)], 1)
    writeFileSync(join(dir, "events.lock"), JSON.stringify({ pid: process.ppid, host: (await import("node:os")).hostname(), nonce: "live", at: Date.now() }))
    const pending = log.append("s", [ev(2)], 2)
    let done = false
    void pending.then(() => (done = true))
    await new Promise((r) => setTimeout(r, 150))
    expect(done).toBe(false)
    rmSync(join(dir, "events.lock"))
    await expect(pending).resolves.toEqual({ version: 3, position: 3 })
    await Effect.runPromise(fsEventStore(log).head)
    await log.close()
  })
})

describe("lock of a reused pid", () => {
  it("a lock naming a live pid whose process started after the lock was taken (the pid was reused) is broken", async () => {
    await seed(1)
    const host = (await import("node:os")).hostname()
    // The parent process is alive, but it started long after this lock's time: its pid was reused.
    writeFileSync(join(dir, "events.lock"), JSON.stringify({ pid: process.ppid, host, nonce: "old", at: 1 }))
    const log = await FsEventLog.open({ dir, lockTimeoutMs: 2_000 })
    await expect(log.append("s", [ev(1)], 1)).resolves.toEqual({ version: 2, position: 2 })
    await log.close()
    expect(existsSync(join(dir, "events.lock"))).toBe(false)
  })
})

describe("lock lease (locks no pid check can reach)", () => {
  const lockFile = () => join(dir, "events.lock")
  const foreign = JSON.stringify({ pid: 4242, host: "another-host.example", nonce: "n-foreign", at: 0 })
  /** Open the log and append one event under the lock; the error, if it fails. */
  const appendOnce = async (lockTimeoutMs: number): Promise<Error | null> => {
    try {
      const log = await FsEventLog.open({ dir, lockTimeoutMs })
      try {
        await log.append("s", [ev(1)], 1)
      } finally {
        await log.close()
      }
      return null
    } catch (e) {
      return e as Error
    }
  }
  /** Set the lock's mtime: its last lease renewal. */
  const renewedAgo = (ms: number) => {
    const t = new Date(Date.now() - ms)
    utimesSync(lockFile(), t, t)
  }

  it.each([
    ["another host", foreign],
    ["garbage content", "not json {"],
    ["an empty file", ""],
    ["JSON that is not a lock", JSON.stringify({ hello: 1 })]
  ])("a lock of %s whose lease expired is broken at once; the writer does not wait", async (_name, content) => {
    await seed(1)
    writeFileSync(lockFile(), content)
    renewedAgo(LEASE_MS + 5_000)
    expect(await appendOnce(2_000)).toBe(null)
    expect(existsSync(lockFile())).toBe(false)
    expect(readdirSync(dir).filter((f) => f.startsWith("events.lock"))).toEqual([])
    expect((await verifyStore(dir)).findings).toEqual([])
  })

  it("a lock of another host within its lease is waited for, then refused with a message naming holder and lease", async () => {
    await seed(1)
    writeFileSync(lockFile(), foreign)
    const failed = await appendOnce(300)
    expect(failed?.message).toMatch(/held by pid 4242 on host another-host\.example, which this host cannot check \(last renewed \d+ s ago; a lease not renewed for 30 s expires\); waited 0\.3 s/)
    expect(readFileSync(lockFile(), "utf8")).toBe(foreign) // a live lease is left alone
  })

  it("garbage content within its lease: the message says what the file is, never 'pid undefined'", async () => {
    await seed(1)
    writeFileSync(lockFile(), "garbage")
    const failed = await appendOnce(300)
    expect(failed?.message).toContain("held by a file whose content is not a runledger lock (last renewed")
    expect(failed?.message).not.toContain("undefined")
  })

  it("repair removes what killed processes left beside the lock, and nothing of a live one", async () => {
    await seed(1)
    const host = (await import("node:os")).hostname()
    const dead = JSON.stringify({ pid: 2 ** 22 + 12345, host, nonce: "dead", at: 0 })
    const live = JSON.stringify({ pid: process.ppid, host, nonce: "live", at: Date.now() })
    writeFileSync(join(dir, "events.lock.0a1b2c.tmp"), dead)
    writeFileSync(join(dir, "events.lock.break-n1-0"), dead)
    writeFileSync(join(dir, "events.lock.stale-0abc"), dead)
    writeFileSync(join(dir, "events.lock.ffee.tmp"), "")
    const t = new Date(Date.now() - LEASE_MS - 5_000)
    utimesSync(join(dir, "events.lock.ffee.tmp"), t, t)
    writeFileSync(join(dir, "events.lock.1234.tmp"), live)
    writeFileSync(join(dir, "events.lock.notes"), dead) // not a lock leftover's name: kept
    const log = await FsEventLog.open({ dir })
    expect(await log.repair()).toEqual({ tornTail: null, lockLeftovers: 4 })
    await log.close()
    expect(readdirSync(dir).filter((f) => f.startsWith("events.lock")).sort()).toEqual(["events.lock.1234.tmp", "events.lock.notes"])
  })

  it("the holder renews its lease while it holds the lock, and removes the lock on release", async () => {
    const lock = new DirectoryLock(lockFile(), 1_000, 20)
    await lock.acquire()
    const holder = JSON.parse(readFileSync(lockFile(), "utf8")) as { pid: number; host: string }
    expect(holder).toMatchObject({ pid: process.pid, host: (await import("node:os")).hostname() })
    renewedAgo(LEASE_MS * 10)
    const old = statSync(lockFile()).mtimeMs
    while (statSync(lockFile()).mtimeMs === old) await new Promise((r) => setTimeout(r, 10))
    expect(statSync(lockFile()).mtimeMs).toBeGreaterThan(Date.now() - LEASE_MS)
    await lock.release()
    expect(readdirSync(dir)).toEqual([])
  })
})

/** The compact form (frame.ts): the same guarantees as the text form, checked on its own bytes. */
describe("compact records", () => {
  const compactFrame = (version: number, id = "x") => {
    const json = Buffer.from(encodeEvent({ ...ev(9), stream: "s", version } as never))
    const { pieces } = encodeFrameBytes("s", id, json, sha256(json), chainAfter("", sha256(json)), "compact")
    return Buffer.concat(pieces)
  }
  /** Offsets where each record of a compact log starts (from each head's length). */
  const starts = (bytes: Buffer): number[] => {
    const out: number[] = []
    for (let at = 0; at < bytes.length; at += 9 + bytes.readUInt32LE(at + 1)) out.push(at)
    return out
  }

  it("a compact log reads back, passes verify, and is smaller than the same log as text", async () => {
    await seed(6, "compact")
    const compact = statSync(file).size
    const log = await FsEventLog.open({ dir })
    expect((await log.readStream("s")).map((e) => (e.data as { tags: Record<string, string> }).tags.i)).toEqual(["0", "1", "2", "3", "4", "5"])
    await log.close()
    expect((await verifyStore(dir)).findings).toEqual([])
    rmSync(file)
    await seed(6, "text")
    expect(compact).toBeLessThan(statSync(file).size)
  })

  it("an old text log opens and verifies, and grows in compact records: the mixed log reads and verifies", async () => {
    await seed(3, "text")
    const text = readFileSync(file)
    const log = await FsEventLog.open({ dir })
    await log.append("s", [ev(3), ev(4)], 3)
    await log.close()
    const bytes = readFileSync(file)
    expect(bytes.subarray(0, text.length).equals(text)).toBe(true)
    expect(bytes[text.length]).toBe(0x7e)
    const reopened = await FsEventLog.open({ dir })
    expect((await reopened.readStream("s")).map((e) => e.version)).toEqual([1, 2, 3, 4, 5])
    await reopened.close()
    expect((await verifyStore(dir)).findings).toEqual([])
  })

  it.each([
    ["its head only", (frame: Buffer) => frame.subarray(0, 5)],
    ["half a record", (frame: Buffer) => frame.subarray(0, frame.length >> 1)],
    ["a whole record but its last byte", (frame: Buffer) => frame.subarray(0, -1)]
  ])("a torn tail of %s: a reader leaves it; the first append cuts it off and the log goes on", async (_name, tear) => {
    await seed(5, "compact")
    const good = statSync(file).size
    appendFileSync(file, tear(compactFrame(6)))
    const torn = readFileSync(file)
    expect((await verifyStore(dir)).findings.map((f) => [f.kind, f.offset])).toEqual([["torn-tail", good]])
    const recovered: Recovery[] = []
    const log = await FsEventLog.open({ dir, onRecover: (r) => recovered.push(r) })
    expect(await log.head()).toBe(5)
    expect(readFileSync(file).equals(torn)).toBe(true)
    await log.append("s", [ev(6)], 5)
    expect(recovered).toEqual([expect.objectContaining({ offset: good, bytes: torn.length - good })])
    expect((await log.readStream("s")).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6])
    await log.close()
    expect((await verifyStore(dir)).findings).toEqual([])
  })

  it.each([
    ["a byte flipped inside the last record's compressed JSON", (bytes: Buffer) => bytes.length - 3],
    ["a byte flipped in the last record's length", (_bytes: Buffer, last: number) => last + 2],
    ["a byte flipped in the last record's hash", (bytes: Buffer, last: number) => last + 14 + 17 + 3 + 5]
  ])("%s is damage: reported by open, append and verify, and never cut", async (_name, where) => {
    await seed(5, "compact")
    const bytes = readFileSync(file)
    const last = starts(bytes)[4]
    const at = where(bytes, last)
    bytes[at] ^= 0x20
    writeFileSync(file, bytes)
    const report = await verifyStore(dir)
    expect(report.findings[0]).toMatchObject({ kind: "damaged-record", offset: last })
    expect(report.findings.map((f) => f.kind)).not.toContain("torn-tail")
    await expect(FsEventLog.open({ dir })).rejects.toMatchObject({ _tag: "StoreCorrupted", offset: last })
    const log = await FsEventLog.open({ dir }).catch(() => null)
    expect(log).toBe(null)
    expect(readFileSync(file).equals(bytes)).toBe(true)
  })

  it("a removed or reordered compact record is caught by verify, at the first bad place", async () => {
    await seed(4, "compact")
    const bytes = readFileSync(file)
    const at = [...starts(bytes), bytes.length]
    const record = (i: number) => bytes.subarray(at[i], at[i + 1])
    writeFileSync(file, Buffer.concat([record(0), record(2), record(1), record(3)]))
    const reordered = await verifyStore(dir)
    expect(reordered.findings[0]).toMatchObject({ position: 2 })
    expect(reordered.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(["version-gap", "chain-mismatch", "prev-mismatch"]))
    expect(reordered.findings.map((f) => f.kind)).not.toContain("damaged-record")
    writeFileSync(file, Buffer.concat([record(0), record(1), record(3)]))
    const removed = await verifyStore(dir)
    expect(removed.findings[0]).toMatchObject({ position: 3 })
    expect(removed.findings.map((f) => f.kind).sort()).toEqual(["chain-mismatch", "prev-mismatch", "version-gap"])
  })

  it("damage in the middle is named by offset; a record forged with its checksum recomputed is caught by its hash", async () => {
    await seed(4, "compact")
    const bytes = readFileSync(file)
    const third = starts(bytes)[2]
    bytes[third + 20] ^= 0x01
    writeFileSync(file, bytes)
    await expect(FsEventLog.open({ dir })).rejects.toMatchObject({ _tag: "StoreCorrupted", offset: third })
    expect((await verifyStore(dir)).findings[0]).toMatchObject({ kind: "damaged-record", offset: third, position: 3 })
    bytes[third + 20] ^= 0x01
    writeFileSync(file, bytes)
    // Forge record 2: other JSON under the old hash and chain, framed (and checksummed) anew.
    const at = starts(bytes)
    const log = await FsEventLog.open({ dir })
    const [, second] = await log.readStream("s")
    await log.close()
    const original = Buffer.from(encodeEvent(second as never))
    const forged = Buffer.from(original.toString("utf8").replace('"i":"1"', '"i":"X"'))
    expect(forged.equals(original)).toBe(false)
    const old = bytes.subarray(at[1], at[2])
    const hashAt = 14 + 17 + 3 + 1 // head, id (a uuid), the stream "s" as text
    const hash = old.toString("hex", hashAt, hashAt + 32)
    const chain = old.toString("hex", hashAt + 32, hashAt + 64)
    expect(hash).toBe(sha256(original))
    const reframed = Buffer.concat(encodeFrameBytes("s", second.id, forged, hash, chain, "compact").pieces)
    writeFileSync(file, Buffer.concat([bytes.subarray(0, at[1]), reframed, bytes.subarray(at[2])]))
    expect((await verifyStore(dir)).findings[0]).toMatchObject({ kind: "hash-mismatch", position: 2 })
  })
})
