/**
 * The analytical read model: runs, params, tags, metrics and the rest (schema.ts) in a DuckDB
 * file of its own, kept in step with any event log by catching up from the position it has folded.
 *
 * - Catch-up applies the events after the stored position in transactions of bounded size, each
 *   of which also records the position reached: a crash or an error mid-way leaves the last
 *   committed position, and the next catch-up resumes from it without applying anything twice.
 * - `rebuild()` drops the tables and replays from position 0: the tables come out identical.
 * - `sql()` is for users, read-only (read-only-sql.ts); the instance cannot reach any file but its own.
 *
 * One process writes a DuckDB file at a time (DuckDB locks it), and one handle per file per process.
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api"
import { InvalidInput, StorageError } from "@runledger/core"
import { Data } from "effect"
import { existsSync } from "node:fs"
import { claimFile, releaseFile } from "@runledger/store-duckdb"
import { Ingest, Unfoldable } from "./ingest.ts"
import { type ReadOnlyOptions, type RowSink, runColumns, runDoubles, runReadOnly, type SqlParam, type SqlRow, streamReadOnly } from "./read-only-sql.ts"
import { CREATE_SCHEMA, DROP_SCHEMA, SCHEMA_VERSION } from "./schema.ts"
import { Serial } from "@runledger/core/store-kit"
import { ConnectionPool } from "./connection-pool.ts"
import { type EventSource, firstEventId, openSource } from "./source.ts"
import { toNumber } from "@runledger/store-duckdb"

export interface ReadModelOptions {
  /** The database file, created if missing (":memory:" for a throwaway model). */
  readonly file: string
  /** DuckDB worker threads (default: one per core). */
  readonly threads?: number
  /**
   * The most memory DuckDB may use for this read model, catch-up and queries alike, as DuckDB
   * reads it ("2GB", "512MB"; default DuckDB's, 80% of RAM). A query that needs more fails with
   * an error instead of taking the process down.
   */
  readonly memoryLimit?: string
  /**
   * A metric series is summarised in metric_blocks, for charts, once it has this many points
   * (default 256); shorter ones are charted from their points.
   */
  readonly summariseAfter?: number
}

export interface CatchUpOptions {
  /** Told after each committed transaction: the position folded so far, and the log's head when known. */
  readonly onProgress?: (position: number, head: number | undefined) => void
  /** Commit once a transaction holds this many metric points (default 1,000,000). */
  readonly maxPoints?: number
  /** Commit once a transaction holds this many events (default 10,000). */
  readonly maxEvents?: number
}

