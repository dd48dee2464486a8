/**
 * The index snapshot (packages/store-fs/src/snapshot.ts) is a cache: a log opened with one,
 * whatever state it is in (valid with a tail after it, stale, cut short, another log's, altered,
 * or a crash's half-written temporary file beside it), answers exactly as the same log scanned
 * from the start: same head, chain, events, streams, and the same verdicts and bytes for the
 * appends that follow (versions, conflicts, repeated ids).
 */
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { FsEventLog, verifyStore } from "../packages/store-fs/src/index.ts"
import { decodeSnapshot, encodeSnapshot, snapshotPath } from "../packages/store-fs/src/snapshot.ts"
import type { ExpectedVersion, NewEvent, RecordedEvent } from "../packages/core/src/index.ts"

const roots: string[] = []
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
})
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "runledger-snap-"))
  roots.push(d)
  return d
}

// Names beyond ASCII (U+FB01 sorts after an astral character by UTF-16 code unit, before it by UTF-8 byte) check the names' byte order.
const STREAMS = ["run-a", "run-b", "experiments", "model-m", "model-\uFB01", "model-😀"] as const
interface Op {
  readonly stream: number
  readonly events: number
}
const opArb: fc.Arbitrary<Op> = fc.record({ stream: fc.nat(STREAMS.length - 1), events: fc.integer({ min: 1, max: 3 }) })

const event = (tag: string, i: number): NewEvent => ({ id: `${tag}-${i}`, at: 1000 + i, type: "TagsSet", data: { tags: { i: String(i) } } }) as NewEvent

const open = (dir: string) => FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: Number.POSITIVE_INFINITY, onRecover: () => {} })

const appendOps = async (log: FsEventLog, tag: string, ops: ReadonlyArray<Op>, from: number): Promise<number> => {
  let n = from
  for (const op of ops) {
    const events: NewEvent[] = []
    for (let i = 0; i < op.events; i++) events.push(event(tag, n++))
    await log.append(STREAMS[op.stream], events, "any")
  }
  return n
}

const everything = async (log: FsEventLog): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = []
  for await (const batch of log.readAll()) for (const e of batch) out.push(e)
  return out
}

/** What a reader sees: head, chain, every event, every stream. */
const observe = async (log: FsEventLog) => ({
  head: await log.head(),
  chain: await log.headChain(),
  all: await everything(log),
  streams: await Promise.all([...STREAMS, "run-none"].map((s) => log.readStream(s)))
})

/** The answer to an append, or the error's tag and message. */
const attempt = (log: FsEventLog, stream: string, events: ReadonlyArray<NewEvent>, expected: ExpectedVersion) =>
  log.append(stream, events, expected).then(
    (r) => ({ ok: r }),
    (e: { _tag?: string; message?: string }) => ({ failed: `${e._tag}: ${e.message}` })
  )

/**
 * What a writer does next: retry an earlier append (ids already in the stream), append with a
 * stale and with the right expected version, then the log's bytes.
 */
const writeAfter = async (log: FsEventLog, dir: string, tag: string, next: number) => {
  const answers: unknown[] = []
  for (const [i, stream] of STREAMS.entries()) {
    const events = await log.readStream(stream)
    if (events.length > 0) {
      const last = events[events.length - 1]
      answers.push(await attempt(log, stream, [{ id: last.id, at: last.at, type: last.type, data: last.data } as NewEvent], "any"))
    }
    answers.push(await attempt(log, stream, [event(tag, next + 2 * i)], events.length + 5))
    answers.push(await attempt(log, stream, [event(tag, next + 2 * i + 1)], events.length))
  }
  return { answers, bytes: createHash("sha256").update(readFileSync(join(dir, "events.log"))).digest("hex"), after: await observe(log) }
}

type Variant = "valid" | "rewritten" | "stale" | "truncated" | "foreign" | "altered" | "half-written temp"

