/**
 * A snapshot of the log's index, kept in `<dir>/snapshots/index.bin`, so that opening a large log
 * reads a few megabytes instead of checking every record: the byte length of each record and the
 * stream it belongs to, up to a log position. What it says is checked against the log before it
 * is used (see `FsEventLog`): it is a cache, never a source of truth, and any snapshot that does
 * not match (stale, truncated, altered, another log's, an older layout) is ignored and the log is
 * scanned instead.
 *
 * Layout (numbers little-endian):
 *
 *     "runledger-index2"  (16 bytes)
 *     u32 header length, header JSON (SnapshotHeader), padded with spaces to a multiple of 4
 *     u32 × records       byte length of each record
 *     u32 × (streams + 1) starts: stream i's positions are order[starts[i]] .. order[starts[i + 1] - 1]
 *     u32 × records       order: the positions (1-based), grouped by stream, in log order within each
 *     u32 × (streams + 1) where each stream's name starts in the names (the last: their end)
 *     stream names        UTF-8, one after another, sorted by their bytes
 *     32 bytes            sha256 of everything before
 *
 * Opening takes these arrays as they are: positions already grouped by stream, and names left as
 * bytes, found by binary search over the bytes (StreamNames). Building 100k name strings and
 * grouping 400k positions at every open cost a 100k-run store most of its open (issue 11).
 *
 * A stream's version and recent ids are not stored: the version is its count of records, and the
 * ids and hash a writer needs are read from the stream's last records when it first appends.
 */
import { createHash } from "node:crypto"
import { promises as fs } from "node:fs"
import { join } from "node:path"
import { writeWholeFile } from "./whole-file.ts"

export const SNAPSHOT_DIR = "snapshots"
export const INDEX_SNAPSHOT = "index.bin"
const MAGIC = Buffer.from("runledger-index2")
const DIGEST_BYTES = 32

export interface SnapshotHeader {
  /** The number of records covered: the log position the snapshot stands at. */
  readonly records: number
  /** The byte offset after the last covered record. */
  readonly end: number
  /** The whole-log chain after the last covered record. */
  readonly chain: string
  /** The first record's id and chain: which log this is a snapshot of. */
  readonly firstId: string
  readonly firstChain: string
  readonly streams: number
}

/**
 * Stream names sorted by their UTF-8 bytes, kept as those bytes: a name is found by binary search
 * comparing bytes, and decoded only when asked for by number.
 */
export class StreamNames {
  readonly bytes: Buffer
  /** Name i is bytes[offsets[i] .. offsets[i + 1]). */
  readonly offsets: Uint32Array

  constructor(bytes: Buffer, offsets: Uint32Array) {
    this.bytes = bytes
    this.offsets = offsets
  }

  /** Names given as UTF-8 bytes, sorted by them (compareBytes). */
  static of(sorted: ReadonlyArray<Uint8Array>): StreamNames {
    const offsets = new Uint32Array(sorted.length + 1)
    for (let i = 0; i < sorted.length; i++) offsets[i + 1] = offsets[i] + sorted[i].length
    return new StreamNames(Buffer.concat(sorted), offsets)
  }

  get count(): number {
    return this.offsets.length - 1
  }

  name(i: number): string {
    return this.bytes.toString("utf8", this.offsets[i], this.offsets[i + 1])
  }

  /** Name i's bytes (a view, not a copy). */
  bytesOf(i: number): Buffer {
    return this.bytes.subarray(this.offsets[i], this.offsets[i + 1])
  }

  /** Where `name` is, or -1. */
  find(name: string): number {
    const probe = Buffer.from(name)
    let lo = 0
    let hi = this.count - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const c = this.bytes.compare(probe, 0, probe.length, this.offsets[mid], this.offsets[mid + 1])
      if (c === 0) return mid
      if (c < 0) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }
}

/** The order stream names are kept in: by their UTF-8 bytes. */
export const compareBytes = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)

export interface IndexSnapshot {
  readonly header: SnapshotHeader
  readonly lengths: Uint32Array
  readonly starts: Uint32Array
  readonly order: Uint32Array
  readonly names: StreamNames
}

/** A snapshot as read: also where each record starts (slot `records`: where the last ends), with room to grow (the log's Offsets). */
export interface DecodedSnapshot extends IndexSnapshot {
  readonly boundaries: Float64Array
}

export const snapshotPath = (dir: string): string => join(dir, SNAPSHOT_DIR, INDEX_SNAPSHOT)

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Little-endian bytes of `a` (a copy only on a big-endian machine). */
const leBytes = (a: Uint32Array): Buffer => {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength)
  return isLittleEndian ? b : Buffer.from(b).swap32()
}

const u32s = (buf: Buffer, at: number, count: number): Uint32Array => {
  // A view of the file's bytes when they lie 4-byte aligned (a whole file read is: its sections
  // are multiples of 4 bytes); a copy otherwise, or on a big-endian machine.
  if (isLittleEndian && (buf.byteOffset + at) % 4 === 0) return new Uint32Array(buf.buffer, buf.byteOffset + at, count)
  const bytes = Buffer.from(buf.subarray(at, at + count * 4))
  if (!isLittleEndian) bytes.swap32()
  return new Uint32Array(bytes.buffer, bytes.byteOffset, count)
}

