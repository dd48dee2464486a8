/**
 * Metric points into `metric_points`, columnar: the appender takes whole DuckDBDataChunks of at
 * most 2048 rows (DuckDB's vector size), about twice as fast as appending row by row.
 *
 * BIGINT columns (step, timestamp, position) are sent as DOUBLE vectors and cast by the appender:
 * the values are whole numbers below 2^53, so the cast is exact, and it spares one BigInt per value.
 */
import { BOOLEAN, DOUBLE, type DuckDBAppender, DuckDBDataChunk, type DuckDBType, INTEGER } from "@duckdb/node-api"

/** metric_points, in column order: series_id, step, timestamp, value, negative_zero, era, superseded, position, idx. */
const TYPES: ReadonlyArray<DuckDBType> = [INTEGER, DOUBLE, DOUBLE, DOUBLE, BOOLEAN, INTEGER, BOOLEAN, DOUBLE, INTEGER]

export const CHUNK_ROWS = 2048

const NOT_SUPERSEDED: ReadonlyArray<boolean> = new Array<boolean>(CHUNK_ROWS).fill(false)

export class MetricPointWriter {
  private readonly appender: DuckDBAppender
  private readonly series = new Array<number>(CHUNK_ROWS).fill(0)
  private readonly step = new Array<number>(CHUNK_ROWS).fill(0)
  private readonly timestamp = new Array<number>(CHUNK_ROWS).fill(0)
  private readonly value = new Array<number>(CHUNK_ROWS).fill(0)
  private readonly negativeZero = new Array<boolean>(CHUNK_ROWS).fill(false)
  private readonly era = new Array<number>(CHUNK_ROWS).fill(0)
  private readonly position = new Array<number>(CHUNK_ROWS).fill(0)
  private readonly idx = new Array<number>(CHUNK_ROWS).fill(0)
  private rows = 0
  /**
   * One full-size chunk, refilled for every full batch: the appender copies a chunk's rows, and
   * a fresh chunk per 2048 points costed a measurable share of the time in garbage collection.
   */
  private full: DuckDBDataChunk | null = null

  constructor(appender: DuckDBAppender) {
    this.appender = appender
  }

  /** One point; `timestamp` already whole milliseconds. A full chunk goes to the appender at once. */
  add(series: number, step: number, timestamp: number, value: number, era: number, position: number, idx: number): void {
    const r = this.rows
    this.series[r] = series
    this.step[r] = step
    this.timestamp[r] = timestamp
    // -0 is stored as 0 with a flag: DuckDB's constant and RLE compression do not keep the sign of zero.
    if (value === 0) {
      this.value[r] = 0
      this.negativeZero[r] = 1 / value < 0
    } else {
      this.value[r] = value
      this.negativeZero[r] = false
    }
    this.era[r] = era
    this.position[r] = position
    this.idx[r] = idx
    if (++this.rows === CHUNK_ROWS) this.sendChunk()
  }

  /** Send the partial chunk, then flush the appender: the rows become visible to this transaction. */
  flush(): void {
    if (this.rows > 0) this.sendChunk()
    this.appender.flushSync()
  }

  /** Flush and close; the rows commit (or roll back) with the connection's transaction. */
  close(): void {
    if (this.rows > 0) this.sendChunk()
    this.appender.closeSync()
  }

  /** Drop what is buffered and close, for a transaction that rolls back. */
  discard(): void {
    this.rows = 0
    this.appender.clear()
    this.appender.closeSync()
  }

  private sendChunk(): void {
    const n = this.rows
    const cut = <A>(column: ReadonlyArray<A>): ReadonlyArray<A> => (n === CHUNK_ROWS ? column : column.slice(0, n))
    const chunk = n === CHUNK_ROWS ? (this.full ??= DuckDBDataChunk.create(TYPES, n)) : DuckDBDataChunk.create(TYPES, n)
    chunk.setColumnValues(0, cut(this.series))
    chunk.setColumnValues(1, cut(this.step))
    chunk.setColumnValues(2, cut(this.timestamp))
    chunk.setColumnValues(3, cut(this.value))
    chunk.setColumnValues(4, cut(this.negativeZero))
    chunk.setColumnValues(5, cut(this.era))
    chunk.setColumnValues(6, cut(NOT_SUPERSEDED))
    chunk.setColumnValues(7, cut(this.position))
    chunk.setColumnValues(8, cut(this.idx))
    this.rows = 0
    this.appender.appendDataChunk(chunk)
  }
}
