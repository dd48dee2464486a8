/**
 * The EventStore on a DuckDB file: the same contract as the directory store (checked by
 * test/store-conformance.ts), with the log as one table
 *
 *   events(position BIGINT PRIMARY KEY, stream, version, id, type, at, json, hash, chain)
 *
 * - Appends follow core's store-kit: versions, conflicts and idempotent retries judged by its
 *   rules, and group commit (appends that arrive while one is committing are judged in order and
 *   written together, in one transaction: one WAL sync, through the appender).
 * - Audit: `prev`, `hash` and `chain` are stamped by store-kit's one hash rule, and `verify` runs
 *   its checks, so a log verifies the same way whichever store holds it.
 *
 * DuckDB allows one writing process per database file (it locks the file), so this store suits one
 * process; multi-process sweeps (several workers appending to one store) use the directory store.
 */
import { BIGINT, DOUBLE, DuckDBConnection, DuckDBDataChunk, DuckDBInstance, type DuckDBType, VARCHAR } from "@duckdb/node-api"
import { type AppendResult, type Event, type ExpectedVersion, type NewEvent, type RecordedEvent, StorageError, StoreCorrupted } from "@runledger/core"
import {
  type AppendRequest,
  type AuditRecord,
  decodeEventValue,
  GroupCommit,
  newStreamState,
  RECENT_IDS,
  remember,
  Serial,
  type Settlement,
  type Sha256,
  stageBatch,
  type StampedEvent,
  type StreamState,
  verifyRecords
} from "@runledger/core/store-kit"
import { createHash } from "node:crypto"
import { claimFile, releaseFile } from "./file-claims.ts"
import { toNumber } from "./values.ts"

export interface DuckDBEventStoreOptions {
  /** The database file, created if missing (":memory:" for a throwaway store). */
  readonly file: string
  /** Events per batch that `readAll` yields (default 512): memory stays bounded by it. */
  readonly readBatch?: number
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position BIGINT PRIMARY KEY,
    stream VARCHAR NOT NULL,
    version BIGINT NOT NULL,
    id VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    "at" DOUBLE NOT NULL,           -- quoted: AT is a keyword in DuckDB
    json VARCHAR NOT NULL,
    hash VARCHAR NOT NULL,
    chain VARCHAR NOT NULL
  );
  -- readStream and the lazy load of a stream's recent ids look a stream up by name.
  CREATE INDEX IF NOT EXISTS events_stream ON events (stream);