export interface CatchUpResult {
  /** The position before and after. */
  readonly from: number
  readonly position: number
  readonly events: number
  readonly points: number
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Another process has the file open: DuckDB lets one process at a time hold a database file
 * (reading included). Usually brief (a catch-up, a query): wait and try again.
 */
export class ReadModelBusy extends Data.TaggedError("ReadModelBusy")<{ readonly file: string; readonly message: string }> {}

/**
 * The file is not a usable read model: truncated, empty, garbage, a directory, or a write-ahead
 * log that does not apply. It is a projection, so it can be set aside and rebuilt from the log.
 */
export class ReadModelDamaged extends Data.TaggedError("ReadModelDamaged")<{ readonly file: string; readonly message: string; readonly cause?: unknown }> {}

/** The read model was folded from another log (or from this log before it was replaced): rebuild it. */
export class ReadModelForeign extends Data.TaggedError("ReadModelForeign")<{ readonly file: string; readonly why: string; readonly message: string }> {}

/**
 * An event of the log that the read model cannot fold (a value no column holds, a shape it does not
 * know). The catch-up stops before it, never skipping it: the read model would silently disagree
 * with the log. The message names the event.
 */
export class EventNotFoldable extends Data.TaggedError("EventNotFoldable")<{
  readonly position: number
  readonly id: string
  readonly type: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** A size DuckDB's memory_limit takes. */
export const MEMORY_LIMIT = /^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i

// DuckDB's message when another process holds the file's lock.
const LOCK_CONFLICT = /Could not set lock on file|Conflicting lock is held/
// Not the file's fault: the directory is not writable, or access is denied.
const NO_ACCESS = /Permission denied|Read-only file system|EACCES|EROFS/i

/** Why DuckDB could not open (or read the schema of) `file`, as one of the errors above. */
const openFailure = (file: string, e: unknown): StorageError | ReadModelBusy | ReadModelDamaged => {
  const why = message(e).split("\n")[0].replace(/[.!]+$/, "")
  if (LOCK_CONFLICT.test(why)) {
    const holder = /\(PID (\d+)\)/.exec(why)?.[1]
    return new ReadModelBusy({ file, message: `The read model ${file} is in use by another process${holder === undefined ? "" : ` (pid ${holder})`}.` })
  }
  if (file !== ":memory:" && existsSync(file) && !NO_ACCESS.test(why)) {
    return new ReadModelDamaged({ file, message: `The read model ${file} is damaged: ${why}`, cause: e })
  }
  return new StorageError({ message: `Opening the read model ${file}: ${why}`, cause: e })
}

/**
 * Reading connections (connection-pool.ts): a page's requests (a chart's histories beside the
 * runs' comparison) are read at once. Two, as a page asks two things at once; more would split
 * the same cores among more queries.
 */
const READERS = 2

/** Bytes per block of a read model file created from now on (see open). Files made before keep theirs. */
const BLOCK_SIZE = 65_536

export class ReadModel {
  readonly file: string
  private readonly instance: DuckDBInstance
  /** Catch-up and rebuild, one at a time. */
  private readonly writer: DuckDBConnection
  private readonly writes = new Serial()
  /** Users' queries, the analytics' and position(), a few at a time. */
  private readonly readers: ConnectionPool
  private closed = false
  /**
   * The fold's in-memory state (runs, series, latest values), kept between catch-ups: this handle
   * is the only writer of its file, so it stays true, and loading it scans the tables (seconds for
   * 100k runs). Dropped after a failed catch-up and on rebuild, then loaded afresh.
   */
  private ingest: Ingest | null = null
  private readonly summariseAfter: number

  private constructor(file: string, instance: DuckDBInstance, writer: DuckDBConnection, readers: ConnectionPool, summariseAfter: number) {
    this.file = file
    this.summariseAfter = summariseAfter
    this.instance = instance
    this.writer = writer
    this.readers = readers
  }

  static async open(options: ReadModelOptions): Promise<ReadModel> {
    const { file } = options
    const summariseAfter = options.summariseAfter ?? 256
    if (!(Number.isSafeInteger(summariseAfter) && summariseAfter >= 1)) throw new RangeError(`summariseAfter must be a whole number >= 1, got ${summariseAfter}.`)
    // Checked here: DuckDB's own refusal would come from opening the file, and read as damage.
    if (options.memoryLimit !== undefined && !MEMORY_LIMIT.test(options.memoryLimit)) {
      throw new InvalidInput({ field: "memoryLimit", message: `A memory limit is a size such as 512MB or 2GB (KB, MB, GB, TB), got ${JSON.stringify(options.memoryLimit)}.` })
    }
    if (!claimFile(file)) {
      throw new StorageError({ message: `The read model ${file} is already open in this process; share that handle, or close it first.` })
    }
    let instance: DuckDBInstance | undefined
    try {
      instance = await DuckDBInstance.create(file, {
        // No file but this database can be read or written, and no SET can change that (see read-only-sql.ts).
        enable_external_access: "false",
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
        lock_configuration: "true",
        // A new file's blocks of 64 KB, not DuckDB's 256 KB: a zoomed chart reads a few thousand
        // points of each of many series, and each series' range loads whole blocks of its values
        // (which do not compress). A zoom of 100 runs to 5,000 steps loaded 34 MB for 4 MB of
        // points, and a fresh process pays for each new page: 64 KB cut that zoom from 158 to
        // 117 ms cold. Smaller blocks cost more than they save (32 KB: 337 ms, and 2.6x the file).
        default_block_size: String(BLOCK_SIZE),
        ...(options.threads !== undefined ? { threads: String(options.threads) } : {}),
        ...(options.memoryLimit !== undefined ? { memory_limit: options.memoryLimit } : {})
      })
      const writer = await instance.connect()
      const readers = new ConnectionPool(await Promise.all(Array.from({ length: READERS }, () => instance!.connect())))
      await ensureSchema(writer)
      return new ReadModel(file, instance, writer, readers, summariseAfter)
    } catch (e) {
      instance?.closeSync()
      releaseFile(file)
      throw openFailure(file, e)
    }
  }

