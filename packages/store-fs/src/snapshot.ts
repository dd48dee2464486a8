/**
 * A snapshot of the log's index, kept in `<dir>/snapshots/index.bin`, so that opening a large log
 * reads a few megabytes instead of checking every record: the byte length of each record and the
 * stream it belongs to, up to a log position. What it says is checked against the log before it
 * is used (see `FsEventLog`): it is a cache, never a source of truth, and any snapshot that does
 * not match (stale, truncated, altered, another log's) is ignored and the log is scanned instead.
 *
 * Layout (numbers little-endian):
 *
 *     "runledger-index1"  (16 bytes)
 *     u32 header length, header JSON (SnapshotHeader), padded with spaces to a multiple of 4
 *     u32 × records       byte length of each record
 *     u32 × records       stream number of each record (streams numbered by first appearance)
 *     stream names        UTF-8, joined by LF (a stream name never holds one), sorted (by UTF-16
 *                         code units, as JavaScript compares strings) so that a reader finds one
 *                         by binary search instead of building a map of them all
 *     32 bytes            sha256 of everything before
 *
 * A stream's version and recent ids are not stored: the version is its count of records, and the
 * ids and hash a writer needs are read from the stream's last records when it first appends.
 */
import { createHash } from "node:crypto"
import { promises as fs } from "node:fs"
import { join } from "node:path"

export const SNAPSHOT_DIR = "snapshots"
export const INDEX_SNAPSHOT = "index.bin"
const MAGIC = Buffer.from("runledger-index1")
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

export interface IndexSnapshot {
  readonly header: SnapshotHeader
  readonly lengths: Uint32Array
  readonly streamOf: Uint32Array
  readonly names: ReadonlyArray<string>
}

export const snapshotPath = (dir: string): string => join(dir, SNAPSHOT_DIR, INDEX_SNAPSHOT)

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Little-endian bytes of `a` (a copy only on a big-endian machine). */
const leBytes = (a: Uint32Array): Buffer => {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength)
  return isLittleEndian ? b : Buffer.from(b).swap32()
}

const u32s = (buf: Buffer, at: number, count: number): Uint32Array => {
  // A copy: the file's buffer is not necessarily 4-byte aligned, and the copy is a few megabytes at most.
  const bytes = Buffer.from(buf.subarray(at, at + count * 4))
  if (!isLittleEndian) bytes.swap32()
  return new Uint32Array(bytes.buffer, bytes.byteOffset, count)
}

export const encodeSnapshot = (s: IndexSnapshot): Buffer => {
  let json = JSON.stringify(s.header)
  const jsonBytes = Buffer.byteLength(json)
  json += " ".repeat((4 - (jsonBytes % 4)) % 4)
  const head = Buffer.alloc(4)
  head.writeUInt32LE(Buffer.byteLength(json))
  const names = Buffer.from(s.names.join("\n"))
  const namesLength = Buffer.alloc(4)
  namesLength.writeUInt32LE(names.length)
  const body = Buffer.concat([MAGIC, head, Buffer.from(json), leBytes(s.lengths), leBytes(s.streamOf), namesLength, names])
  return Buffer.concat([body, createHash("sha256").update(body).digest()])
}

/** The snapshot in `buf`, or why it cannot be one (damaged, truncated, altered, inconsistent). */
export const decodeSnapshot = (buf: Buffer): IndexSnapshot | string => {
  if (buf.length < MAGIC.length + 8 + DIGEST_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return "it is not an index snapshot (or it is cut short)"
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
  if (at + records * 8 + 4 > body.length) return "it is shorter than its header says"
  const lengths = u32s(body, at, records)
  at += records * 4
  const streamOf = u32s(body, at, records)
  at += records * 4
  const namesLength = body.readUInt32LE(at)
  at += 4
  if (at + namesLength !== body.length) return "its stream names do not fill it"
  const names = body.toString("utf8", at, at + namesLength).split("\n")
  if (names.length !== streams) return "it names a different number of streams than its header says"
  for (let i = 1; i < names.length; i++) if (!(names[i - 1] < names[i])) return "its stream names are not sorted"
  let total = 0
  for (let i = 0; i < records; i++) {
    total += lengths[i]
    if (streamOf[i] >= streams || lengths[i] === 0) return "a record in it names no stream or has no length"
  }
  if (total !== end) return "its record lengths do not add up to its end"
  return { header, lengths, streamOf, names }
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

/**
 * Write a snapshot so that a crash at any moment leaves either the old file or the new one whole:
 * a temporary file of its own (several writers may close at once), flushed, renamed over the old,
 * and the directory flushed. A leftover temporary file is never read.
 */
export const writeSnapshotFile = async (dir: string, bytes: Buffer): Promise<void> => {
  const folder = join(dir, SNAPSHOT_DIR)
  await fs.mkdir(folder, { recursive: true })
  const temp = join(folder, `${INDEX_SNAPSHOT}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`)
  try {
    await fs.writeFile(temp, bytes, { flush: true })
    await fs.rename(temp, snapshotPath(dir))
  } catch (e) {
    await fs.rm(temp, { force: true })
    throw e
  }
  const fh = await fs.open(folder, "r")
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
