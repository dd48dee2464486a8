/**
 * Record framing of the event log. Two forms, told apart by a record's first byte, and mixed
 * freely in one file (a log written before the compact form keeps its records, and new ones
 * follow in the compact form):
 *
 * The text form (every log before the compact one; still written on request), one line per event:
 *
 *     <crc32> TAB <stream> TAB <event id> TAB <sha256 of event JSON> TAB <chain> TAB <event JSON> LF
 *
 * The compact form (the default), a length-prefixed binary record; see `encodeCompact` below. It
 * holds the same fields: stream and id (16 bytes each when they are the usual uuid or `run-<hex>`),
 * the hash and chain as 32 raw bytes each, and the event JSON, deflated with a preset dictionary
 * (plus the record's own stream and id, which the JSON repeats) when it is small: the run-level
 * events that repeat field names, environments and hashes. Large records (metric batches) are
 * stored as they are: deflating them costs more time than the bytes it saves are worth.
 *
 * In both forms:
 * - A crc32 covers the record's bytes: it catches torn and damaged records. The compact form
 *   checks the whole record as stored (compressed), so opening the log checks it without inflating.
 * - The event's sha256 and the whole-log chain follow store-kit's hash rule (every store's): the
 *   next event of the same stream carries the hash as `prev`. Together they make a record that was
 *   altered, removed or reordered show up in `runledger verify`, even when its crc was recomputed.
 * - Stream, id, hash and chain sit in the frame so that opening a log indexes it without parsing
 *   (or inflating) JSON. In the text form, JSON never contains a raw LF and stream names and ids
 *   never contain TAB or LF (checked on append), so LF ends a record; the compact form says its length.
 * - Hash and chain are over the event JSON as encoded (uncompressed), so they do not depend on the
 *   form: a log's chain, anchors and audit are the same whichever form its records are in.
 *
 * What the compact form costs: deflating a small record takes tens of microseconds, next to an
 * append's fsync; inflating one on read takes about as long again, several times a JSON.parse of
 * it, which a full replay of a log of many small runs pays once per record.
 *
 * A damaged first byte of a compact record makes it look like a text record: without a LF after it,
 * that reads as a torn tail, as a damaged final LF of a text record does, and a writer cuts it off
 * (keeping the bytes beside the log, as for any torn tail).
 */
import { chainAfter as chainAfterWith, type Sha256 } from "@runledger/core/store-kit"
import { hash } from "node:crypto"
import type { FileHandle } from "node:fs/promises"
import { constants, crc32, createInflateRaw, deflateRawSync, inflateRawSync } from "node:zlib"

const TAB = 9
const LF = 10

/**
 * The digest store-kit's hash rule runs on. One-shot: no Hash object per call (every append
 * hashes each event and the chain after it).
 */
export const sha256: Sha256 = (data) => hash("sha256", data, "hex")

/** The whole-log chain after a record whose event hashes to `hash`. */
export const chainAfter = (previousChain: string, hash: string): string => chainAfterWith(sha256, previousChain, hash)

/** The text form of a record (see the header). */
export const encodeFrame = (stream: string, id: string, json: string, hash: string, chain: string): string => {
  const body = `${stream}\t${id}\t${hash}\t${chain}\t${json}`
  return `${crc32(body).toString(16).padStart(8, "0")}\t${body}\n`
}

const NEWLINE = Buffer.from("\n")

/** How new records are written: `compact` (the default) or `text` (the form every log had before it). */
export type RecordForm = "compact" | "text"

/**
 * A record as bytes, for the append path. `jsonBytes` are the event's JSON as hashed (UTF-8):
 * the hash and chain are over them in both forms. Returns the pieces to write and their length.
 */
export const encodeFrameBytes = (stream: string, id: string, jsonBytes: Uint8Array, hash: string, chain: string, form: RecordForm = "compact") =>
  form === "compact" ? encodeCompact(stream, id, jsonBytes, hash, chain) : encodeText(stream, id, jsonBytes, hash, chain)

