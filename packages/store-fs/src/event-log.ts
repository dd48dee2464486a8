/**
 * The event log on disk: one append-only file of checksummed records (see frame.ts), shared by
 * every process that opens the directory.
 *
 * - Durability: under "fsync" (the default) an append resolves only after fdatasync. Appends that
 *   arrive while one is being written are committed together with one write and one fsync
 *   (group commit).
 * - Several processes: each append takes the directory lock, first reads what other processes
 *   appended since (so versions are judged against the whole log), then writes. A writer keeps
 *   the lock across appends that follow closely (awaited calls in a loop) and lets go once idle
 *   for HOLD_IDLE_MS, after HOLD_MAX_MS, at once when another writer waits (lock.ts), and at close
 *   or exit: taking and releasing it was most of a small append's cost.
 * - Reading writes nothing: opening the log opens the file read-only, creates nothing and takes
 *   no lock, so a read-only store (an audit, a backup on read-only media) and a full disk can be
 *   read. The file is opened for writing, and the directory created, at the first append.
 * - Recovery: a torn tail is an incomplete record (no LF yet) after the last complete one: what a
 *   crash mid-append leaves, never acknowledged. A writer, under the lock, cuts it off, keeps the
 *   bytes beside the log and reports it; a reader leaves it alone (it may be an append in
 *   progress). A complete record whose checksum fails is damage wherever it is, the last record
 *   included: an error naming file and offset, and nothing is ever cut for it.
 * - Opening fast: a snapshot of the index (snapshot.ts) lets a large log open by checking two
 *   records and scanning only what was appended after it. It is checked against the log first
 *   (its own checksum, the log's length, the first record's id and chain, the record at its
 *   position and the chain there); one that does not match is ignored, never believed. Records it
 *   covers are checksummed when they are read instead of when the log is opened. Only a writer
 *   writes it: at close, when the log has grown by `snapshotEveryBytes` past the snapshot it
 *   found (and `repair`, on demand): a read never writes, and a writer has just indexed the log.
 */
import { type AppendResult, type Event, type ExpectedVersion, type NewEvent, type RecordedEvent, StorageError, StoreCorrupted } from "@runledger/core"
import { type AppendRequest, decodeEventValue, GroupCommit, newStreamState, RECENT_IDS, remember, Serial, type Settlement, stageBatch, type StreamState } from "@runledger/core/store-kit"
import { fstatSync, promises as fs, writevSync, writeSync } from "node:fs"
import { join } from "node:path"
import { DirectoryLock } from "./lock.ts"
import { encodeFrameBytes, isFrameSafe, type RecordForm, recordJson, scanFrame, scanFrames, sha256 } from "./frame.ts"
import { compareBytes, decodeSnapshot, encodeSnapshot, type IndexSnapshot, readSnapshotFile, snapshotPath, StreamNames, writeSnapshotFile } from "./snapshot.ts"

export type Durability = "fsync" | "os"

export interface Recovery {
  readonly file: string
  readonly offset: number
  readonly bytes: number
  readonly reason: string
  /** Where the cut bytes were saved. */
  readonly savedTo: string
}

export interface EventLogOptions {
  readonly dir: string
  /** "fsync" (default): resolved appends survive power loss. "os": they survive a crash of this process, not of the machine. */
  readonly durability?: Durability
  /** Told when a torn tail is cut off. Default: a line on stderr. */
  readonly onRecover?: (r: Recovery) => void
  readonly lockTimeoutMs?: number
  /**
   * How new records are written (frame.ts): "compact" (the default: binary, small records
   * deflated) or "text" (one line per record, as every log before the compact form). Either way
   * the log reads records of both forms, so a log keeps what it has and grows in the form asked.
   */
  readonly recordForm?: RecordForm
  /**
   * A writer's close writes a snapshot of the index once the log has grown by this many bytes past
   * the snapshot it opened with (default 1 MiB: a tail that size is scanned in milliseconds).
   */
  readonly snapshotEveryBytes?: number
}

/** What opening made of the index snapshot. */
export interface SnapshotUse {
  /** The log position the snapshot in use covers (0: none was used). */
  readonly records: number
  /** Why a snapshot that was found was not used (null: none was found, or it was used). */
  readonly ignored: string | null
}

