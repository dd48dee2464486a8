/**
 * Metric blocks: per-series summaries of the effective (not superseded) points over aligned step
 * ranges of 2^level steps, kept at ingest so a chart of 10^7 points reads 10^5 rows, not 10^7.
 * The points themselves stay in `metric_points`, untouched: a block is derived data, and a
 * rebuild derives the same blocks.
 *
 * A block holds what a chart bucket needs and nothing that cannot be merged: the count, the first
 * and last point by (step, log order) with their exact value (sign of zero included) and the last
 * timestamp, min/max over the non-NaN values (NULL when every value is NaN; zero's sign is not
 * kept there, as DuckDB's 0 = -0 would make it depend on the merge order), and where its
 * latest-logged point is in the log. Summaries of two runs of a series' points, one logged wholly
 * before the other, merge into the summary of both: the log place of the latest-logged point
 * tells which came first, which is all a merge needs to break ties between points at one step.
 *
 * - While events are folded, each series' points are summarised here in JS, at every level, and
 *   the closed blocks appended to the metric_blocks_<level> tables at commit.
 * - At commit, a block that now has several summaries (where the last transaction left off, or
 *   where steps went back) gets them merged into one.
 * - A resume supersedes points at steps >= fromStep: the run's blocks from there on are dropped
 *   and summarised again, in SQL, from the points that remain (`summariseFromPoints`), as are a
 *   series' first blocks when it reaches the size for them.
 */
import { BIGINT, BOOLEAN, type DuckDBConnection, DuckDBDataChunk, DOUBLE, type DuckDBType, INTEGER, LIST, listValue } from "@duckdb/node-api"
import { BLOCK_LEVELS, loggedOrderSql, METRIC_BLOCK_TABLES, METRIC_POINTS, stepOrderSql } from "./schema.ts"
import type { Statements } from "./statements.ts"

/*
 * Levels (schema.ts): every power of two from 16 to 65536 steps, so a chart bucket is one block
 * of some level. A dense series gets 1/8 as many block rows as points; a sparse one (steps >=
 * 65536 apart) one row per level per point, which is why a series is summarised only once it has
 * a few hundred points (ingest.ts).
 */
const NARROWEST_WIDTH = 2 ** BLOCK_LEVELS[0]

const COLUMNS = METRIC_BLOCK_TABLES[0].columns.map((c) => c.name).join(", ")
/** The blocks that have more than one summary, while a commit merges them. */
const SHARED = "shared_metric_blocks"
const MERGED = "merged_metric_blocks"
/** The series being summarised from their points. */
const SERIES = "summarised_series"

/** The summary of some points of one series in one block, being added to. */
export interface OpenBlock {
  block: number
  n: number
  firstStep: number
  first: number
  lastStep: number
  last: number
  lastTimestamp: number
  min: number
  max: number
  /** The latest-logged point: its event's position and its index in the event. */
  lastPosition: number
  lastIdx: number
}

/**
 * A series as the summariser sees it: its id, per level the block its latest points went to, and
 * its metric blocks: none (too few points so far), summarised in memory only (`pending`: a series
 * new in this transaction, until it has enough points), to be summarised from its points at
 * commit (it reached the size for them, with points from before), or kept up to date.
 */
export interface SummarisedSeries {
  readonly id: number
  open: Array<OpenBlock | null> | null
  blocks: "none" | "pending" | "at commit" | "kept"
  /** While pending: the blocks closed so far, with their level's index. */
  pending: Array<[number, OpenBlock]> | null
}

/** A metric_blocks_<level> table's columns (BIGINTs as DOUBLE vectors: whole numbers below 2^53, cast exactly). */
const TYPES: ReadonlyArray<DuckDBType> = [INTEGER, DOUBLE, DOUBLE, DOUBLE, DOUBLE, BOOLEAN, DOUBLE, DOUBLE, BOOLEAN, DOUBLE, DOUBLE, DOUBLE, DOUBLE, INTEGER]
const CHUNK_ROWS = 2048

const unsignedZero = (x: number) => (x === 0 ? 0 : x)

/**
 * Add `later` (points all logged after `b`'s) to `b`. Ties keep log order: the first point is
 * the earliest logged at the lowest step, the last the latest logged at the highest step.
 */