  /** The log position folded so far (0: nothing yet). */
  position(): Promise<number> {
    return this.read(async (reader) => {
      return toNumber((await reader.runAndReadAll("SELECT position FROM readmodel_state")).getRows()[0][0])
    })
  }

  /** Apply the events after the stored position. */
  catchUp(source: EventSource, options: CatchUpOptions = {}): Promise<CatchUpResult> {
    return this.writes.run(() => this.catchUpNow(source, options))
  }

  /** Drop every table and replay the log from position 0. */
  rebuild(source: EventSource, options: CatchUpOptions = {}): Promise<CatchUpResult> {
    return this.writes.run(async () => {
      this.ensureOpen()
      this.dropIngest()
      await transaction(this.writer, `${DROP_SCHEMA}\n${CREATE_SCHEMA}`)
      return this.catchUpNow(source, options)
    })
  }

  /**
   * One read-only SELECT over the read model, with `$1`, `$2`, ... bound to `params`. Anything else
   * fails with InvalidInput (field "sql") saying why. Rows are plain objects (see SqlRow).
   */
  sql(query: string, params: ReadonlyArray<SqlParam> = [], options: ReadOnlyOptions = {}): Promise<SqlRow[]> {
    return this.read(async (reader) => {
      return runReadOnly(reader, query, params, options)
    })
  }

  /**
   * Like `sql`, for results of any size: the rows go to `sink` a chunk at a time as DuckDB
   * produces them (the sink returns false to stop early). Returns the columns and rows handed over.
   */
  sqlStream(query: string, params: ReadonlyArray<SqlParam>, options: ReadOnlyOptions, sink: RowSink): Promise<{ readonly columns: ReadonlyArray<string>; readonly rows: number }> {
    return this.read(async (reader) => {
      return streamReadOnly(reader, query, params, options, sink)
    })
  }

  /**
   * A SELECT composed by runledger's own query compiler (user text bound as parameters, never
   * spliced), as columns: for the analytics' large results. Users' SQL goes through `sql()`.
   */
  select(query: string, params: ReadonlyArray<SqlParam> = []): Promise<Record<string, unknown[]>> {
    return this.read(async (reader) => {
      return runColumns(reader, query, params)
    })
  }