/** Whether bytes[a0, a1) sorts strictly before bytes[b0, b1) (a loop: Buffer.compare's checks cost more than the comparison, 100k times). */
const before = (bytes: Buffer, a0: number, a1: number, b0: number, b1: number): boolean => {
  const n = Math.min(a1 - a0, b1 - b0)
  for (let i = 0; i < n; i++) {
    const x = bytes[a0 + i]
    const y = bytes[b0 + i]
    if (x !== y) return x < y
  }
  return a1 - a0 < b1 - b0
}

export const encodeSnapshot = (s: IndexSnapshot): Buffer => {
  let json = JSON.stringify(s.header)
  const jsonBytes = Buffer.byteLength(json)
  json += " ".repeat((4 - (jsonBytes % 4)) % 4)
  const head = Buffer.alloc(4)
  head.writeUInt32LE(Buffer.byteLength(json))
  const body = Buffer.concat([MAGIC, head, Buffer.from(json), leBytes(s.lengths), leBytes(s.starts), leBytes(s.order), leBytes(s.names.offsets), s.names.bytes])
  return Buffer.concat([body, createHash("sha256").update(body).digest()])
}

/**
 * The snapshot in `buf`, or why it cannot be one (damaged, truncated, altered, inconsistent). Its
 * arrays are checked for what reading through them relies on, one pass each: lengths that add up
 * to its end, every position once and in log order within its stream, names that lie within it,
 * in order.
 */
export const decodeSnapshot = (buf: Buffer): DecodedSnapshot | string => {
  if (buf.length < MAGIC.length + 8 + DIGEST_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return "it is not an index snapshot of this version (or it is cut short)"
  const body = buf.subarray(0, buf.length - DIGEST_BYTES)
  if (!createHash("sha256").update(body).digest().equals(buf.subarray(buf.length - DIGEST_BYTES))) return "its checksum does not match its bytes (altered or cut short)"
  let at = MAGIC.length
  const jsonLength = body.readUInt32LE(at)
  at += 4
  if (at + jsonLength > body.length) return "its header runs past its end"
  let header: SnapshotHeader
  try {
    header = JSON.parse(body.toString("utf8", at, at + jsonLength)) as SnapshotHeader
  } catch {
    return "its header is not JSON"
  }
  at += jsonLength
  const { records, streams, end } = header
  if (!Number.isSafeInteger(records) || records < 1 || !Number.isSafeInteger(streams) || streams < 1 || !Number.isSafeInteger(end)) return "its header is malformed"
  if (typeof header.chain !== "string" || typeof header.firstId !== "string" || typeof header.firstChain !== "string") return "its header is malformed"
  if (at + (records * 2 + (streams + 1) * 2) * 4 > body.length) return "it is shorter than its header says"
  const lengths = u32s(body, at, records)
  at += records * 4
  const starts = u32s(body, at, streams + 1)
  at += (streams + 1) * 4
  const order = u32s(body, at, records)
  at += records * 4
  const offsets = u32s(body, at, streams + 1)
  at += (streams + 1) * 4
  const names = new StreamNames(body.subarray(at), offsets)
  // Where each record starts, and (in slot `records`) where the last ends: the index's offsets.
  const boundaries = new Float64Array(Math.max(1024, records * 2))
  let total = 0
  for (let i = 0; i < records; i++) {
    if (lengths[i] === 0) return "a record in it has no length"
    boundaries[i] = total
    total += lengths[i]
  }
  if (total !== end) return "its record lengths do not add up to its end"
  boundaries[records] = total
  if (starts[0] !== 0 || starts[streams] !== records) return "its streams do not cover its records"
  const seen = new Uint8Array(records + 1)
  for (let s = 0; s < streams; s++) {
    if (!(starts[s] < starts[s + 1])) return "a stream in it has no records"
    let previous = 0
    for (let k = starts[s]; k < starts[s + 1]; k++) {
      const p = order[k]
      if (p <= previous || p > records || seen[p] === 1) return "its positions are not each record once, in log order within each stream"
      seen[p] = 1
      previous = p
    }
  }
  if (offsets[0] !== 0 || offsets[streams] !== names.bytes.length) return "its stream names do not fill it"
  for (let s = 0; s < streams; s++) {
    if (!(offsets[s] < offsets[s + 1])) return "a stream name in it is empty"
    // Sorted, strictly: a lookup by binary search must find every stream.
    if (s > 0 && !before(names.bytes, offsets[s - 1], offsets[s], offsets[s], offsets[s + 1])) return "its stream names are not sorted"
  }
  return { header, lengths, boundaries, starts, order, names }
}

/**
 * The snapshot file of the store in `dir`: its bytes, null when there is none, or why it cannot be
 * read (a directory in its place, no permission): a cache that cannot be read is not used, and
 * never stops the log from opening.
 */
export const readSnapshotFile = async (dir: string): Promise<Buffer | null | string> =>
  fs.readFile(snapshotPath(dir)).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return null
    return `it cannot be read (${e.code ?? e.message})`
  })

/** Write a snapshot whole or not at all (whole-file.ts). */
export const writeSnapshotFile = async (dir: string, bytes: Buffer): Promise<void> => {
  await fs.mkdir(join(dir, SNAPSHOT_DIR), { recursive: true })
  await writeWholeFile(snapshotPath(dir), bytes)
}