export const LOG_FILE = "events.log"
const LOCK_FILE = "events.lock"
const READ_CHUNK = 4 << 20
/**
 * A full read hands out at most this many events at a time, and lets the event loop run between
 * them: a 4 MiB chunk of small records takes hundreds of milliseconds to decode, and a process
 * that folds its log in the background (a server, see the tracker's FOLD_AFTER) must go on
 * answering requests meanwhile.
 */
const DECODE_BATCH = 128
/** ...and at most about this many bytes of records (one record more if a single one is larger). */
const DECODE_BYTES = 256 << 10
const SNAPSHOT_EVERY_BYTES = 1 << 20
/** Reads of one stream's records in flight at once. */
const READ_AHEAD = 32
/**
 * A writer keeps the lock this long after its last append, for the next one (an awaited loop
 * calls again within a fraction of this)...
 */
const HOLD_IDLE_MS = 2
/** ...and, appending without pause, lets go at least this often, even when no waiter is seen. */
const HOLD_MAX_MS = 250
/** The largest buffer kept for events' JSON bytes from commit to commit (see `bodyBytes`). */
const BODY_BUFFER_MAX = 1 << 20

interface StreamEntry extends StreamState {
  readonly positions: number[]
  /**
   * Whether `recent` and `lastHash` are known. A stream restored from a snapshot knows only its
   * positions (and so its version) until a writer first appends to it (see `hydrate`).
   */
  hydrated: boolean
}

/**
 * How many recent ids a stream of `n` events remembers after a scan of the whole log (judge.ts
 * `remember` keeps between RECENT_IDS and 2 x RECENT_IDS), so that a stream restored from a
 * snapshot judges repeated appends exactly as a scanned one.
 */
export const recentLength = (n: number): number => (n <= 2 * RECENT_IDS ? n : RECENT_IDS + ((n - 2 * RECENT_IDS - 1) % (RECENT_IDS + 1)))

/**
 * The streams a snapshot restored, kept compact (typed arrays, names as bytes) until one is used:
 * one object per stream, made at every open, cost a 100k-run store a quarter of a second and as
 * much in garbage. Stream `i`'s positions are order[starts[i]] .. order[starts[i + 1] - 1].
 */
interface Restored {
  readonly records: number
  /** Found by binary search over their bytes: a Map of them took longer to build than the rest of an open. */
  readonly names: StreamNames
  readonly starts: Uint32Array
  readonly order: Uint32Array
}

/** Byte offsets of records by position, growable; slot `count` holds the end of the last record. */
class Offsets {
  private data: Float64Array = new Float64Array(1024)
  count = 0
  push(start: number, end: number): void {
    if (this.count + 2 > this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.count] = start
    this.data[this.count + 1] = end
    this.count++
  }
  /** Take the boundaries of `count` records (count + 1 offsets) restored from a snapshot. */
  load(boundaries: Float64Array, count: number): void {
    this.data = boundaries
    this.count = count
  }
  /** The byte offset where the record at `position` (1-based) starts. */
  startOf(position: number): number {
    return this.data[position - 1]
  }
  endOf(position: number): number {
    return this.data[position]
  }
}

const defaultOnRecover = (r: Recovery) =>
  process.stderr.write(
    `runledger: cut off a torn tail of ${r.bytes} bytes at offset ${r.offset} of ${r.file} (${r.reason}): the end of an append a crash interrupted, so it was never acknowledged. The bytes are kept in ${r.savedTo}.\n`
  )