`

const COLUMN_TYPES: ReadonlyArray<DuckDBType> = [BIGINT, VARCHAR, BIGINT, VARCHAR, VARCHAR, DOUBLE, VARCHAR, VARCHAR, VARCHAR]
const CHUNK_ROWS = 2048

/** The digest store-kit's hash rule runs on. */
const sha256: Sha256 = (data) => createHash("sha256").update(data).digest("hex")

/** A row of the events table: the JSON is kept as text. */
type Row = StampedEvent<string>

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export class DuckDBEventStore {
  readonly file: string
  private readonly instance: DuckDBInstance
  /** Appends (and the stream loads they need) run here, one commit at a time. */
  private readonly writer: DuckDBConnection
  /** Reads run here, one at a time; they see committed events only. */
  private readonly reader: DuckDBConnection
  private readonly reads = new Serial()
  private readonly readBatch: number
  /** Streams touched by appends since open; others are loaded from the table when first appended to. */
  private readonly streams = new Map<string, StreamState>()
  /** The committed head: the last position and the whole-log chain after it. */
  private count: number
  private chain: string
  private readonly queue = new GroupCommit({
    commit: (batch) => this.commit(batch),
    toError: (e) => this.appendError(e)
  })
  private closed = false

  private constructor(file: string, instance: DuckDBInstance, writer: DuckDBConnection, reader: DuckDBConnection, head: { count: number; chain: string }, readBatch: number) {
    this.file = file
    this.instance = instance
    this.writer = writer
    this.reader = reader
    this.count = head.count
    this.chain = head.chain
    this.readBatch = readBatch
  }

  static async open(options: DuckDBEventStoreOptions): Promise<DuckDBEventStore> {
    const { file } = options
    if (!claimFile(file)) {
      throw new StorageError({ message: `${file} is already open in this process; share that handle, or close it before opening the file again.` })
    }
    let instance: DuckDBInstance | undefined
    try {
      instance = await DuckDBInstance.create(file)
      const writer = await instance.connect()
      const reader = await instance.connect()
      await writer.run(SCHEMA)
      const head = (await writer.runAndReadAll("SELECT count(*), coalesce(max(position), 0), arg_max(chain, position) FROM events")).getRows()[0]
      const count = toNumber(head[0])
      const last = toNumber(head[1])
      if (count !== last) {
        throw new StoreCorrupted({ file, offset: 0, message: `${file} holds ${count} events but its last position is ${last}: positions must run 1, 2, 3, ... without gaps. Restore the file from a backup.` })
      }
      return new DuckDBEventStore(file, instance, writer, reader, { count, chain: (head[2] as string | null) ?? "" }, options.readBatch ?? 512)
    } catch (e) {
      instance?.closeSync()
      releaseFile(file)
      throw e instanceof StoreCorrupted || e instanceof StorageError ? e : new StorageError({ message: `Opening the event store ${file}: ${message(e)}`, cause: e })
    }
  }

  /** The position of the last committed event (0 when empty). */
  async head(): Promise<number> {
    return this.count
  }

  /** The whole-log chain after the last event: keep it elsewhere to detect a rewritten log. */
  async headChain(): Promise<string> {
    return this.chain
  }

  append(stream: string, events: ReadonlyArray<NewEvent>, expected: ExpectedVersion): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StorageError({ message: `The event store ${this.file} is closed.` }))
    if (stream.length === 0) return Promise.reject(new StorageError({ message: "The stream name is empty." }))
    for (const e of events) {
      if (typeof e.id !== "string" || e.id.length === 0) return Promise.reject(new StorageError({ message: `An event for ${stream} has an empty id.` }))
    }
    return this.queue.submit({ stream, events, expected })
  }

  /** Every committed event of one stream, in version order. */
  readStream(stream: string): Promise<RecordedEvent[]> {
    return this.reads.run(async () => {
      this.ensureOpen()
      const rows = (await this.reader.runAndReadAll("SELECT position, json FROM events WHERE stream = $1 ORDER BY version", [stream])).getRows()
      return rows.map(([position, json]) => this.decode(toNumber(position), json as string))
    })
  }

  /**
   * Events after `from`, in position order, `readBatch` at a time: memory stays bounded by one
   * batch. The end is the head when the read starts; appends after that are left for the next read.
   */
  async *readAll(from = 0): AsyncGenerator<RecordedEvent[]> {
    const last = this.count
    for (let at = from; at < last;) {
      const upTo = Math.min(last, at + this.readBatch)
      const low = at
      const batch = await this.reads.run(async () => {
        this.ensureOpen()
        const rows = (await this.reader.runAndReadAll(
          "SELECT position, json FROM events WHERE position > $1 AND position <= $2 ORDER BY position",
          [BigInt(low), BigInt(upTo)]
        )).getRows()
        return rows.map(([position, json]) => this.decode(toNumber(position), json as string))
      })
      if (batch.length !== upTo - at) {
        throw new StoreCorrupted({ file: this.file, offset: at + 1, message: `${this.file} lacks events between positions ${at + 1} and ${upTo}. Restore the file from a backup.` })
      }
      at = upTo
      yield batch
    }
  }

  /**
   * Check the audit trail with store-kit's checks: each event's hash is the sha256 of its JSON,
   * its `prev` is the hash of its stream's previous event, versions run 1, 2, 3 per stream, ids
   * are used once per stream, positions have no gap, and the whole-log chain holds.
   * Returns the problems found (empty when the log is intact).
   */
  async verify(): Promise<{ readonly events: number; readonly problems: ReadonlyArray<string> }> {
    const report = await verifyRecords(this.records(), sha256)
    return { events: report.events, problems: report.findings.map((f) => f.message) }
  }

  /** The stored rows up to the head, `readBatch` at a time. */
  private async *records(): AsyncGenerator<AuditRecord[]> {
    const end = this.count
    for (let at = 0; at < end;) {
      const low = at
      const upTo = Math.min(end, at + this.readBatch)
      const rows = await this.reads.run(async () =>
        (await this.reader.runAndReadAll(
          "SELECT position, stream, version, id, json, hash, chain FROM events WHERE position > $1 AND position <= $2 ORDER BY position",
          [BigInt(low), BigInt(upTo)]
        )).getRows()
      )
      if (rows.length === 0) return
      yield (rows as Array<[bigint, string, bigint, string, string, string, string]>).map(([position, stream, version, id, json, hash, chain]) => ({ position: Number(position), stream, version: Number(version), id, json, hash, chain }))
      at = upTo
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue.idle()
    await this.reads.run(async () => {})
    this.reader.closeSync()
    this.writer.closeSync()
    this.instance.closeSync()
    releaseFile(this.file)
  }

  // -- reading ----------------------------------------------------------------

  private ensureOpen(): void {
    if (this.closed) throw new StorageError({ message: `The event store ${this.file} is closed.` })
  }

  private decode(position: number, json: string): RecordedEvent {
    let event: Event
    try {
      event = decodeEventValue(JSON.parse(json))
    } catch (e) {
      throw new StoreCorrupted({ file: this.file, offset: position, message: `The event at position ${position} of ${this.file} does not decode: ${message(e)}. Run verify and restore the file from a backup.` })
    }
    return Object.assign(event, { position }) as RecordedEvent
  }

  // -- writing (group commit) -------------------------------------------------

  /** A stream's version, latest ids and last hash, from the table the first time it is appended to. */
  private async loadStream(stream: string): Promise<StreamState> {
    const known = this.streams.get(stream)
    if (known !== undefined) return known
    const rows = (await this.writer.runAndReadAll(
      `SELECT version, id, position, hash FROM events WHERE stream = $1 ORDER BY version DESC LIMIT ${RECENT_IDS}`,
      [stream]
    )).getRows()
    const entry = newStreamState()
    if (rows.length > 0) {
      entry.version = toNumber(rows[0][0]) - rows.length
      entry.lastHash = rows[0][3] as string
      for (let i = rows.length - 1; i >= 0; i--) remember(entry, rows[i][1] as string, toNumber(rows[i][2]))
    }
    this.streams.set(stream, entry)
    return entry
  }

  private async commit(batch: ReadonlyArray<AppendRequest>): Promise<ReadonlyArray<Settlement>> {
    for (const p of batch) await this.loadStream(p.stream)
    const staged = stageBatch(batch, { count: this.count, chain: this.chain }, (stream) => this.streams.get(stream), { sha256, body: (json) => json })
    if (staged.records.length > 0) {
      try {
        await this.write(staged.records)
      } catch (e) {
        // Nothing of this batch is in the log. Repeats are refused too (they may repeat an append
        // of this very batch); a retry by the caller gets the right answer.
        return staged.failed(this.appendError(e))
      }
    }
    for (const [stream, entry] of staged.streams) this.streams.set(stream, entry)
    this.count = staged.head.count
    this.chain = staged.head.chain
    return staged.settlements
  }

  private appendError(e: unknown): StorageError | StoreCorrupted {
    return e instanceof StorageError || e instanceof StoreCorrupted ? e : new StorageError({ message: `Appending to ${this.file} failed: ${message(e)}`, cause: e })
  }

  /** One transaction: every row of the batch, or none. */
  private async write(rows: ReadonlyArray<Row>): Promise<void> {
    await this.writer.run("BEGIN TRANSACTION")
    try {
      const appender = await this.writer.createAppender("events")
      try {
        for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
          const part = rows.slice(start, start + CHUNK_ROWS)
          const chunk = DuckDBDataChunk.create(COLUMN_TYPES, part.length)
          chunk.setColumnValues(0, part.map((r) => BigInt(r.position)))
          chunk.setColumnValues(1, part.map((r) => r.stream))
          chunk.setColumnValues(2, part.map((r) => BigInt(r.version)))
          chunk.setColumnValues(3, part.map((r) => r.id))
          chunk.setColumnValues(4, part.map((r) => r.type))
          chunk.setColumnValues(5, part.map((r) => r.at))
          chunk.setColumnValues(6, part.map((r) => r.body))
          chunk.setColumnValues(7, part.map((r) => r.hash))
          chunk.setColumnValues(8, part.map((r) => r.chain))
          appender.appendDataChunk(chunk)
        }
        appender.closeSync()
      } catch (e) {
        try {
          appender.clear()
          appender.closeSync()
        } catch {
          // The transaction is rolled back below either way.
        }
        throw e
      }
      await this.writer.run("COMMIT")
    } catch (e) {
      await this.writer.run("ROLLBACK").catch(() => {})
      throw e
    }
  }
}