  /** Like `select`, for results whose columns are all DOUBLE: as Float64Arrays, NULL as NaN. */
  selectNumbers(query: string, params: ReadonlyArray<SqlParam> = []): Promise<Record<string, Float64Array>> {
    return this.read(async (reader) => {
      return runDoubles(reader, query, params)
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writes.run(async () => {})
    this.dropIngest()
    await this.readers.close()
    this.writer.closeSync()
    this.instance.closeSync()
    releaseFile(this.file)
  }

  /** Run a read on a connection of its own. Refused once the model is closing; a read asked before then runs, and close waits for it. */
  private read<A>(f: (reader: DuckDBConnection) => Promise<A>): Promise<A> {
    return this.closed ? Promise.reject(this.closedError()) : this.readers.use(f)
  }

  private ensureOpen(): void {
    if (this.closed) throw this.closedError()
  }

  private closedError(): StorageError {
    return new StorageError({ message: `The read model ${this.file} is closed.` })
  }

  private async catchUpNow(source: EventSource, options: CatchUpOptions): Promise<CatchUpResult> {
    this.ensureOpen()
    const maxPoints = options.maxPoints ?? 1_000_000
    const maxEvents = options.maxEvents ?? 10_000
    const [state] = (await this.writer.runAndReadAll("SELECT position, last_event_id, first_event_id FROM readmodel_state")).getRows()
    const from = toNumber(state[0])
    const lastEventId = state[1] as string | null
    const otherLog = (why: string) => new ReadModelForeign({ file: this.file, why, message: `The read model ${this.file} was built from another log: ${why}. Rebuild it from this log (rebuild()).` })
    if (from > 0) {
      const first = await firstEventId(source)
      const folded = state[2] as string | null
      if (first !== undefined && first !== folded) throw otherLog(`its log begins with event ${folded}, this one ${first === null ? "is empty" : `with ${first}`}`)
    }
    // From one event back, so the event at the stored position can be checked to be the one folded.
    const { batches, head } = await openSource(source, Math.max(0, from - 1))
    if (head !== undefined && head < from) throw otherLog(`it has folded ${from} events, and this log has ${head}`)
    // Nothing new (the common case for a query that catches up first): skip loading the fold's state.
    if (head !== undefined && head === from) return { from, position: from, events: 0, points: 0 }
    const ingest = (this.ingest ??= await Ingest.load(this.writer, this.summariseAfter))
    const startPoints = ingest.points
    let events = 0
    let open = false
    let txEvents = 0
    let txPoints = 0
    try {
      const commit = async () => {
        await ingest.commit()
        open = false
        options.onProgress?.(ingest.position, head)
      }
      for await (const batch of batches) {
        for (const e of batch) {
          if (e.position <= ingest.position) {
            if (e.position === from && e.id !== lastEventId) throw otherLog(`its event ${from} has id ${lastEventId}, this log's has ${e.id}`)
            continue
          }
          if (e.position !== ingest.position + 1) {
            throw otherLog(`the log jumps from position ${ingest.position} to ${e.position}`)
          }
          if (!open) {
            await ingest.begin()
            open = true
            txEvents = 0
            txPoints = ingest.points
          }
          try {
            const pending = ingest.apply(e)
            if (pending !== undefined) await pending
          } catch (cause) {
            const why = cause instanceof Unfoldable ? cause.message : `folding it failed: ${message(cause).split("\n")[0]}`
            throw new EventNotFoldable({
              position: e.position,
              id: e.id,
              type: e.type,
              cause,
              message: `The read model cannot fold the event at log position ${e.position} (id ${e.id}, ${e.type} on ${e.stream}): ${why}. Analytics stop before it (the read model holds the events up to position ${ingest.committedPosition}) until it can be folded; the log itself is unchanged, and every command that reads it directly still works.`
            })
          }
          events++
          if (++txEvents >= maxEvents || ingest.points - txPoints >= maxPoints) await commit()
        }
      }
      if (open) await commit()
    } catch (e) {
      if (open) await ingest.rollback().catch(() => {})
      this.dropIngest()
      throw e
    }
    return { from, position: ingest.position, events, points: ingest.points - startPoints }
  }

  private dropIngest(): void {
    this.ingest?.close()
    this.ingest = null
  }
}

const transaction = async (conn: DuckDBConnection, sql: string): Promise<void> => {
  await conn.run("BEGIN TRANSACTION")
  try {
    await conn.run(sql)
    await conn.run("COMMIT")
  } catch (e) {
    await conn.run("ROLLBACK").catch(() => {})
    throw e
  }
}

/** Create the tables, or drop and recreate them when they were made by another schema version. */
const ensureSchema = async (conn: DuckDBConnection): Promise<void> => {
  const exists = toNumber((await conn.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'readmodel_state' AND schema_name = 'main'")).getRows()[0][0]) > 0
  if (exists) {
    const rows = (await conn.runAndReadAll("SELECT schema_version FROM readmodel_state")).getRows()
    if (rows.length === 1 && toNumber(rows[0][0]) === SCHEMA_VERSION) return
  }
  await transaction(conn, `${DROP_SCHEMA}\n${CREATE_SCHEMA}`)
}
