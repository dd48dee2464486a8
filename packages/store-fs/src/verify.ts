/**
 * A read-only check of a store directory. The file's own checks are here: every record's checksum
 * and decoding, the frame agreeing with the event inside it, a torn tail, anchors by position,
 * and every stored artifact present with the right sha256. The audit checks every store shares
 * (hashes, the chain, `prev` links, versions 1, 2, 3 per stream, ids used once per stream) are
 * store-kit's `AuditTrail`. It changes nothing, not even a torn tail (which it reports; the next
 * writer cuts it off).
 *
 * The end of the log: the hash chain shows a record altered, removed or reordered anywhere before
 * the last one, but a log cut short by whole records (or with its last records rewritten, chains
 * and all) is still a well-formed log. What protects the end is an anchor kept outside the store:
 * the head (the number of events and the chain after the last one) noted earlier, by `runledger
 * anchor` or `verify --json`. The log only grows, so record `count` must still carry that chain.
 */
import type { Event } from "@runledger/core"
import { type AuditFinding, type AuditKind, AuditTrail, decodeEventValue } from "@runledger/core/store-kit"
import { createHash } from "node:crypto"
import { createReadStream, promises as fs } from "node:fs"
import { join } from "node:path"
import { FsArtifactStore } from "./artifact-store.ts"
import { LOG_FILE } from "./event-log.ts"
import { recordJson, scanFrames, sha256 } from "./frame.ts"
import { type DecodedSnapshot, decodeSnapshot, readSnapshotFile, snapshotPath } from "./snapshot.ts"

export interface Finding {
  /** store-kit's audit kinds, and the file's own. */
  readonly kind:
    | AuditKind
    | "torn-tail"
    | "frame-mismatch"
    | "missing-artifact"
    | "artifact-mismatch"
    | "missing-records"
    | "anchor-mismatch"
    | "snapshot-mismatch"
  readonly file: string
  /** Byte offset in the log, when the finding is about a record. */
  readonly offset?: number
  readonly position?: number
  readonly message: string
}

export interface VerifyReport {
  readonly file: string
  readonly events: number
  readonly streams: number
  readonly bytes: number
  readonly artifactsChecked: number
  readonly anchorsChecked: number
  /** The whole-log chain hash after the last record: note it somewhere else to detect a rewrite of the whole log later. */
  readonly headChain: string
  readonly findings: ReadonlyArray<Finding>
}

/**
 * A head noted earlier: `count` events, the last with chain `chain`. Either may be missing: a count
 * alone says the log held at least that many events; a chain alone, that some record carries it.
 */
export interface Anchor {
  readonly count?: number
  readonly chain?: string
  /** Where the anchor came from (a file and line, a flag), for messages. */
  readonly source?: string
}

/** One line of an anchors file (`runledger anchor --out FILE`): JSON, one head per line. */
export const formatAnchor = (head: { readonly count: number; readonly chain: string }, at: Date): string =>
  JSON.stringify({ count: head.count, chain: head.chain, at: at.toISOString() })

const CHAIN = /^[0-9a-f]{64}$/

/** Check an anchor's fields; the problem, in words, or null. */
export const anchorProblem = (a: { readonly count?: unknown; readonly chain?: unknown }): string | null => {
  if (a.count !== undefined && !(Number.isSafeInteger(a.count) && (a.count as number) >= 0)) return `the count must be a whole number >= 0, not ${JSON.stringify(a.count)}`
  if (a.chain !== undefined && !(typeof a.chain === "string" && (CHAIN.test(a.chain) || (a.chain === "" && a.count === 0)))) {
    return `the chain must be 64 lowercase hex digits (as \`runledger anchor\` prints it), not ${JSON.stringify(a.chain)}`
  }
  if (a.count === undefined && a.chain === undefined) return "it has neither a count nor a chain"
  return null
}

/** The anchors of a file written by `runledger anchor --out`; a bad line is an error naming it. */
export const parseAnchors = (text: string, file: string): Anchor[] => {
  const out: Anchor[] = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue
    const source = `the anchor on line ${i + 1} of ${file}`
    let value: { count?: unknown; chain?: unknown; at?: unknown }
    try {
      value = JSON.parse(lines[i]) as typeof value
      if (typeof value !== "object" || value === null) throw new Error("not an object")
    } catch {
      throw new Error(`Line ${i + 1} of ${file} is not an anchor: expected JSON such as {"count":12,"chain":"<64 hex>","at":"..."}, as \`runledger anchor --out\` writes.`)
    }
    const problem = anchorProblem(value)
    if (problem !== null) throw new Error(`Line ${i + 1} of ${file} is not an anchor: ${problem}.`)
    out.push({ ...(value.count !== undefined ? { count: value.count as number } : {}), ...(value.chain !== undefined ? { chain: value.chain as string } : {}), source: `${source}${typeof value.at === "string" ? ` (${value.at})` : ""}` })
  }
  return out
}