const encodeText = (stream: string, id: string, jsonBytes: Uint8Array, hash: string, chain: string) => {
  const head = Buffer.from(`${stream}\t${id}\t${hash}\t${chain}\t`)
  const crc = crc32(jsonBytes, crc32(head))
  const pieces = [Buffer.from(`${crc.toString(16).padStart(8, "0")}\t`), head, jsonBytes, NEWLINE]
  return { pieces, bytes: 9 + head.length + jsonBytes.length + 1 }
}

/**
 * Where the JSON of an already-checked text record starts (after the fifth TAB).
 */
const jsonStartOf = (buf: Buffer, start: number): number => {
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
  }
  | { readonly ok: false; readonly start: number; readonly end: number; readonly complete: boolean; readonly reason: string }

const hexValue = (b: number): number => (b >= 48 && b <= 57 ? b - 48 : b >= 97 && b <= 102 ? b - 87 : -1)

/**
 * Check the record that starts at `start` in `buf`. `end` is the offset after its LF (or `limit`
 * when the record has no LF yet: then `complete` is false).
 */
export const scanFrame = (buf: Buffer, start: number, limit: number): ScannedFrame => {
  if (buf[start] === COMPACT) return scanCompact(buf, start, limit)
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
    chain: buf.toString("latin1", tabs[2] + 1, tabs[3])
  }
}

/**
 * The event JSON (UTF-8, as hashed) of a complete record at `start`..`end` that scanned as ok, in
 * either form. Throws an Error saying what is wrong when the record does not hold one (it
 * changed after it was scanned, or its compressed bytes do not inflate).
 */