const absorb = (b: OpenBlock, later: OpenBlock): void => {
  b.n += later.n
  if (later.firstStep < b.firstStep) {
    b.firstStep = later.firstStep
    b.first = later.first
  }
  if (later.lastStep >= b.lastStep) {
    b.lastStep = later.lastStep
    b.last = later.last
    b.lastTimestamp = later.lastTimestamp
  }
  // NaN: no finite value yet (in `later`: nothing to add).
  if (later.min === later.min && !(later.min >= b.min)) b.min = later.min
  if (later.max === later.max && !(later.max <= b.max)) b.max = later.max
  b.lastPosition = later.lastPosition
  b.lastIdx = later.lastIdx
}

/**
 * The rows of one level's table, held until a flush appends them in chunks: most transactions
 * write no block of most levels, and then open no appender for them.
 */
class LevelRows {
  readonly table: string
  readonly columns: Array<Array<number | boolean | null>> = TYPES.map(() => [])
  rows = 0
  /** Whether any row went to the table in this transaction. */
  written = false

  constructor(table: string) {
    this.table = table
  }

  async flush(conn: DuckDBConnection): Promise<void> {
    if (this.rows === 0) return
    const appender = await conn.createAppender(this.table)
    try {
      for (let at = 0; at < this.rows; at += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, this.rows - at)
        const chunk = DuckDBDataChunk.create(TYPES, n)
        this.columns.forEach((col, c) => chunk.setColumnValues(c, col.slice(at, at + n)))
        appender.appendDataChunk(chunk)
      }
    } finally {
      appender.closeSync()
    }
    this.written = true
    this.discard()
  }

  discard(): void {
    for (const col of this.columns) col.length = 0
    this.rows = 0
  }
}

/**
 * Summaries of the points as they are folded, at every level, appended to the levels' tables in
 * chunks. A series keeps one open block per level: a point goes to its narrowest open block, and
 * a block closed (its series moved on to another block) goes to the next level's open block, so
 * the wider levels cost a fraction of the narrowest.
 */
export class BlockSummariser {
  private readonly conn: DuckDBConnection
  private readonly levels: ReadonlyArray<LevelRows> = METRIC_BLOCK_TABLES.map((t) => new LevelRows(t.name))
  private readonly withOpen: SummarisedSeries[] = []

  constructor(conn: DuckDBConnection) {
    this.conn = conn
  }

  /** The tables rows went to in this transaction. */
  get tablesWritten(): string[] {
    return METRIC_BLOCK_TABLES.filter((_, i) => this.levels[i].written).map((t) => t.name)
  }

  /** Summarise a series new in this transaction in memory, until `keep` (or the transaction ends). */
  track(series: SummarisedSeries): void {
    series.blocks = "pending"
    series.pending = []
  }

  /** A pending series has enough points: its blocks go to the tables from now on. */
  keep(series: SummarisedSeries): void {
    for (const [i, b] of series.pending!) this.write(this.levels[i], series.id, b)
    series.pending = null
    series.blocks = "kept"
  }

  /** One point of a series (pending or kept), in log order; `value` with its sign of zero. */
  add(series: SummarisedSeries, step: number, timestamp: number, value: number, position: number, idx: number): void {
    const block = Math.floor(step / NARROWEST_WIDTH)
    let open = series.open
    if (open === null) {
      open = series.open = new Array<OpenBlock | null>(BLOCK_LEVELS.length).fill(null)
      this.withOpen.push(series)
    }
    const b = open[0]
    const v = value === value ? unsignedZero(value) : Number.NaN
    if (b !== null && b.block === block) {
      b.n++
      if (step < b.firstStep) {
        b.firstStep = step
        b.first = value
      }
      if (step >= b.lastStep) {
        b.lastStep = step
        b.last = value
        b.lastTimestamp = timestamp
      }
      // NaN values are skipped; b.min is NaN until the first other value.
      if (v === v) {
        if (!(v >= b.min)) b.min = v
        if (!(v <= b.max)) b.max = v
      }
      b.lastPosition = position
      b.lastIdx = idx
      return
    }
    if (b !== null) this.closeBlock(series, open, 0)
    open[0] = { block, n: 1, firstStep: step, first: value, lastStep: step, last: value, lastTimestamp: timestamp, min: v, max: v, lastPosition: position, lastIdx: idx }
  }

