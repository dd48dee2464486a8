/**
 * Record framing of the event log: one line per event,
 *
 *     <crc32> TAB <stream> TAB <event id> TAB <sha256 of event JSON> TAB <chain> TAB <event JSON> LF
 *
 * - crc32 (8 hex digits) covers everything after its TAB up to the LF: it catches torn and damaged
 *   records.
 * - The event's sha256 and the whole-log chain follow store-kit's hash rule (every store's): the
 *   next event of the same stream carries the hash as `prev`. Together they make a record that was
 *   altered, removed or reordered show up in `runledger verify`, even when its crc was recomputed.
 * - Stream, id, hash and chain sit in the frame so that opening a log indexes it without parsing
 *   JSON. JSON never contains a raw LF; stream names and ids never contain TAB or LF (checked on
 *   append); so LF ends a record.
 */
import { chainAfter as chainAfterWith, type Sha256 } from "@runledger/core/store-kit"
import { createHash } from "node:crypto"
import type { FileHandle } from "node:fs/promises"
import { crc32 } from "node:zlib"

const TAB = 9
const LF = 10

/** The digest store-kit's hash rule runs on. */
export const sha256: Sha256 = (data) => createHash("sha256").update(data).digest("hex")

/** The whole-log chain after a record whose event hashes to `hash`. */
export const chainAfter = (previousChain: string, hash: string): string => chainAfterWith(sha256, previousChain, hash)

export const encodeFrame = (stream: string, id: string, json: string, hash: string, chain: string): string => {
  const body = `${stream}\t${id}\t${hash}\t${chain}\t${json}`
  return `${crc32(body).toString(16).padStart(8, "0")}\t${body}\n`
}

const NEWLINE = Buffer.from("\n")

/**
 * The same record as bytes, for the append path: the JSON's UTF-8 bytes (already hashed by the
 * stamping) are checksummed as they are. Returns the pieces to write and their length.
 */
export const encodeFrameBytes = (stream: string, id: string, jsonBytes: Uint8Array, hash: string, chain: string) => {
  const head = Buffer.from(`${stream}\t${id}\t${hash}\t${chain}\t`)
  const crc = crc32(jsonBytes, crc32(head))
  const pieces = [Buffer.from(`${crc.toString(16).padStart(8, "0")}\t`), head, jsonBytes, NEWLINE]
  return { pieces, bytes: 9 + head.length + jsonBytes.length + 1 }
}

/**
 * Where the JSON of an already-checked record starts (after the fifth TAB). For reads of records
 * the index has verified: no checksum again.
 */
export const jsonStartOf = (buf: Buffer, start: number): number => {
  let at = start
  for (let i = 0; i < 5; i++) {
    const t = buf.indexOf(TAB, at)
    if (t < 0) return -1
    at = t + 1
  }
  return at
}

export const isFrameSafe = (s: string): boolean => !/[\t\n\r]/.test(s)

export type ScannedFrame =
  | {
    readonly ok: true
    readonly start: number
    readonly end: number
    readonly stream: string
    readonly id: string
    readonly hash: string
    readonly chain: string
    readonly jsonStart: number
  }
  | { readonly ok: false; readonly start: number; readonly end: number; readonly complete: boolean; readonly reason: string }

const hexValue = (b: number): number => (b >= 48 && b <= 57 ? b - 48 : b >= 97 && b <= 102 ? b - 87 : -1)

/**
 * Check the record that starts at `start` in `buf`. `end` is the offset after its LF (or `limit`
 * when the record has no LF yet: then `complete` is false).
 */
export const scanFrame = (buf: Buffer, start: number, limit: number): ScannedFrame => {
  const lf = buf.indexOf(LF, start)
  if (lf < 0 || lf >= limit) return { ok: false, start, end: limit, complete: false, reason: "the record has no end (an interrupted write)" }
  const end = lf + 1
  if (lf - start < 10 || buf[start + 8] !== TAB) return { ok: false, start, end, complete: true, reason: "the record has no checksum" }
  let expected = 0
  for (let i = 0; i < 8; i++) {
    const h = hexValue(buf[start + i])
    if (h < 0) return { ok: false, start, end, complete: true, reason: "the checksum is not hexadecimal" }
    expected = expected * 16 + h
  }
  const bodyStart = start + 9
  if (crc32(buf.subarray(bodyStart, lf)) !== expected) return { ok: false, start, end, complete: true, reason: "the checksum does not match the record's bytes" }
  const tabs: number[] = []
  let at = bodyStart
  while (tabs.length < 4) {
    const t = buf.indexOf(TAB, at)
    if (t < 0 || t > lf) return { ok: false, start, end, complete: true, reason: "the record lacks its stream, id, hash or chain" }
    tabs.push(t)
    at = t + 1
  }
  return {
    ok: true,
    start,
    end,
    stream: buf.toString("utf8", bodyStart, tabs[0]),
    id: buf.toString("latin1", tabs[0] + 1, tabs[1]),
    hash: buf.toString("latin1", tabs[1] + 1, tabs[2]),
    chain: buf.toString("latin1", tabs[2] + 1, tabs[3]),
    jsonStart: tabs[3] + 1
  }
}

/** A record the scan reached whole: checked (`ok`), or complete yet damaged. */
export type CompleteFrame = Exclude<ScannedFrame, { readonly ok: false; readonly complete: false }>

/**
 * Reads the records of a log file from byte `from` up to `size`, about `chunkSize` bytes at a time
 * (a record larger than that is read whole: the read grows with what is carried over), and hands
 * each complete record, checked or damaged, to `onFrame` with the buffer it lies in and that
 * buffer's offset in the file. Stops at an incomplete record: the end of an interrupted write, or
 * an append in progress. Returns how far the file was read and the length of that incomplete tail
 * (null when the records end cleanly). Shared by the log's open and by verify, so both read the
 * file the same way.
 */
export const scanFrames = async (
  file: FileHandle,
  from: number,
  size: number,
  chunkSize: number,
  onFrame: (frame: CompleteFrame, buf: Buffer, base: number) => void,
  onRead?: (offset: number) => void
): Promise<{ readonly end: number; readonly tail: number | null }> => {
  let offset = from
  let carry: Buffer | null = null
  let chunk = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(size - offset, 0)))
  while (offset < size) {
    const want = Math.min(Math.max(chunkSize, (carry?.length ?? 0) * 2), size - offset)
    // One buffer reused round after round (unless a carry still points into it): less garbage on open.
    if (chunk.length < want || carry !== null) chunk = Buffer.allocUnsafe(Math.max(want, chunkSize))
    const { bytesRead } = await file.read(chunk, 0, want, offset)
    if (bytesRead === 0) break
    offset += bytesRead
    onRead?.(offset)
    const buf: Buffer = carry ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead)
    const base = offset - buf.length
    let at = 0
    while (at < buf.length) {
      const frame = scanFrame(buf, at, buf.length)
      if (!frame.ok && !frame.complete) break
      onFrame(frame, buf, base)
      at = frame.end
    }
    carry = at < buf.length ? buf.subarray(at) : null
  }
  return { end: offset, tail: carry === null ? null : carry.length }
}