export class FsEventLog {
  readonly file: string
  private readonly options: EventLogOptions
  private readonly lock: DirectoryLock
  /** Opened at the first append: reading needs neither a writable file nor a directory. */
  private writer: Promise<fs.FileHandle> | null = null
  /** null while the file does not exist yet (nothing to read). */
  private reader: fs.FileHandle | null
  private readonly offsets = new Offsets()
  private readonly streams = new Map<string, StreamEntry>()
  /** Bytes of the file indexed so far: every record before it is checked and known. */
  private end = 0
  /** The whole-log chain after the last indexed record. */
  private chain = ""
  /** Appends that arrive while a batch is being written go together in the next (group commit). */
  private readonly queue = new GroupCommit({
    commit: (batch) => this.locked(() => this.exclusive(() => this.commit(batch))),
    toError: (e) => e instanceof StoreCorrupted || e instanceof StorageError ? e : new StorageError({ message: `Appending to ${this.file} failed: ${e instanceof Error ? e.message : String(e)}`, cause: e })
  })
  private readonly indexing = new Serial()
  /** Work under the lock (a commit, a repair) takes turns: a lock kept from before is shared by this handle only. */
  private readonly lockTurns = new Serial()
  /**
   * Letting go of a lock kept after an append, unless another append comes first. One timer,
   * re-armed per append (`refresh`): a new timer and its clearing per append cost more than the
   * rest of keeping the lock.
   */
  private releaseTimer: NodeJS.Timeout | null = null
  /** When the last work under the lock ended (the timer lets go only HOLD_IDLE_MS after it). */
  private lastLockUse = 0
  /** Events' JSON bytes of the commit being written (see `bodyBytes`), and how much of it is used. */
  private bodyBuffer = Buffer.allocUnsafe(0)
  private bodyUsed = 0
  /** When the lock now kept was taken. */
  private heldSince = 0
  private closed = false
  readonly recoveries: Recovery[] = []
  /** Records up to this position came from a snapshot: their checksums are checked when read. */
  private unchecked = 0
  /** The byte offset the snapshot in use (or last written) covers. */
  private snapshotEnd = 0
  private snapshotUse: SnapshotUse = { records: 0, ignored: null }
  /** Streams from the snapshot not yet in `streams` (see `entryOf`). */
  private restored: Restored | null = null

  private constructor(options: EventLogOptions, reader: fs.FileHandle | null) {
    this.options = options
    this.file = join(options.dir, LOG_FILE)
    this.lock = new DirectoryLock(join(options.dir, LOCK_FILE), options.lockTimeoutMs)
    this.reader = reader
  }

  /** Open the log for reading (read-only, no lock, nothing created); it becomes a writer at its first append. */
  static async open(options: EventLogOptions): Promise<FsEventLog> {
    const log = new FsEventLog(options, await openReader(join(options.dir, LOG_FILE)))
    try {
      await log.exclusive(() => log.restore())
      await log.refresh()
    } catch (e) {
      await log.reader?.close()
      throw e
    }
    return log
  }

  /** What opening made of the index snapshot: the position it covered, or why it was ignored. */
  get snapshot(): SnapshotUse {
    return this.snapshotUse
  }

  /** The number of events in the log (its last position), including other processes' appends. */
  async head(): Promise<number> {
    await this.refresh()
    return this.offsets.count
  }

  /** The whole-log chain hash after the last record: keep it elsewhere to detect a rewritten log. */
  async headChain(): Promise<string> {
    await this.refresh()
    return this.chain
  }