  /**
   * Close every open block of the kept series, and make the rows visible to this transaction's
   * SQL. Pending series go back to none: their summaries are dropped (they still had too few
   * points, or a resume sets some of them aside).
   */
  async flush(): Promise<void> {
    for (const s of this.withOpen) {
      if (s.blocks === "pending") {
        s.blocks = "none"
        s.pending = null
      } else {
        const open = s.open!
        for (let i = 0; i < open.length; i++) if (open[i] !== null) this.closeBlock(s, open, i)
      }
      s.open = null
    }
    this.withOpen.length = 0
    for (const l of this.levels) await l.flush(this.conn)
  }

  /** Drop what is held, for a transaction that rolls back. */
  discard(): void {
    for (const s of this.withOpen) {
      s.open = null
      s.pending = null
    }
    this.withOpen.length = 0
    for (const l of this.levels) l.discard()
  }

  /** Write the open block at level index `i` and pass it on to the next level. */
  private closeBlock(series: SummarisedSeries, open: Array<OpenBlock | null>, i: number): void {
    const b = open[i]!
    open[i] = null
    if (series.pending !== null) series.pending.push([i, { ...b }])
    else this.write(this.levels[i], series.id, b)
    if (i + 1 === open.length) return
    const block = Math.floor(b.block / 2 ** (BLOCK_LEVELS[i + 1] - BLOCK_LEVELS[i]))
    const wider = open[i + 1]
    if (wider !== null && wider.block === block) {
      absorb(wider, b)
      return
    }
    if (wider !== null) this.closeBlock(series, open, i + 1)
    b.block = block
    open[i + 1] = b
  }

  private write(level: LevelRows, seriesId: number, b: OpenBlock): void {
    const c = level.columns
    c[0].push(seriesId)
    c[1].push(b.block)
    c[2].push(b.n)
    c[3].push(b.firstStep)
    c[4].push(unsignedZero(b.first))
    c[5].push(Object.is(b.first, -0))
    c[6].push(b.lastStep)
    c[7].push(unsignedZero(b.last))
    c[8].push(Object.is(b.last, -0))
    c[9].push(b.lastTimestamp)
    c[10].push(b.min === b.min ? b.min : null)
    c[11].push(b.max === b.max ? b.max : null)
    c[12].push(b.lastPosition)
    c[13].push(b.lastIdx)
    level.rows++
  }
}

/** The merge of summaries (a table's columns) grouped by series and `block`: the table's columns. */
const mergedSummaries = (block: string) => {
  const first = stepOrderSql("first_step", "last_position", "last_idx")
  const last = stepOrderSql("last_step", "last_position", "last_idx")
  const latest = loggedOrderSql("last_position", "last_idx")
  return `series_id, ${block} AS block, sum(n)::BIGINT AS n,
  min(first_step) AS first_step, arg_min(first, ${first}) AS first, arg_min(first_negative_zero, ${first}) AS first_negative_zero,
  max(last_step) AS last_step, arg_max(last, ${last}) AS last, arg_max(last_negative_zero, ${last}) AS last_negative_zero, arg_max(last_timestamp, ${last}) AS last_timestamp,
  min(min) AS min, max(max) AS max, arg_max(last_position, ${latest}) AS last_position, arg_max(last_idx, ${latest}) AS last_idx`
}

/**
 * Merge the summaries of each block summarised more than once since log position `from` (the
 * last commit) in the given tables, so every block has one summary again. The summariser must
 * have been flushed. Blocks summarised since then are at the end of their tables
 * (last_position > from), so DuckDB skips the older row groups when it looks for them; one
 * statement looks in every table, as most commits have nothing to merge.
 */
