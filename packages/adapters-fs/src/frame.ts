/**
 * Record framing of the event log: one line per event,
 *
 *     <crc32 as 8 hex digits> TAB <stream> TAB <event id> TAB <event JSON> LF
 *
 * The checksum covers everything between the first TAB and the LF. Stream and id sit in the
 * frame so that opening a log indexes it without parsing any JSON. JSON never contains a raw
 * LF, and stream names and ids never contain TAB or LF (checked on append), so LF ends a record.
 */
import { crc32 } from "node:zlib"

const TAB = 9
const LF = 10

export const encodeFrame = (stream: string, id: string, json: string): string => {
  const body = `${stream}\t${id}\t${json}`
  return `${crc32(body).toString(16).padStart(8, "0")}\t${body}\n`
}

export const isFrameSafe = (s: string): boolean => !/[\t\n\r]/.test(s)

export type ScannedFrame =
  | { readonly ok: true; readonly start: number; readonly end: number; readonly stream: string; readonly id: string; readonly jsonStart: number }
  | { readonly ok: false; readonly start: number; readonly end: number; readonly complete: boolean; readonly reason: string }

const hexValue = (b: number): number => (b >= 48 && b <= 57 ? b - 48 : b >= 97 && b <= 102 ? b - 87 : -1)

/**
 * Check the record that starts at `start` in `buf`. `end` is the offset after its LF (or the end of
 * the buffer when the record has no LF yet: then `complete` is false).
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
  const actual = crc32(buf.subarray(bodyStart, lf))
  if (actual !== expected) return { ok: false, start, end, complete: true, reason: "the checksum does not match the record's bytes" }
  const t1 = buf.indexOf(TAB, bodyStart)
  const t2 = t1 < 0 ? -1 : buf.indexOf(TAB, t1 + 1)
  if (t1 < 0 || t2 < 0 || t2 > lf) return { ok: false, start, end, complete: true, reason: "the record lacks its stream or id" }
  return {
    ok: true,
    start,
    end,
    stream: buf.toString("utf8", bodyStart, t1),
    id: buf.toString("latin1", t1 + 1, t2),
    jsonStart: t2 + 1
  }
}