export interface VerifyOptions {
  /** Heads noted earlier that the log must still extend. */
  readonly anchors?: ReadonlyArray<Anchor>
  /** Re-hash every artifact blob (default true). */
  readonly artifacts?: boolean
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void
}

const CHUNK = 4 << 20

/**
 * The index snapshot (snapshot.ts) held up to the log as the scan passes each record it covers. A
 * reader trusts a snapshot whose checksum holds and which agrees with the log's first record and
 * its record at the snapshot's position (FsEventLog's restore); it then reads every stream through
 * it. Anyone who can write the store can forge one that passes those checks (the checksum has no
 * secret), placing a record in another stream so that a read of its own stream leaves it out. So
 * verify checks every record's length and stream against it; one readers would ignore is no
 * finding (they scan the log instead).
 */
class SnapshotCheck {
  private readonly streamOf: Int32Array
  private trusted = true
  private readonly misstated: string[] = []
  private misstatedCount = 0
  private readonly snapshot: DecodedSnapshot

  constructor(snapshot: DecodedSnapshot) {
    this.snapshot = snapshot
    const { starts, order, header } = snapshot
    this.streamOf = new Int32Array(header.records + 1)
    for (let s = 0; s + 1 < starts.length; s++) for (let k = starts[s]; k < starts[s + 1]; k++) this.streamOf[order[k]] = s
  }

  record(position: number, length: number, stream: string, id: string, chain: string): void {
    const { header, lengths, names } = this.snapshot
    if (position > header.records) return
    if (position === 1 && (id !== header.firstId || chain !== header.firstChain)) this.trusted = false
    if (position === header.records && chain !== header.chain) this.trusted = false
    const placed = names.name(this.streamOf[position])
    if (lengths[position - 1] === length && placed === stream) return
    this.misstatedCount++
    if (this.misstated.length < 5) {
      this.misstated.push(placed !== stream ? `record ${position} in ${placed}, but the log has it in ${stream}` : `record ${position} as ${lengths[position - 1]} bytes, but the log's is ${length}`)
    }
  }

  /** The finding, if readers would trust the snapshot and it misstates the log; `damaged`: the scan met damage (then only the log's findings count). */
  finding(file: string, events: number, damaged: boolean): Finding | null {
    if (!this.trusted || damaged || events < this.snapshot.header.records || this.misstatedCount === 0) return null
    const more = this.misstatedCount > this.misstated.length ? `, and ${this.misstatedCount - this.misstated.length} more` : ""
    return {
      kind: "snapshot-mismatch",
      file,
      message: `${file} is trusted by readers (its checksum holds, and it agrees with the log's first record and record ${this.snapshot.header.records}), but it places ${this.misstated.join("; ")}${more}: it was altered, and reads through it leave records out of their streams. Delete it: the log is read without it, and \`runledger repair\` writes a true one.`
    }
  }
}