export const mergeBlockSummaries = async (stmts: Statements, conn: DuckDBConnection, from: number, tables: ReadonlyArray<string>): Promise<void> => {
  if (tables.length === 0) return
  const same = (a: string, b: string) => `${a}.series_id = ${b}.series_id AND ${a}.block = ${b}.block`
  const shared = await stmts.rows(
    tables.map((name) => `SELECT '${name}' AS name, count(*) AS n FROM (SELECT 1 FROM ${name} b
SEMI JOIN (SELECT series_id, block FROM ${name} WHERE last_position > $1) f ON ${same("f", "b")}
GROUP BY b.series_id, b.block HAVING count(*) > 1)`).join("\nUNION ALL "),
    [BIGINT],
    [BigInt(from)]
  )
  for (const [name, n] of shared) {
    if (Number(n) === 0) continue
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${SHARED} AS SELECT b.series_id, b.block FROM ${name} b
SEMI JOIN (SELECT series_id, block FROM ${name} WHERE last_position > ${Math.trunc(from)}) f ON ${same("f", "b")}
GROUP BY b.series_id, b.block HAVING count(*) > 1;
CREATE OR REPLACE TEMP TABLE ${MERGED} AS
SELECT ${mergedSummaries("block")} FROM ${name} b SEMI JOIN ${SHARED} s ON ${same("s", "b")}
GROUP BY series_id, block;
DELETE FROM ${name} b USING ${SHARED} s WHERE ${same("s", "b")};
INSERT INTO ${name} (${COLUMNS}) SELECT ${COLUMNS} FROM ${MERGED};
DROP TABLE ${MERGED};
DROP TABLE ${SHARED};`)
  }
}

/**
 * Summarise the given series from their points that are not superseded, from `fromStep` on:
 * series that just reached the size for summaries (fromStep 0), or whose points at steps >=
 * fromStep a resume set aside. Their blocks from there on are replaced, merged or not, so the
 * summariser must have been flushed. The narrowest level is read from the points (those logged at
 * `fromPosition` or later: every point of these series), each wider one from the one below.
 */
export const summariseFromPoints = async (stmts: Statements, conn: DuckDBConnection, seriesIds: ReadonlyArray<number>, fromStep: number, fromPosition: number): Promise<void> => {
  if (seriesIds.length === 0) return
  // One temp table for the connection, refilled.
  await stmts.run(`CREATE TEMP TABLE IF NOT EXISTS ${SERIES} (series_id INTEGER)`, [], [])
  await stmts.run(`DELETE FROM ${SERIES}`, [], [])
  await stmts.run(`INSERT INTO ${SERIES} SELECT unnest($1::INTEGER[])`, [LIST(INTEGER)], [listValue(seriesIds)])
  const ord = stepOrderSql("step", "position", "idx")
  const latest = loggedOrderSql("position", "idx")
  // Whole numbers this fold computed, safe in the SQL text: every level in one round trip.
  const step = BigInt(Math.max(0, Math.floor(fromStep)))
  const statements = BLOCK_LEVELS.flatMap((level, i) => {
    const { name } = METRIC_BLOCK_TABLES[i]
    const first = step >> BigInt(level)
    const replace = `DELETE FROM ${name} b USING ${SERIES} s WHERE b.series_id = s.series_id AND b.block >= ${first};`
    if (i === 0) {
      return [replace, `INSERT INTO ${name} (${COLUMNS})
SELECT series_id, step >> ${level}, count(*),
  min(step), arg_min(value, ${ord}), arg_min(negative_zero, ${ord}),
  max(step), arg_max(value, ${ord}), arg_max(negative_zero, ${ord}), arg_max(timestamp, ${ord}),
  min(value) FILTER (WHERE NOT isnan(value)), max(value) FILTER (WHERE NOT isnan(value)),
  arg_max(position, ${latest}), arg_max(idx, ${latest})
FROM ${METRIC_POINTS.name} WHERE position >= ${Math.trunc(fromPosition)} AND series_id IN (SELECT series_id FROM ${SERIES}) AND NOT superseded AND step >= ${first << BigInt(level)}
GROUP BY series_id, step >> ${level};`]
    }
    const shift = level - BLOCK_LEVELS[i - 1]
    return [replace, `INSERT INTO ${name} (${COLUMNS})
SELECT ${mergedSummaries(`block >> ${shift}`)} FROM ${METRIC_BLOCK_TABLES[i - 1].name}
WHERE series_id IN (SELECT series_id FROM ${SERIES}) AND block >= ${first << BigInt(shift)}
GROUP BY series_id, block >> ${shift};`]
  })
  await conn.run(statements.join("\n"))
}