  append(stream: string, events: ReadonlyArray<NewEvent>, expected: ExpectedVersion): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StorageError({ message: `The event log ${this.file} is closed.` }))
    if (!isFrameSafe(stream) || stream.length === 0) {
      return Promise.reject(new StorageError({ message: `Stream name ${JSON.stringify(stream)} is empty or has a tab or newline.` }))
    }
    for (const e of events) {
      if (!isFrameSafe(e.id) || e.id.length === 0) {
        return Promise.reject(new StorageError({ message: `Event id ${JSON.stringify(e.id)} is empty or has a tab or newline.` }))
      }
    }
    return this.queue.submit({ stream, events, expected })
  }

  async readStream(stream: string): Promise<RecordedEvent[]> {
    await this.refresh()
    const entry = this.entryOf(stream)
    if (entry === undefined) return []
    // The records lie apart in the file: read READ_AHEAD of them at a time, not one after another.
    const positions = entry.positions.slice()
    const out: RecordedEvent[] = []
    for (let i = 0; i < positions.length; i += READ_AHEAD) {
      const events = await Promise.all(positions.slice(i, i + READ_AHEAD).map((p) => this.readAt(p)))
      for (const [k, event] of events.entries()) {
        if (event.stream !== stream) throw this.corrupted(this.offsets.startOf(positions[i + k]), `the index places the record in ${stream}, but it belongs to ${event.stream}`)
        out.push(event)
      }
    }
    return out
  }

  /**
   * Events after `from`, in log order. Record boundaries are known from the index, so each read
   * takes whole records, about READ_CHUNK bytes at a time (one larger record alone): memory stays
   * bounded by the chunk or the largest record, and no bytes are copied twice.
   */
  async *readAll(from = 0): AsyncGenerator<RecordedEvent[]> {
    await this.refresh()
    const last = this.offsets.count
    let position = from + 1
    // Decoding copies everything out of the buffer, so one buffer serves every read.
    let pool = Buffer.allocUnsafe(0)
    while (position <= last) {
      const start = this.offsets.startOf(position)
      let upTo = position
      while (upTo < last && this.offsets.endOf(upTo + 1) - start <= READ_CHUNK) upTo++
      const end = this.offsets.endOf(upTo)
      if (pool.length < end - start) pool = Buffer.allocUnsafe(Math.max(end - start, READ_CHUNK))
      const buf = pool.subarray(0, end - start)
      const { bytesRead } = await this.reader!.read(buf, 0, buf.length, start)
      if (bytesRead !== buf.length) throw new StorageError({ message: `${this.file} ended early at offset ${start + bytesRead}; was it truncated by hand?` })
      for (let from = position; from <= upTo;) {
        if (from > position) await new Promise<void>((resolve) => setImmediate(resolve))
        const batch: RecordedEvent[] = []
        const first = this.offsets.startOf(from)
        let p = from
        // Bounded by bytes too: a batch of large metric records takes as long to decode (and fold)
        // as thousands of small ones, and requests wait for it.
        for (; p <= upTo && p < from + DECODE_BATCH && this.offsets.startOf(p) - first < DECODE_BYTES; p++) {
          const a = this.offsets.startOf(p) - start
          const b = this.offsets.endOf(p) - start
          batch.push(this.decode(buf, a, b, start + a, p))
        }
        from = p
        yield batch
      }
      position = upTo + 1
    }
  }

  /**
   * A writer's repair without an append (`runledger repair`): under the lock, cut off a torn tail
   * if there is one (kept beside the log and reported, as on any append), and remove what dead
   * processes left beside the lock. Returns what was cut and how many leftovers went.
   * Damage (a complete record that fails its checks) is an error: it is never cut.
   */
  async repair(): Promise<{ readonly tornTail: Recovery | null; readonly lockLeftovers: number }> {
    const before = this.recoveries.length
    const lockLeftovers = await this.locked(async () => {
      await this.exclusive(() => this.catchUp(true))
      return this.lock.sweep()
    })
    await this.writeSnapshot()
    return { tornTail: this.recoveries.length > before ? this.recoveries[this.recoveries.length - 1] : null, lockLeftovers }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue.idle()
    await this.lockTurns.run(() => this.releaseLock())
    if (this.writer !== null && this.end - this.snapshotEnd >= (this.options.snapshotEveryBytes ?? SNAPSHOT_EVERY_BYTES)) {
      // A snapshot is a cache: failing to write one (a full disk) costs the next open its speed,
      // nothing else, so it does not fail the close.
      await this.writeSnapshot().catch(() => {})
    }
    if (this.writer !== null) await (await this.writer.catch(() => null))?.close()
    await this.reader?.close()
  }

  /**
   * Write a snapshot of the index as it stands (a writer's job: the CLI's `repair`, a writer's
   * close). Returns where and how big, or null for an empty log.
   */
  async writeSnapshot(): Promise<{ readonly file: string; readonly records: number; readonly bytes: number } | null> {
    const built = await this.exclusive(() => this.buildSnapshot())
    if (built === null) return null
    const bytes = encodeSnapshot(built)
    await writeSnapshotFile(this.options.dir, bytes)
    this.snapshotEnd = Math.max(this.snapshotEnd, built.header.end)
    return { file: snapshotPath(this.options.dir), records: built.header.records, bytes: bytes.length }
  }

  private async buildSnapshot(): Promise<IndexSnapshot | null> {
    await this.catchUp(false)
    const records = this.offsets.count
    if (records === 0) return null
    const first = await this.frameAt(1)
    if (!first.ok) throw this.corrupted(0, first.reason)
    const lengths = new Uint32Array(records)
    for (let p = 1; p <= records; p++) lengths[p - 1] = this.offsets.endOf(p) - this.offsets.startOf(p)
    // Every stream, sorted by name: the restored ones (sorted already) merged with the new ones.
    // A stream in `streams` has all its positions there (entryOf copies a restored one's).
    const restored = this.restored
    const added: Array<{ readonly bytes: Buffer; readonly positions: ReadonlyArray<number> }> = []
    for (const [name, entry] of this.streams) if (restored === null || restored.names.find(name) < 0) added.push({ bytes: Buffer.from(name), positions: entry.positions })
    added.sort((a, b) => compareBytes(a.bytes, b.bytes))
    const old = restored?.names
    const streams = (old?.count ?? 0) + added.length
    const names: Buffer[] = []
    const starts = new Uint32Array(streams + 1)
    const order = new Uint32Array(records)
    let k = 0
    const put = (bytes: Buffer, positions: ArrayLike<number>, from = 0, to = positions.length) => {
      names.push(bytes)
      for (let i = from; i < to; i++) order[k++] = positions[i]
      starts[names.length] = k
    }
    for (let i = 0, j = 0; i < (old?.count ?? 0) || j < added.length;) {
      if (j >= added.length || (old !== undefined && i < old.count && compareBytes(old.bytesOf(i), added[j].bytes) < 0)) {
        const entry = this.streams.size === 0 ? undefined : this.streams.get(old!.name(i))
        if (entry !== undefined) put(old!.bytesOf(i), entry.positions)
        else put(old!.bytesOf(i), restored!.order, restored!.starts[i], restored!.starts[i + 1])
        i++
      } else {
        put(added[j].bytes, added[j].positions)
        j++
      }
    }
    return { header: { records, end: this.end, chain: this.chain, firstId: first.id, firstChain: first.chain, streams }, lengths, starts, order, names: StreamNames.of(names) }
  }

  /**
   * Take the index from the snapshot when it matches this log; otherwise leave the index empty
   * (the caller scans the log) and note why.
   */
  private async restore(): Promise<void> {
    if (this.reader === null) return
    const file = await readSnapshotFile(this.options.dir)
    if (file === null) return
    const ignore = (why: string) => {
      this.snapshotUse = { records: 0, ignored: `${snapshotPath(this.options.dir)} was not used: ${why}` }
    }
    if (typeof file === "string") return ignore(file)
    const snapshot = decodeSnapshot(file)
    if (typeof snapshot === "string") return ignore(snapshot)
    const { header, lengths, boundaries, starts, order, names } = snapshot
    const { size } = await this.reader.stat()
    if (size < header.end) return ignore(`the log is shorter (${size} bytes) than the ${header.end} bytes it covers`)
    const first = await this.frameAt(1, 0, lengths[0])
    if (!first.ok || first.end !== lengths[0] || first.id !== header.firstId || first.chain !== header.firstChain) return ignore("it belongs to another log (the first record differs)")
    const lastLength = lengths[header.records - 1]
    const last = await this.frameAt(header.records, header.end - lastLength, lastLength)
    // The last record is its stream's last.
    const lastStream = last.ok ? names.find(last.stream) : -1
    if (!last.ok || last.end !== lastLength || last.chain !== header.chain || lastStream < 0 || order[starts[lastStream + 1] - 1] !== header.records) {
      return ignore(`the log's record at position ${header.records} does not match it (the log was rewritten, or it is another log's)`)
    }
    this.offsets.load(boundaries, header.records)
    this.restored = { records: header.records, names, starts, order }
    this.end = header.end
    this.chain = header.chain
    this.unchecked = header.records
    this.snapshotEnd = header.end
    this.snapshotUse = { records: header.records, ignored: null }
  }

  /**
   * The frame of the record at `position`, checked (checksum, fields); by default where the index
   * puts it.
   */
  private async frameAt(position: number, start = this.offsets.startOf(position), length = this.offsets.endOf(position) - start) {
    const buf = Buffer.allocUnsafe(length)
    const { bytesRead } = await this.reader!.read(buf, 0, length, start)
    return scanFrame(buf, 0, bytesRead)
  }

  /** A stream's entry; one the snapshot restored is made when first asked for. */
  private entryOf(stream: string): StreamEntry | undefined {
    const entry = this.streams.get(stream)
    if (entry !== undefined || this.restored === null) return entry
    const s = this.restored.names.find(stream)
    if (s < 0) return undefined
    const { starts, order } = this.restored
    const positions: number[] = []
    for (let k = starts[s]; k < starts[s + 1]; k++) positions.push(order[k])
    const made: StreamEntry = { ...newStreamState(), version: positions.length, positions, hydrated: false }
    this.streams.set(stream, made)
    return made
  }

  /**
   * A stream restored from a snapshot learns its recent ids and last hash (what judging and
   * stamping an append need) from its last records, before its first append here.
   */
  private async hydrate(stream: string): Promise<void> {
    const entry = this.entryOf(stream)
    if (entry === undefined || entry.hydrated) return
    const n = entry.positions.length
    const recent: Array<{ id: string; position: number }> = []
    let lastHash = ""
    for (let i = n - recentLength(n); i < n; i++) {
      const position = entry.positions[i]
      const frame = await this.frameAt(position)
      if (!frame.ok) throw this.corrupted(this.offsets.startOf(position), frame.reason)
      if (frame.stream !== stream) throw this.corrupted(this.offsets.startOf(position), `the index places the record in ${stream}, but it belongs to ${frame.stream}`)
      recent.push({ id: frame.id, position })
      lastHash = frame.hash
    }
    entry.recent.length = 0
    for (const r of recent) entry.recent.push(r)
    entry.lastHash = lastHash
    entry.version = n
    entry.hydrated = true
  }

  // -- reading --------------------------------------------------------------

  /**
   * Decode a record the index has already checked (its checksum was verified when it was indexed,
   * so reads do not pay for it again; `runledger verify` re-checks everything).
   */
  private decode(buf: Buffer, start: number, end: number, fileOffset: number, position: number): RecordedEvent {
    if (position <= this.unchecked) {
      // Indexed from a snapshot, not checked by this process yet: checked now.
      const frame = scanFrame(buf, start, end)
      if (!frame.ok) throw this.corrupted(fileOffset, frame.reason)
      if (frame.end !== end) throw this.corrupted(fileOffset, "the record is shorter than the index snapshot says")
    }
    let json: Buffer
    try {
      json = recordJson(buf, start, end)
    } catch (e) {
      throw this.corrupted(fileOffset, `the record changed after it was indexed: ${e instanceof Error ? e.message : String(e)}`)
    }
    let event: Event
    try {
      event = decodeEventValue(JSON.parse(json.toString("utf8")))
    } catch (e) {
      throw this.corrupted(fileOffset, `the record does not decode: ${e instanceof Error ? e.message : String(e)}`)
    }
    return Object.assign(event, { position }) as RecordedEvent
  }

  private async readAt(position: number): Promise<RecordedEvent> {
    const start = this.offsets.startOf(position)
    const length = this.offsets.endOf(position) - start
    const buf = Buffer.allocUnsafe(length)
    const { bytesRead } = await this.reader!.read(buf, 0, length, start)
    if (bytesRead !== length) throw new StorageError({ message: `${this.file} ended early at offset ${start}; was it truncated by hand?` })
    return this.decode(buf, 0, length, start, position)
  }

  private corrupted(offset: number, reason: string): StoreCorrupted {
    return new StoreCorrupted({
      file: this.file,
      offset,
      message: `${this.file} is damaged at byte offset ${offset}: ${reason}. The record is complete (all its bytes are there), so this is not a crash's torn tail, and nothing was cut. Run \`runledger verify\` and restore the file from a backup.`
    })
  }

  /**
   * The index is shared by readers and the writer of this handle: catching up and writing+indexing
   * take turns, or two of them would index the same records twice.
   */
  private exclusive<A>(f: () => Promise<A>): Promise<A> {
    return this.indexing.run(f)
  }

  /** Index what other processes appended. */
  private refresh(): Promise<void> {
    return this.exclusive(() => this.catchUp(false))
  }

  /**
   * Index records from `end` to the end of the file. A complete record that fails its checks is
   * damage (an error). An incomplete last record: under the lock nobody is writing, so it is a
   * crash's leftover and is cut off; without it, it may be an append in progress and is left for later.
   */
  private async catchUp(underLock: boolean): Promise<void> {
    this.reader ??= await openReader(this.file)
    if (this.reader === null) return
    // Synchronous for the reason writeAll gives: every append and every read starts here.
    const { size } = fstatSync(this.reader.fd)
    const { end, tail: torn } = await scanFrames(this.reader, this.end, size, READ_CHUNK, (frame, _buf, base) => {
      if (!frame.ok) throw this.corrupted(base + frame.start, frame.reason)
      this.index(frame.stream, frame.id, frame.hash, frame.chain, base + frame.start, base + frame.end)
    })
    if (torn === null || !underLock) return
    const tailAt = end - torn
    const reason = "the record has no end (an interrupted write)"
    // Nothing is thrown away: the cut bytes are kept beside the log first.
    const savedTo = `${this.file}.torn-${tailAt}-${Date.now()}`
    const tail = Buffer.allocUnsafe(size - tailAt)
    await this.reader.read(tail, 0, tail.length, tailAt)
    await fs.writeFile(savedTo, tail, { flush: true })
    const recovery = { file: this.file, offset: tailAt, bytes: size - tailAt, reason, savedTo }
    const writer = await this.openWriter()
    await writer.truncate(tailAt)
    await writer.sync()
    this.recoveries.push(recovery)
    ;(this.options.onRecover ?? defaultOnRecover)(recovery)
  }

  private index(stream: string, id: string, hash: string, chain: string, start: number, end: number): void {
    this.offsets.push(start, end)
    let entry = this.entryOf(stream)
    if (entry === undefined) {
      entry = { ...newStreamState(), positions: [], hydrated: true }
      this.streams.set(stream, entry)
    }
    entry.positions.push(this.offsets.count)
    if (entry.hydrated) {
      entry.lastHash = hash
      remember(entry, id, this.offsets.count)
    } else entry.version++
    this.end = end
    this.chain = chain
  }

  // -- writing (group commit) -------------------------------------------------

  /** The file opened for appending, and the directory created, once: only a writer needs them. */
  private openWriter(): Promise<fs.FileHandle> {
    this.writer ??= (async () => {
      await fs.mkdir(this.options.dir, { recursive: true })
      const existed = await fs.access(this.file).then(() => true, () => false)
      const writer = await fs.open(this.file, "a")
      if (!existed) await syncDir(this.options.dir)
      return writer
    })()
    // A failure (a read-only store, say) is reported to this append and retried by the next.
    this.writer.catch(() => (this.writer = null))
    return this.writer
  }

  /**
   * Run `f` under the directory lock. The lock may be one kept from the last append (see the
   * header): it is used only if it is still this process's file, and it is let go right after `f`
   * when another writer waits, the handle is closing, or it has been kept HOLD_MAX_MS; otherwise
   * HOLD_IDLE_MS later unless another append comes first. Either way `f` starts with what other
   * processes appended read (catchUp), so a kept lock changes no verdict.
   */
  private locked<A>(f: () => Promise<A>): Promise<A> {
    return this.lockTurns.run(async () => {
      await this.openWriter()
      if (!this.lock.stillMine()) {
        await this.lock.acquire()
        this.heldSince = Date.now()
      }
      try {
        return await f()
      } finally {
        if (this.lock.othersWaiting()) await this.releaseLock(true)
        else if (this.closed || Date.now() - this.heldSince >= HOLD_MAX_MS) await this.releaseLock()
        else {
          this.lastLockUse = Date.now()
          if (this.releaseTimer === null) this.releaseTimer = setTimeout(() => this.releaseWhenIdle(), HOLD_IDLE_MS)
          else this.releaseTimer.refresh()
        }
      }
    })
  }

  /** The timer's turn: let go if nothing used the lock for HOLD_IDLE_MS, else look again then. */
  private releaseWhenIdle(): void {
    // Queued behind any work under the lock; a failed release (the lock's directory gone, say)
    // leaves the lock to the next append's check.
    void this.lockTurns.run(async () => {
      if (this.releaseTimer === null || !this.lock.isHeld) return
      if (Date.now() - this.lastLockUse < HOLD_IDLE_MS) this.releaseTimer.refresh()
      else await this.releaseLock()
    }).catch(() => {})
  }

  private async releaseLock(toWaiter = false): Promise<void> {
    if (this.releaseTimer !== null) {
      clearTimeout(this.releaseTimer)
      this.releaseTimer = null
    }
    await this.lock.release(toWaiter)
  }

  /**
   * An event's JSON as UTF-8, in a buffer reused from commit to commit: the bytes are hashed,
   * framed and written before the commit's first await, and commits run one at a time, so the
   * next commit may write over them. A metric batch's JSON is tens of KiB, and a buffer of its
   * own per append was memory outside the heap for the garbage collector to track and free. An
   * event larger than BODY_BUFFER_MAX gets a buffer of its own, not kept.
   */
  private bodyBytes(json: string): Buffer {
    const n = Buffer.byteLength(json)
    if (n > BODY_BUFFER_MAX) return Buffer.from(json)
    if (this.bodyUsed + n > this.bodyBuffer.length) {
      // Slices handed out earlier in this commit keep the old buffer alive until it is written.
      this.bodyBuffer = Buffer.allocUnsafe(Math.min(BODY_BUFFER_MAX, Math.max(this.bodyBuffer.length * 2, n, 64 << 10)))
      this.bodyUsed = 0
    }
    const out = this.bodyBuffer.subarray(this.bodyUsed, this.bodyUsed + n)
    out.write(json)
    this.bodyUsed += n
    return out
  }

  /** Write what can be written; returns how to answer each caller (answered once it returns). */
  private async commit(batch: ReadonlyArray<AppendRequest>): Promise<ReadonlyArray<Settlement>> {
    await this.catchUp(true)
    for (const request of batch) await this.hydrate(request.stream)
    this.bodyUsed = 0
    const staged = stageBatch(batch, { count: this.offsets.count, chain: this.chain }, (stream) => this.entryOf(stream), { sha256, body: (json) => this.bodyBytes(json) })
    if (staged.records.length === 0) return staged.settlements
    const pieces: Uint8Array[] = []
    const sizes: number[] = []
    for (const r of staged.records) {
      const frame = encodeFrameBytes(r.stream, r.id, r.body, r.hash, r.chain, this.options.recordForm)
      for (const piece of frame.pieces) pieces.push(piece)
      sizes.push(frame.bytes)
    }
    const before = this.end
    const writer = await this.openWriter()
    try {
      writeAll(writer.fd, pieces)
      if ((this.options.durability ?? "fsync") === "fsync") await writer.datasync()
    } catch (e) {
      // Leave no partial record behind: the next append would otherwise find damage, not a tail.
      await writer.truncate(before).catch(() => {})
      throw e
    }
    let at = before
    staged.records.forEach((r, i) => {
      this.index(r.stream, r.id, r.hash, r.chain, at, at + sizes[i])
      at += sizes[i]
    })
    return staged.settlements
  }
}

/**
 * One gathered write where possible; a short write (rare, e.g. a full disk) is finished piece by
 * piece. Synchronous: handing bytes to the page cache takes microseconds, while an asynchronous
 * write costs a round trip through libuv's thread pool, a large share of a small append's time.
 * (The fdatasync that follows, which can take milliseconds on a real disk, stays asynchronous.)
 */
const writeAll = (fd: number, pieces: Uint8Array[]): void => {
  const total = pieces.reduce((n, p) => n + p.length, 0)
  const bytesWritten = writevSync(fd, pieces)
  if (bytesWritten === total) return
  const rest = Buffer.concat(pieces).subarray(bytesWritten)
  let written = 0
  while (written < rest.length) written += writeSync(fd, rest, written, rest.length - written)
}

/** The log opened read-only; null when it does not exist (yet). */
const openReader = (file: string): Promise<fs.FileHandle | null> =>
  fs.open(file, "r").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null
    throw e
  })

const syncDir = async (dir: string): Promise<void> => {
  const fh = await fs.open(dir, "r")
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export { syncDir }