export const recordJson = (buf: Buffer, start: number, end: number): Buffer => {
  if (buf[start] === COMPACT) {
    const r = readCompact(buf, start, end)
    if (typeof r === "string") throw new Error(r)
    const body = buf.subarray(r.jsonStart, end)
    if (!r.deflated) return body
    try {
      return inflateWith(PRESET, body, dictionaryTail(r.stream, r.id))
    } catch (e) {
      throw new Error(`the record's compressed JSON does not inflate (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  const jsonStart = jsonStartOf(buf, start)
  if (jsonStart < 0 || jsonStart >= end || buf[end - 1] !== LF) throw new Error("the record is not a whole text record")
  return buf.subarray(jsonStart, end - 1)
}

// -- inflating small records ----------------------------------------------------
//
// `inflateRawSync` builds a zlib stream object and a native handle for every call, and that costs
// several times the inflating of a small record: a full replay of a log of many small runs spent
// most of its time there. Node has no public way to reuse one handle synchronously, so this keeps
// one (the handle under a `createInflateRaw()` stream, used as Node's own sync path uses it) and
// resets it per record. A preset dictionary is only what the window holds before the data, so the
// record's dictionary goes in as a stored (uncompressed) deflate block ahead of its bytes, and the
// output after it is the record's JSON: the same bytes `inflateRawSync` with that dictionary gives
// (a property test holds the two paths to the same answer, on good and on damaged input).
// Anything off the fast path (a Node without these internals, a dictionary too large for one
// stored block or the window, an error, output that does not fit, bytes after the end of the
// stream) is handed to `inflateRawSync`, whose answer or error stands.

interface InflateEngine {
  readonly handle: {
    reset(): void
    writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void
  }
  /** After a write: the output bytes left free, then the input bytes left unread. */
  readonly state: Uint32Array
  readonly out: Buffer
  input: Buffer
  error: boolean
}

/** zlib's window: a longer dictionary keeps only its last 32 KiB, which a stored block would not mirror. */
const WINDOW = 32768
/** Room for the dictionary and 16 times the largest JSON a record deflates (DEFLATE_MAX, declared below). */
const ENGINE_OUT = WINDOW + 16 * 4096

const makeEngine = (): InflateEngine | null => {
  const stream = createInflateRaw() as unknown as { _handle?: Record<string, unknown>; _writeState?: unknown }
  const handle = stream._handle
  const state = stream._writeState
  if (handle === undefined || typeof handle.reset !== "function" || typeof handle.writeSync !== "function" || !(state instanceof Uint32Array) || state.length < 2) return null
  const engine: InflateEngine = { handle: handle as unknown as InflateEngine["handle"], state, out: Buffer.allocUnsafe(ENGINE_OUT), input: Buffer.allocUnsafe(8192), error: false }
  // Called synchronously, within writeSync, when zlib reports an error.
  handle.onerror = () => {
    engine.error = true
  }
  return engine
}

/** The shared engine; null once it is known this Node has no handle to reuse. */
let engine: InflateEngine | null | undefined

/**
 * The JSON of a record deflated with the dictionary `dictionary` followed by the UTF-8 of `tail`:
 * the reused handle when it can, else `inflateRawSync`. The two parts go into the engine's input
 * as they are, so a record's dictionary is never built as a buffer of its own.
 */
export const inflateWith = (dictionary: Buffer, body: Buffer, tail = ""): Buffer => {
  if (engine === undefined) engine = makeEngine()
  const e = engine
  const tailBytes = Buffer.byteLength(tail)
  const n = dictionary.length + tailBytes
  const whole = () => (tailBytes === 0 ? dictionary : Buffer.concat([dictionary, Buffer.from(tail)]))
  if (e === null || n > WINDOW) return inflateRawSync(body, { dictionary: whole() })
  // A stored block: BFINAL 0, BTYPE 00 (one byte with its padding), LEN and its complement NLEN.
  // The engine's input buffer is reused: a new one per record was garbage of several KiB each.
  const length = 5 + n + body.length
  if (e.input.length < length) e.input = Buffer.allocUnsafe(Math.max(length, 2 * e.input.length))
  const input = e.input
  input[0] = 0
  input.writeUInt16LE(n, 1)
  input.writeUInt16LE(~n & 0xffff, 3)
  dictionary.copy(input, 5)
  if (tailBytes > 0) input.write(tail, 5 + dictionary.length, tailBytes, "utf8")
  body.copy(input, 5 + n)
  e.handle.reset()
  e.error = false
  e.handle.writeSync(constants.Z_FINISH, input, 0, length, e.out, 0, e.out.length)
  const free = e.state[0]
  const unread = e.state[1]
  if (e.error) {
    // A handle that reported an error is not trusted again; the error itself is inflateRawSync's to tell.
    engine = undefined
    return inflateRawSync(body, { dictionary: whole() })
  }
  if (free === 0 || unread !== 0) return inflateRawSync(body, { dictionary: whole() })
  return Buffer.from(e.out.subarray(n, e.out.length - free))
}

// -- the compact form ------------------------------------------------------------
//
//   offset  size  field
//   0       1     0x7E ('~'): the compact form (a text record starts with a hex digit)
//   1       4     n, u32 LE: the bytes after this 9-byte head
//   5       4     ~n, u32 LE: a torn write leaves a prefix, so n and ~n never disagree unless the
//                 head is damaged; with them, a damaged length is damage, never taken for a torn tail
//   9       4     crc32 (u32 LE) of the n - 4 bytes that follow
//   13      1     flags: bit 0 = the JSON is deflated
//   14      ...   stream, then id, each as a name (below)
//           32    sha256 of the event JSON (as hashed, uncompressed)
//           32    the whole-log chain after this record
//           ...   the event JSON: raw, or deflateRaw with dictionaryFor(stream, id)
//
// A name is one kind byte and its text: 1 = a lowercase uuid (16 bytes), 2 = `run-` and 32
// lowercase hex digits (16 bytes), 0 = any other text (u16 LE byte length, then UTF-8).

const COMPACT = 0x7e
const HEAD = 9
const DEFLATED = 1
/** JSON up to this many bytes is deflated; larger records (metric batches) are stored raw. */
export const DEFLATE_MAX = 4096

/**
 * The preset dictionary of deflated records: the field names, event types and common values of the
 * run-level events, the most frequent last (deflate reaches near text more cheaply). It is part of
 * the format: a record deflated with it inflates only with it, so it never changes; another
 * dictionary would need another first byte.
 */
const PRESET = Buffer.from(
  '"ExperimentForked","parentExperimentId":"","overrides":{"ExperimentRenamed","ExperimentDeleted","ExperimentRestored",' +
    '"ModelRegistered","description":"","ModelVersionCreated","artifactPath":"","StagePromoted","from":"None","to":"Production","Staging","Archived","archived":[],"AliasSet","alias":"","AliasDeleted",' +
    '"RunResumed","fromStep":"RunDeleted","RunRestored","RunRenamed","TagDeleted","key":"","ArtifactStored","path":"","sha256":"","size":,"mediaType":"application/json","text/plain","image/png",' +
    '"error":{"message":"","stack":"Error: \n    at ","KILLED","FAILED","status":"FINISHED"}},"RunEnded","data":{"status":"FINISHED"}}' +
    '{"id":"","type":"ExperimentCreated","at":17,"data":{"experimentId":"","name":"Default","tags":{}},"meta":{"host":"","pid":,"actor":"root"},"stream":"experiments","version":' +
    '"mlflow.runName":"","mlflow.user":"","mlflow.source.name":"","mlflow.source.type":"LOCAL","mlflow.source.git.commit":"","mlflow.note.content":"","mlflow.parentRunId":"",' +
    '{"id":"","type":"TagsSet","at":17,"data":{"tags":{"team":"","owner":""}},"meta":{"host":"","pid":,"actor":"root"},"stream":"run-","version":3,"prev":"' +
    '{"id":"","type":"ParamsLogged","at":17,"data":{"params":{"lr":0.001,"learning_rate":0.01,"batch_size":32,"epochs":10,"optimizer":"adam","model":"","seed":42,"dropout":0.1,"weight_decay":true,false}},"meta":{"host":"","pid":,"actor":"root"},"stream":"run-","version":2,"prev":"' +
    '{"id":"","type":"MetricsLogged","at":17,"data":{"names":["loss","accuracy","val_loss","val_accuracy","learning_rate"],"key":[0,1,2,3],"values":"AAAAAAAA","steps":{"from":0,"by":1},"timestamps":{"from":17,"delta":[0,1]}},"meta":{"host":"","pid":,"actor":"root"},"stream":"run-","version":4,"prev":"' +
    '"python","python3","/usr/bin/python3","/usr/local/bin/python","train.py","--config","/node_modules/.bin/node","/bin/node","/home/","/Users/","/work/","/src/","/tmp/",' +
    '{"id":"","type":"RunStarted","at":17,"data":{"runId":"","experimentId":"","name":"","parentRunId":null,"tags":{},"source":{"command":["node","",""],"cwd":"","git":{"commit":"","branch":"main","dirty":false,"root":""}},' +
    '"environment":{"runtime":"node v24.","os":"Linux 6.","Darwin 24.","Windows_NT 10.","arch":"x64","arm64","cpu":"Intel(R) Xeon(R) CPU @ GHz","AMD EPYC Apple M","cpus":,"memoryBytes":,"host":"","pid":,"user":"root"}},' +
    '"meta":{"host":"","pid":,"actor":"root"},"stream":"run-","version":1}' +
    '{"id":"","type":"RunEnded","at":17,"data":{"status":"FINISHED"},"meta":{"host":"","pid":,"actor":"root"},"stream":"run-","version":5,"prev":"'
)

/** What a record's dictionary adds to the preset: its own stream and id, which its JSON repeats. */
const dictionaryTail = (stream: string, id: string): string => `"id":"${id}","stream":"${stream}"`

/** A record's dictionary: the preset, then its own stream and id. */
const dictionaryFor = (stream: string, id: string): Buffer => Buffer.concat([PRESET, Buffer.from(dictionaryTail(stream, id))])

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const RUN_STREAM = /^run-[0-9a-f]{32}$/

const nameBytes = (name: string): Buffer => {
  if (UUID.test(name)) return Buffer.concat([Buffer.of(1), Buffer.from(name.replaceAll("-", ""), "hex")])
  if (RUN_STREAM.test(name)) return Buffer.concat([Buffer.of(2), Buffer.from(name.slice(4), "hex")])
  const text = Buffer.from(name)
  const out = Buffer.allocUnsafe(3 + text.length)
  out[0] = 0
  out.writeUInt16LE(text.length, 1)
  text.copy(out, 3)
  return out
}

/** A name at `at`, and where it ends; a string saying what is wrong when it overruns `end`. */
const readName = (buf: Buffer, at: number, end: number): { readonly name: string; readonly next: number } | string => {
  const kind = buf[at]
  if (kind === 1 || kind === 2) {
    if (at + 17 > end) return "a name overruns the record"
    const hex = buf.toString("hex", at + 1, at + 17)
    const name = kind === 2 ? `run-${hex}` : `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
    return { name, next: at + 17 }
  }
  if (kind !== 0 || at + 3 > end) return "a name has an unknown kind or overruns the record"
  const length = buf.readUInt16LE(at + 1)
  if (at + 3 + length > end) return "a name overruns the record"
  return { name: buf.toString("utf8", at + 3, at + 3 + length), next: at + 3 + length }
}

const encodeCompact = (stream: string, id: string, jsonBytes: Uint8Array, hash: string, chain: string) => {
  let json = jsonBytes
  let flags = 0
  if (jsonBytes.length <= DEFLATE_MAX) {
    const deflated = deflateRawSync(jsonBytes, { dictionary: dictionaryFor(stream, id) })
    if (deflated.length < jsonBytes.length) {
      json = deflated
      flags = DEFLATED
    }
  }
  const names = Buffer.concat([nameBytes(stream), nameBytes(id)])
  const head = Buffer.allocUnsafe(HEAD + 4 + 1 + names.length + 64)
  const n = head.length - HEAD + json.length
  head[0] = COMPACT
  head.writeUInt32LE(n, 1)
  head.writeUInt32LE(~n >>> 0, 5)
  head[13] = flags
  names.copy(head, 14)
  head.write(hash, 14 + names.length, 32, "hex")
  head.write(chain, 14 + names.length + 32, 32, "hex")
  head.writeUInt32LE(crc32(json, crc32(head.subarray(13))), 9)
  return { pieces: [head, json], bytes: head.length + json.length }
}

interface CompactFields {
  readonly stream: string
  readonly id: string
  readonly hash: string
  readonly chain: string
  readonly deflated: boolean
  readonly jsonStart: number
}

/** The fields of a compact record whose head and checksum are known good; a string saying what is wrong otherwise. */
const readCompact = (buf: Buffer, start: number, end: number): CompactFields | string => {
  const at = start + 14
  if (at > end) return "the record is shorter than its head"
  const stream = readName(buf, at, end)
  if (typeof stream === "string") return stream
  const id = readName(buf, stream.next, end)
  if (typeof id === "string") return id
  const jsonStart = id.next + 64
  if (jsonStart > end) return "the record lacks its hash or chain"
  return {
    stream: stream.name,
    id: id.name,
    hash: buf.toString("hex", id.next, id.next + 32),
    chain: buf.toString("hex", id.next + 32, jsonStart),
    deflated: (buf[start + 13] & DEFLATED) !== 0,
    jsonStart
  }
}

const scanCompact = (buf: Buffer, start: number, limit: number): ScannedFrame => {
  if (limit - start < HEAD) return { ok: false, start, end: limit, complete: false, reason: "the record has no end (an interrupted write)" }
  const n = buf.readUInt32LE(start + 1)
  if ((~n >>> 0) !== buf.readUInt32LE(start + 5) || n < 5) {
    // Where the record ends is unknown: the damage runs to the end of what was read.
    return { ok: false, start, end: limit, complete: true, reason: "the record's length is damaged" }
  }
  const end = start + HEAD + n
  if (end > limit) return { ok: false, start, end: limit, complete: false, reason: "the record has no end (an interrupted write)" }
  if (crc32(buf.subarray(start + 13, end)) !== buf.readUInt32LE(start + 9)) return { ok: false, start, end, complete: true, reason: "the checksum does not match the record's bytes" }
  const fields = readCompact(buf, start, end)
  if (typeof fields === "string") return { ok: false, start, end, complete: true, reason: fields }
  return { ok: true, start, end, stream: fields.stream, id: fields.id, hash: fields.hash, chain: fields.chain }
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