/** A store's directory: the log and (maybe) a snapshot in the state `variant` names. */
const build = async (variant: Variant, before: ReadonlyArray<Op>, after: ReadonlyArray<Op>, cut: number, flip: number): Promise<{ dir: string; next: number }> => {
  const dir = tempDir()
  const log = await open(dir)
  let n = await appendOps(log, "e", before, 0)
  await log.writeSnapshot()
  const snapshot = snapshotPath(dir)
  if (variant === "stale") {
    // The log was put back to an older copy (a backup): shorter than the snapshot says.
    const size = readFileSync(join(dir, "events.log")).length
    await log.close()
    truncateSync(join(dir, "events.log"), Math.floor(size / 2))
    const reopened = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: Number.POSITIVE_INFINITY, onRecover: () => {} })
    // A writer cuts what the truncation tore, then appends a history of its own, longer than the
    // snapshot's: only the record at the snapshot's position tells the logs apart.
    n = await appendOps(reopened, "s", [...before, ...after], n)
    await reopened.close()
    return { dir, next: n }
  }
  n = await appendOps(log, "e", after, n)
  await log.close()
  if (variant === "rewritten") {
    // A writer that opened from the snapshot appends to old and new streams and writes the next one.
    const writer = await open(dir)
    expect(writer.snapshot.records).toBeGreaterThan(0)
    n = await appendOps(writer, "r", after, n)
    await writer.append(`run-new-${n}`, [event("r", n++)], 0)
    await writer.append("run-0-first", [event("r", n++)], 0)
    await writer.writeSnapshot()
    await writer.close()
  }
  const bytes = readFileSync(snapshot)
  if (variant === "truncated") writeFileSync(snapshot, bytes.subarray(0, cut % bytes.length))
  if (variant === "altered") {
    const at = flip % bytes.length
    bytes[at] ^= 1 + (flip % 255)
    writeFileSync(snapshot, bytes)
  }
  if (variant === "foreign") {
    const other = tempDir()
    const otherLog = await open(other)
    await appendOps(otherLog, "f", before, 0)
    await otherLog.writeSnapshot()
    await otherLog.close()
    copyFileSync(snapshotPath(other), snapshot)
  }
  if (variant === "half-written temp") {
    // What a crash between writing the temporary file and renaming it leaves beside the snapshot.
    writeFileSync(`${snapshot}.tmp-999-crash`, bytes.subarray(0, Math.floor(bytes.length / 2)))
    rmSync(snapshot)
  }
  return { dir, next: n }
}

/** The same log without any snapshot: the reference a snapshot must not change. */
const scannedCopy = (dir: string): string => {
  const copy = tempDir()
  copyFileSync(join(dir, "events.log"), join(copy, "events.log"))
  return copy
}

/**
 * The store in `dir` opens with its snapshot in use (whole: a rename is atomic, whatever a killed
 * writer left), and reads as a copy of its log without one does; what it read.
 */
const expectSnapshotUsedAsScan = async (dir: string) => {
  const a = await open(dir)
  const b = await open(scannedCopy(dir))
  try {
    expect(a.snapshot.ignored).toBe(null)
    expect(a.snapshot.records).toBeGreaterThan(0)
    const seen = await observe(a)
    expect(seen).toEqual(await observe(b))
    return seen
  } finally {
    await a.close()
    await b.close()
  }
}