export const verifyStore = async (dir: string, options: VerifyOptions = {}): Promise<VerifyReport> => {
  const file = join(dir, LOG_FILE)
  const findings: Finding[] = []
  const trail = new AuditTrail(sha256)
  const blobs = new Map<string, { size: number; position: number }>()
  let size = 0
  let events = 0
  const anchors = options.anchors ?? []
  // Anchors are checked as the scan passes their record: no chain is kept in memory.
  const anchorsAt = new Map<number, Anchor[]>()
  const chainsSought = new Map<string, Anchor[]>()
  for (const a of anchors) {
    if (a.count !== undefined && a.count > 0) anchorsAt.set(a.count, [...(anchorsAt.get(a.count) ?? []), a])
    else if (a.chain !== undefined && a.chain !== "") chainsSought.set(a.chain, [...(chainsSought.get(a.chain) ?? []), a])
  }
  const anchorsSeen = new Set<Anchor>()
  const snapshotFile = await readSnapshotFile(dir)
  const decoded = Buffer.isBuffer(snapshotFile) ? decodeSnapshot(snapshotFile) : null
  const snapshot = decoded !== null && typeof decoded !== "string" ? new SnapshotCheck(decoded) : null
  const fh = await fs.open(file, "r").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null
    throw e
  })
  if (fh !== null) {
    try {
      size = (await fh.stat()).size
      const { tail } = await scanFrames(
        fh,
        0,
        size,
        CHUNK,
        (frame, buf, base) => {
          const recordOffset = base + frame.start
          // Every complete record counts, damaged or not, so positions match the file.
          events++
          if (!frame.ok) {
            // Complete (all its bytes are there) yet bad: damage, the last record included; never a torn tail.
            findings.push({ kind: "damaged-record", file, offset: recordOffset, position: events, message: `record ${events} at byte offset ${recordOffset}: ${frame.reason}` })
            return
          }
          let event: Event | null = null
          // The JSON as hashed: a compact record's is inflated (its checksum passed, so this fails only on a forged record).
          let json: Buffer = Buffer.alloc(0)
          try {
            json = recordJson(buf, frame.start, frame.end)
            event = decodeEventValue(JSON.parse(json.toString("utf8")))
          } catch (e) {
            findings.push({ kind: "damaged-record", file, offset: recordOffset, position: events, message: `record ${events} at byte offset ${recordOffset} does not decode: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` })
          }
          const where = `record ${events} at byte offset ${recordOffset}`
          const inFile = (f: AuditFinding): Finding => ({ ...f, file, offset: recordOffset })
          for (const finding of trail.record(where, events, json, frame.hash, frame.chain).map(inFile)) findings.push(finding)
          for (const a of anchorsAt.get(events) ?? []) {
            anchorsSeen.add(a)
            if (a.chain !== undefined && a.chain !== frame.chain) {
              findings.push({ kind: "anchor-mismatch", file, offset: recordOffset, position: events, message: `${where} does not carry the chain ${a.chain.slice(0, 16)}... that ${a.source ?? "an anchor"} noted for event ${events}: the log was rewritten up to there` })
            }
          }
          for (const a of chainsSought.get(frame.chain) ?? []) anchorsSeen.add(a)
          snapshot?.record(events, frame.end - frame.start, frame.stream, frame.id, frame.chain)
          if (event !== null) {
            const stamped = trail.event(where, events, event, frame.hash).map(inFile)
            // The frame check sits between the prev check and the others, as reports always listed them.
            const prev = stamped.filter((f) => f.kind === "prev-mismatch")
            for (const finding of prev) findings.push(finding)
            if (event.stream !== frame.stream || event.id !== frame.id) {
              findings.push({ kind: "frame-mismatch", file, offset: recordOffset, position: events, message: `${where}: its frame says ${frame.stream}/${frame.id} but the event is ${event.stream}/${event.id}` })
            }
            for (const finding of stamped.filter((f) => f.kind !== "prev-mismatch")) findings.push(finding)
            if (event.type === "ArtifactStored") blobs.set(event.data.sha256, { size: event.data.size, position: events })
          }
        },
        (offset) => options.onProgress?.(offset, size)
      )
      if (tail !== null) {
        const tornAt = size - tail
        findings.push({ kind: "torn-tail", file, offset: tornAt, message: `the last ${size - tornAt} bytes from byte offset ${tornAt} are an incomplete append (left by a crash, never acknowledged); the next writer cuts them off` })
      }
    } finally {
      await fh.close()
    }
  }
  for (const a of anchors) {
    if (anchorsSeen.has(a)) continue
    const from = a.source ?? "an anchor"
    if (a.count !== undefined && a.count > events) {
      findings.push({ kind: "missing-records", file, message: `the log has ${events} events, but ${from} noted ${a.count}: the last ${a.count - events} were removed (the log was cut short or replaced)` })
    } else if (a.count !== undefined && a.count > 0) {
      findings.push({ kind: "anchor-mismatch", file, position: a.count, message: `record ${a.count}, which ${from} noted, is damaged, so its chain cannot be checked` })
    } else if (a.count === undefined && a.chain !== undefined && a.chain !== "") {
      findings.push({ kind: "anchor-mismatch", file, message: `no record carries the chain ${a.chain.slice(0, 16)}... that ${from} noted: the log was cut short below it or rewritten` })
    }
  }
  const misstated = snapshot?.finding(snapshotPath(dir), events, findings.some((f) => f.kind === "damaged-record"))
  if (misstated) findings.push(misstated)
  let artifactsChecked = 0
  if (options.artifacts ?? true) {
    const store = new FsArtifactStore(dir)
    for (const [sha256, { size: expected, position }] of blobs) {
      const path = store.pathOf(sha256)
      const actual = await hashFile(path)
      artifactsChecked++
      if (actual === null) {
        findings.push({ kind: "missing-artifact", file: path, position, message: `artifact ${sha256} (stored by record ${position}) is missing: ${path}` })
      } else if (actual.sha256 !== sha256 || actual.size !== expected) {
        findings.push({ kind: "artifact-mismatch", file: path, position, message: `artifact ${path} was altered: its sha256 is ${actual.sha256} (${actual.size} bytes), not ${sha256} (${expected} bytes)` })
      }
    }
  }
  return { file, events, streams: trail.streamCount, bytes: size, artifactsChecked, anchorsChecked: anchors.length, headChain: trail.headChain, findings }
}

const hashFile = async (path: string): Promise<{ sha256: string; size: number } | null> => {
  try {
    const hash = createHash("sha256")
    let size = 0
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer)
      size += (chunk as Buffer).length
    }
    return { sha256: hash.digest("hex"), size }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null
    throw e
  }
}
