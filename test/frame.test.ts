/**
 * The record framing of the directory store (frame.ts), text and compact forms, as a codec: what is
 * encoded scans back field for field, whatever the mix of forms; a record cut short is an
 * unfinished write (a torn tail), never damage; and any byte changed inside a compact record
 * (after its first) is damage, never a record that reads.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { deflateRawSync, inflateRawSync } from "node:zlib"
import { DEFLATE_MAX, encodeFrameBytes, type RecordForm, recordJson, scanFrame } from "../packages/store-fs/src/index.ts"
import { inflateWith } from "../packages/store-fs/src/frame.ts"

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`))
/** Names as the log has them: uuids and run streams (packed to 16 bytes), and any other text without TAB, CR or LF. */
const name = fc.oneof(
  fc.uuid(),
  hex(32).map((h) => `run-${h}`),
  fc.string({ minLength: 1, maxLength: 300, unit: "grapheme" }).filter((s) => !/[\t\n\r]/.test(s)),
  fc.constantFrom("experiments", "model-résumé ✓", "run-ABC", "e1")
)
/** JSON of any size around the deflate limit, repetitive (deflates) or not. */
const json = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify({ v })),
  fc.tuple(fc.string({ maxLength: 20 }), fc.integer({ min: 1, max: 2 * DEFLATE_MAX })).map(([s, n]) => JSON.stringify({ s: s.repeat(Math.ceil(n / (s.length + 1))) })),
  fc.uint8Array({ minLength: DEFLATE_MAX - 10, maxLength: DEFLATE_MAX + 10 }).map((b) => JSON.stringify({ b: Buffer.from(b).toString("base64") }))
)
/** Event ids: the text form has always read them as latin1 (they are uuids), so ids here are ASCII. */
const id = fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 60 }).filter((s) => /^[\x20-\x7e]+$/.test(s)), fc.constant("e1"))
const record = fc.record({ stream: name, id, json, hash: hex(64), chain: hex(64), form: fc.constantFrom<RecordForm>("compact", "text") })
type Rec = typeof record extends fc.Arbitrary<infer R> ? R : never

const encode = (r: Rec): Buffer => Buffer.concat(encodeFrameBytes(r.stream, r.id, Buffer.from(r.json), r.hash, r.chain, r.form).pieces)

describe("record framing", () => {
  it("records of either form, mixed in one file, scan back field for field, JSON as hashed", () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        const file = Buffer.concat(records.map(encode))
        let at = 0
        for (const r of records) {
          const frame = scanFrame(file, at, file.length)
          expect(frame.ok).toBe(true)
          if (!frame.ok) return
          expect({ stream: frame.stream, id: frame.id, hash: frame.hash, chain: frame.chain }).toEqual({ stream: r.stream, id: r.id, hash: r.hash, chain: r.chain })
          expect(recordJson(file, frame.start, frame.end).toString("utf8")).toBe(r.json)
          at = frame.end
        }
        expect(at).toBe(file.length)
      }),
      { numRuns: 300 }
    )
  })

  it("a record cut short anywhere is unfinished (a torn tail), never damage", () => {
    fc.assert(
      fc.property(record, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (r, cut) => {
        const bytes = encode(r)
        const torn = bytes.subarray(0, Math.floor(cut * bytes.length))
        if (torn.length === 0) return
        const frame = scanFrame(torn, 0, torn.length)
        expect(frame).toMatchObject({ ok: false, complete: false })
      }),
      { numRuns: 500 }
    )
  })

  it("any byte changed inside a compact record, after its first, is damage", () => {
    fc.assert(
      fc.property(record, fc.nat(), fc.integer({ min: 1, max: 255 }), (r, where, xor) => {
        const bytes = encode({ ...r, form: "compact" })
        const at = 1 + (where % (bytes.length - 1))
        bytes[at] ^= xor
        const frame = scanFrame(bytes, 0, bytes.length)
        expect(frame).toMatchObject({ ok: false, complete: true })
      }),
      { numRuns: 500 }
    )
  })

  /** What inflating gives: the bytes, or that it failed. */
  const outcome = (f: () => Buffer): { ok: true; text: string } | { ok: false } => {
    try {
      return { ok: true, text: f().toString("latin1") }
    } catch {
      return { ok: false }
    }
  }

  it("inflating through the reused handle gives what inflateRawSync gives, on good and damaged bytes alike", () => {
    const dictionary = fc.uint8Array({ minLength: 0, maxLength: 40_000, size: "max" }).map((b) => Buffer.from(b))
    const text = fc.oneof(fc.string({ maxLength: 3 * DEFLATE_MAX }), fc.uint8Array({ maxLength: 20_000, size: "max" }).map((b) => Buffer.from(b).toString("latin1")))
    fc.assert(
      fc.property(dictionary, fc.string({ maxLength: 80, unit: "grapheme" }), text, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }), fc.nat(), (head, tail, t, flips, cutAt) => {
        // The dictionary comes in two parts, as a record's does: a buffer, then text.
        const dict = Buffer.concat([head, Buffer.from(tail)])
        const plain = Buffer.from(t, "latin1")
        const body = deflateRawSync(plain, dict.length > 0 ? { dictionary: dict } : {})
        expect(inflateWith(head, body, tail).equals(plain)).toBe(true)
        // Damage: bytes flipped, cut short, or extra bytes after the end.
        const damaged = Buffer.from(body)
        for (const [at, xor] of flips) if (damaged.length > 0) damaged[at % damaged.length] ^= xor
        const variants = [damaged, body.subarray(0, cutAt % (body.length + 1)), Buffer.concat([body, Buffer.of(1, 2, 3)])]
        for (const v of variants) expect(outcome(() => inflateWith(head, v, tail))).toEqual(outcome(() => inflateRawSync(v, { dictionary: dict })))
        // The handle is fine after damage: the good record inflates again.
        expect(inflateWith(head, body, tail).equals(plain)).toBe(true)
      }),
      { numRuns: 150 }
    )
  })
})