describe("index snapshot", () => {
  it("snapshot (valid, stale, truncated, another log's, altered, crash leftover) + tail = a scan of the whole log, for reads and the appends after", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Variant>("valid", "rewritten", "stale", "truncated", "foreign", "altered", "half-written temp"),
        fc.array(opArb, { minLength: 1, maxLength: 12 }),
        fc.array(opArb, { maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        async (variant, before, after, cut, flip) => {
          const { dir, next } = await build(variant, before, after, cut, flip)
          const reference = scannedCopy(dir)
          const withSnapshot = await open(dir)
          const scanned = await open(reference)
          try {
            // A snapshot is used exactly when it matches the log; anything else is ignored, with the reason.
            if (variant === "valid" || variant === "rewritten") expect(withSnapshot.snapshot.records).toBeGreaterThan(0)
            else if (variant === "half-written temp") expect(withSnapshot.snapshot).toEqual({ records: 0, ignored: null })
            else {
              expect(withSnapshot.snapshot.records).toBe(0)
              expect(withSnapshot.snapshot.ignored).toMatch(/was not used: /)
            }
            expect(scanned.snapshot).toEqual({ records: 0, ignored: null })
            expect(await observe(withSnapshot)).toEqual(await observe(scanned))
            const a = await writeAfter(withSnapshot, dir, "w", next)
            const b = await writeAfter(scanned, reference, "w", next)
            expect(a).toEqual(b)
          } finally {
            await withSnapshot.close()
            await scanned.close()
          }
          // A reader wrote nothing: the snapshot is still as the variant left it (or absent).
          if (variant === "half-written temp") expect(existsSync(snapshotPath(dir))).toBe(false)
        }
      ),
      { numRuns: 40 }
    )
  })

  it("a snapshot forged to pass the checks made at open (a record moved to another stream, its checksum recomputed) is caught by verify; a true one, current or stale, is no finding", async () => {
    const dir = tempDir()
    const log = await open(dir)
    await log.append("run-a", [event("a", 1), event("a", 2)], "any")
    await log.append("run-b", [event("b", 3), event("b", 4)], "any")
    await log.append("run-a", [event("a", 5)], "any")
    await log.writeSnapshot()
    await log.close()
    const verified = async () => (await verifyStore(dir, { artifacts: false })).findings
    expect(await verified()).toEqual([])
    const trueBytes = readFileSync(snapshotPath(dir))
    // Position 3 (run-b's first event) moved into run-a: the lengths, the first record and the
    // last (position 5, run-a's last) still agree with the log, and the checksum is made anew.
    const decoded = decodeSnapshot(trueBytes)
    if (typeof decoded === "string") throw new Error(decoded)
    expect([decoded.names.name(0), decoded.names.name(1)]).toEqual(["run-a", "run-b"])
    const { header, lengths, names } = decoded
    writeFileSync(snapshotPath(dir), encodeSnapshot({ header, lengths, names, starts: Uint32Array.from([0, 4, 5]), order: Uint32Array.from([1, 2, 3, 5, 4]) }))
    // Readers are fooled: the snapshot is used, and run-b reads without its first event.
    const fooled = await open(dir)
    try {
      expect(fooled.snapshot.records).toBe(5)
      expect((await fooled.readStream("run-b")).map((e) => e.id)).toEqual(["b-4"])
    } finally {
      await fooled.close()
    }
    const [finding, ...others] = await verified()
    expect(others).toEqual([])
    expect(finding).toMatchObject({ kind: "snapshot-mismatch", file: snapshotPath(dir) })
    expect(finding.message).toContain("record 3 in run-a, but the log has it in run-b")
    expect(finding.message).toContain("Delete it")
    // The true snapshot again, now behind the log (stale): still no finding.
    writeFileSync(snapshotPath(dir), trueBytes)
    const writer = await open(dir)
    await writer.append("run-b", [event("b", 6)], "any")
    await writer.close()
    expect(await verified()).toEqual([])
  })

  it("a writer killed while writing snapshots leaves the store readable, with the answers of a full scan", async () => {
    for (const delay of [30, 120, 400]) {
      const dir = tempDir()
      const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "snapshot-writer.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] })
      let wrote = 0
      child.stdout.setEncoding("utf8").on("data", (s: string) => (wrote += s.split("\n").filter((l) => l.startsWith("wrote")).length))
      // Killed once it has written a few snapshots, at some moment of the next one.
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (wrote >= 3) {
            clearInterval(poll)
            setTimeout(() => {
              child.kill("SIGKILL")
              resolve()
            }, delay)
          }
        }, 5)
      })
      await new Promise((resolve) => child.once("close", resolve))
      await expectSnapshotUsedAsScan(dir)
      expect(readdirSync(join(dir, "snapshots")).filter((f) => !f.startsWith("index.bin")).length).toBe(0)
    }
  }, 60_000)

  it("three processes appending and writing snapshots at once, then killed: the snapshot in place matches the log, reads equal a full scan, and verify finds nothing", async () => {
    const dir = tempDir()
    const children = ["p", "q", "r"].map((tag) => {
      const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "snapshot-writer.ts"), dir, tag], { stdio: ["ignore", "pipe", "inherit"] })
      const state = { child, wrote: 0 }
      child.stdout.setEncoding("utf8").on("data", (s: string) => (state.wrote += s.split("\n").filter((l) => l.startsWith("wrote")).length))
      return state
    })
    // Each has written a few snapshots between the others' appends; then all are killed at once.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (children.every((c) => c.wrote >= 5)) {
          clearInterval(poll)
          resolve()
        }
      }, 5)
    })
    const closed = children.map((c) => new Promise((resolve) => c.child.once("close", resolve)))
    for (const c of children) c.child.kill("SIGKILL")
    await Promise.all(closed)
    const seen = await expectSnapshotUsedAsScan(dir)
    // Every process's appends are in the log.
    for (const tag of ["p", "q", "r"]) expect(seen.all.filter((e) => e.id.startsWith(`${tag}-`)).length).toBeGreaterThanOrEqual(5)
    // (A kill between the two writes of one record would leave a torn tail: a crash's leftover, not damage.)
    expect((await verifyStore(dir, { artifacts: false })).findings.filter((f) => f.kind !== "torn-tail")).toEqual([])
  }, 60_000)

  it("a stream longer than the ids a scan remembers judges repeated appends as a scanned one does", async () => {
    const dir = tempDir()
    const log = await open(dir)
    for (let i = 0; i < 700; i++) await log.append("run-long", [event("l", i)], i)
    await log.writeSnapshot()
    await log.close()
    const reference = scannedCopy(dir)
    for (const i of [0, 150, 187, 188, 300, 443, 444, 600, 699]) {
      const a = await open(dir)
      const b = await open(reference)
      try {
        expect(a.snapshot.records).toBe(700)
        expect(await attempt(a, "run-long", [event("l", i)], "any")).toEqual(await attempt(b, "run-long", [event("l", i)], "any"))
      } finally {
        await a.close()
        await b.close()
      }
    }
  })

  it("only writers write it: opening and reading never do; a writer's close does once the log has grown enough; repair does", async () => {
    const dir = tempDir()
    const writer = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: 2000 })
    for (let i = 0; i < 5; i++) await writer.append("run-a", [event("r", i)], "any")
    await writer.close()
    // Under the threshold: nothing written.
    expect(existsSync(snapshotPath(dir))).toBe(false)
    const busy = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: 2000 })
    for (let i = 5; i < 40; i++) await busy.append("run-a", [event("r", i)], "any")
    await busy.close()
    const written = readFileSync(snapshotPath(dir))
    const reader = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: 1 })
    expect(reader.snapshot.records).toBe(40)
    await everything(reader)
    await reader.close()
    // The reader's close wrote nothing, though its threshold was one byte.
    expect(readFileSync(snapshotPath(dir)).equals(written)).toBe(true)
    rmSync(join(dir, "snapshots"), { recursive: true })
    const repairer = await open(dir)
    await repairer.repair()
    await repairer.close()
    expect(existsSync(snapshotPath(dir))).toBe(true)
  })

  it("a snapshot that was ignored (altered) is replaced by a true one at the next writer's close", async () => {
    const dir = tempDir()
    const first = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: 2000 })
    for (let i = 0; i < 40; i++) await first.append("run-a", [event("r", i)], "any")
    await first.close()
    const bytes = readFileSync(snapshotPath(dir))
    bytes[bytes.length >> 1] ^= 0x10
    writeFileSync(snapshotPath(dir), bytes)
    const writer = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: 2000 })
    expect(writer.snapshot).toMatchObject({ records: 0, ignored: expect.stringMatching(/was not used: its checksum does not match/) })
    await writer.append("run-b", [event("r", 40)], "any")
    await writer.close()
    const next = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: 2000 })
    try {
      expect(next.snapshot).toEqual({ records: 41, ignored: null })
      expect((await next.readStream("run-a")).length).toBe(40)
    } finally {
      await next.close()
    }
  })

  /** The byte offset of record `n` (0-based): text records end with LF; a compact one is its 9-byte head plus the length in it. */
  const recordStart = (bytes: Buffer, n: number): number => {
    let at = 0
    for (let i = 0; i < n; i++) at = bytes[at] === 0x7e ? at + 9 + bytes.readUInt32LE(at + 1) : bytes.indexOf(10, at) + 1
    return at
  }

  for (const recordForm of ["text", "compact"] as const) {
    it(`a record in the middle damaged after the snapshot was written is found when read, not trusted (${recordForm} records)`, async () => {
      const dir = tempDir()
      const log = await FsEventLog.open({ dir, durability: "os", snapshotEveryBytes: Number.POSITIVE_INFINITY, onRecover: () => {}, recordForm })
      for (let i = 0; i < 10; i++) await log.append(i % 2 ? "run-a" : "run-b", [event("d", i)], "any")
      await log.writeSnapshot()
      await log.close()
      const file = join(dir, "events.log")
      const bytes = readFileSync(file)
      // Flip one bit near the end of the fifth record (the record keeps its length and its end).
      const next = recordStart(bytes, 5)
      expect(bytes[recordStart(bytes, 4)] === 0x7e).toBe(recordForm === "compact")
      bytes[next - 3] ^= 1
      writeFileSync(file, bytes)
      const opened = await open(dir)
      try {
        expect(opened.snapshot.records).toBe(10)
        await expect(everything(opened)).rejects.toMatchObject({ _tag: "StoreCorrupted" })
        await expect(opened.readStream("run-b")).rejects.toMatchObject({ _tag: "StoreCorrupted" })
      } finally {
        await opened.close()
      }
    })
  }

  it("a snapshots folder that cannot be read as one is ignored (a directory where the file should be)", async () => {
    const dir = tempDir()
    const log = await open(dir)
    await log.append("run-a", [event("x", 1)], 0)
    await log.close()
    mkdirSync(snapshotPath(dir), { recursive: true })
    const opened = await open(dir)
    try {
      expect(opened.snapshot.ignored).toMatch(/cannot be read \(EISDIR\)/)
      expect((await everything(opened)).map((e) => e.id)).toEqual(["x-1"])
    } finally {
      await opened.close()
    }
  })
})
