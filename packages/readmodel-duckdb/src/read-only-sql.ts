/**
 * Users' SQL over the read model, read-only, with four locks, each of which alone would refuse
 * the writes it covers:
 *
 * 1. The read model's DuckDB instance is opened with `enable_external_access = false` (no file,
 *    URL or other database can be read or written: read_csv, COPY ... TO, ATTACH, INSTALL, glob
 *    all fail) and `lock_configuration = true` (no SET can undo that), with extension autoloading
 *    off. See read-model.ts.
 * 2. Exactly one statement: the text is split by DuckDB's own parser (`extractStatements`), so a
 *    `SELECT 1; DROP TABLE runs` is refused as a whole.
 * 3. Only SELECT: the prepared statement's type, as DuckDB's planner sees it, must be SELECT
 *    (which also covers FROM-first queries, WITH, SHOW, DESCRIBE, SUMMARIZE and read-only PRAGMAs);
 *    INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, COPY, ATTACH, SET, CALL, LOAD, EXPORT ... are not.
 * 4. It runs inside `BEGIN TRANSACTION READ ONLY`, which is rolled back afterwards: a write that got
 *    past 2 and 3 would still fail.
 *
 * The statement that runs is the very one whose type was checked (no re-parse of the text).
 */
import { BIGINT, BOOLEAN, DOUBLE, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBType, DuckDBTypeId, type DuckDBValue, SQLNULL, StatementType, VARCHAR } from "@duckdb/node-api"
import bindings from "@duckdb/node-bindings"
import { InvalidInput } from "@runledger/core"
import { toPlain } from "@runledger/store-duckdb"

/** A bound parameter (`$1`, `$2`, ... in the query). */
export type SqlParam = string | number | boolean | bigint | null

/** A result row: bigints as numbers when exact, else as decimal text; NaN, -0 and Infinity kept. */
export type SqlRow = Record<string, unknown>

const refuse = (message: string): InvalidInput => new InvalidInput({ field: "sql", message })

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0]

/** Parameter types from the JS values: numbers as DOUBLE unless they are safe integers (then BIGINT). */
export const bindable = (value: SqlParam): [DuckDBValue, DuckDBType] => {
  if (value === null) return [null, SQLNULL]
  switch (typeof value) {
    case "string":
      return [value, VARCHAR]
    case "boolean":
      return [value, BOOLEAN]
    case "bigint":
      return [value, BIGINT]
    default:
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? [BigInt(value), BIGINT] : [value, DOUBLE]
  }
}

/** What users query (the views and tables schema.ts documents; the block tables are internal). */
const READ_MODEL_TABLES = "experiments, runs, params, tags, metrics, latest_metrics, metric_blocks, artifacts, run_inputs, models, model_versions, model_aliases"

const typeName = (t: StatementType): string => (StatementType as unknown as Record<number, string>)[t] ?? `type ${t}`

export interface ReadOnlyOptions {
  /**
   * Stop the statement after DuckDB has worked on it this many milliseconds (default 60,000;
   * Infinity: no limit). DuckDB has no statement timeout of its own: the connection is interrupted
   * at the deadline, and a result being streamed stops at its next chunk. Time spent handing rows
   * to a sink (a slow reader of stdout) does not count: the result is pulled chunk by chunk, so
   * DuckDB is idle meanwhile.
   */
  readonly timeoutMs?: number
}

/** Told each chunk of rows (about 2,048) with the result's column names; false stops reading. */
export type RowSink = (rows: SqlRow[], columns: ReadonlyArray<string>) => void | boolean | Promise<void | boolean>

export const DEFAULT_TIMEOUT_MS = 60_000

const prepareReadOnly = async (conn: DuckDBConnection, query: string, params: ReadonlyArray<SqlParam>): Promise<DuckDBPreparedStatement> => {
  let extracted
  try {
    extracted = await conn.extractStatements(query)
  } catch (e) {
    throw refuse(`The query has a syntax error: ${reason(e).replace(/^Failed to extract statements: (Parser Error: )?/, "")}. Queries are DuckDB SQL.`)
  }
  if (extracted.count !== 1) {
    throw refuse(`Give exactly one SELECT statement; this text has ${extracted.count}.`)
  }
  let ps
  try {
    ps = await extracted.prepare(0)
  } catch (e) {
    const why = reason(e).replace(/[.!]+$/, "")
    // File, URL and extension access is what the instance refuses (read-model.ts); anything else is the query's own error.
    if (/^Permission Error/.test(why)) throw refuse(`The query was refused: ${why}. Only the read model's tables can be read here: no files, URLs or other databases.`)
    const tables = /^Catalog Error: Table/.test(why) ? ` The tables are: ${READ_MODEL_TABLES}.` : ""
    throw refuse(`The query failed: ${why}.${tables}`)
  }
  try {
    if (ps.statementType !== StatementType.SELECT) {
      const type = typeName(ps.statementType)
      throw refuse(`Only SELECT queries are allowed here: this is ${/^[AEIOU]/.test(type) ? "an" : "a"} ${type} statement. The read model is read-only; it changes only by catching up with the log.`)
    }
    if (params.length !== ps.parameterCount) {
      throw refuse(`The query has ${ps.parameterCount} parameter(s) but ${params.length} value(s) were given.`)
    }
    const bound = params.map(bindable)
    ps.bind(bound.map(([v]) => v), bound.map(([, t]) => t))
    return ps
  } catch (e) {
    ps.destroySync()
    throw e
  }
}

/**
 * One read-only SELECT (see the top of this file), its rows handed to `sink` a chunk at a time as
 * DuckDB produces them: a result of any size passes through in bounded memory. Returns the column
 * names and how many rows were handed over.
 */
export const streamReadOnly = async (
  conn: DuckDBConnection,
  query: string,
  params: ReadonlyArray<SqlParam>,
  options: ReadOnlyOptions,
  sink: RowSink
): Promise<{ readonly columns: ReadonlyArray<string>; readonly rows: number }> => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!(timeoutMs > 0)) throw refuse(`The timeout must be a positive number of milliseconds, got ${timeoutMs}.`)
  const timedOut = () => refuse(`The query ran longer than ${timeoutMs / 1000} s and was stopped. Narrow it (a WHERE or LIMIT), or allow it more time (--timeout).`)
  await conn.run("BEGIN TRANSACTION READ ONLY")
  let expired = false
  let budget = timeoutMs
  let since = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    since = Date.now()
    if (Number.isFinite(budget)) {
      timer = setTimeout(() => {
        expired = true
        conn.interrupt()
      }, Math.max(budget, 0))
    }
  }
  const disarm = () => {
    clearTimeout(timer)
    budget -= Date.now() - since
  }
  /** What the sink threw is its own error, passed on as it is. */
  let sinkError: { readonly error: unknown } | undefined
  arm()
  try {
    const ps = await prepareReadOnly(conn, query, params)
    try {
      const result = await ps.stream()
      const columns = result.columnNames()
      let rows = 0
      for await (const chunk of result.yieldRowObjectJs()) {
        if (expired) throw timedOut()
        rows += chunk.length
        disarm()
        let more
        try {
          more = await sink(chunk.map((row) => toPlain(row) as SqlRow), columns)
        } catch (error) {
          sinkError = { error }
          throw error
        }
        if (more === false) break
        arm()
      }
      // An interrupt can end a streamed result as if it were complete: never hand back a cut one.
      if (expired) throw timedOut()
      return { columns, rows }
    } catch (e) {
      if (e instanceof InvalidInput || sinkError !== undefined) throw e
      if (expired) throw timedOut()
      const why = reason(e)
      if (/Out of Memory/i.test(why)) throw refuse(`The query needs more memory than the read model may use (--max-memory): ${why}. Narrow it, or allow it more memory.`)
      throw refuse(`The query failed: ${why}`)
    } finally {
      ps.destroySync()
    }
  } catch (e) {
    // Past the deadline, whatever broke off (parsing, planning, a chunk) broke off because of it.
    throw expired && sinkError === undefined ? timedOut() : e
  } finally {
    clearTimeout(timer)
    await conn.run("ROLLBACK")
  }
}

/** One read-only SELECT, its whole result as rows (for results that fit in memory; else streamReadOnly). */
export const runReadOnly = async (conn: DuckDBConnection, query: string, params: ReadonlyArray<SqlParam> = [], options: ReadOnlyOptions = {}): Promise<SqlRow[]> => {
  const out: SqlRow[] = []
  await streamReadOnly(conn, query, params, options, (rows) => {
    for (const row of rows) out.push(row)
  })
  return out
}

/**
 * A SELECT that runledger composed itself (queries/: the compiled searches, rankings and
 * histories: user text only ever bound as parameters), returned as columns: no per-row objects,
 * which matters for results of 10^5 rows (downsampled histories of many runs).
 */
export const runColumns = (conn: DuckDBConnection, query: string, params: ReadonlyArray<SqlParam> = []): Promise<Record<string, unknown[]>> =>
  runSelect(conn, query, params, async (ps) => {
    const columns = (await ps.runAndReadAll()).getColumnsObjectJS() as Record<string, unknown[]>
    for (const name of Object.keys(columns)) {
      const col = columns[name]
      for (let i = 0; i < col.length; i++) if (typeof col[i] === "bigint" || (col[i] !== null && typeof col[i] === "object")) col[i] = toPlain(col[i])
    }
    return columns
  })

/** Run one SELECT of runledger's own (parameters bound) and read its whole result with `read`. */
const runSelect = async <A>(conn: DuckDBConnection, query: string, params: ReadonlyArray<SqlParam>, read: (ps: DuckDBPreparedStatement) => Promise<A>): Promise<A> => {
  const ps = await conn.prepare(query)
  try {
    if (ps.statementType !== StatementType.SELECT) throw refuse(`Only SELECT statements are run here, not ${typeName(ps.statementType)}.`)
    const bound = params.map(bindable)
    ps.bind(bound.map(([v]) => v), bound.map(([, t]) => t))
    return await read(ps)
  } finally {
    ps.destroySync()
  }
}

/**
 * A SELECT whose columns are all DOUBLE, as Float64Arrays (NULL as NaN), copied straight from the
 * result's vectors through DuckDB's C API (no JS value per cell): for the analytics' large
 * numeric reads, where a generic conversion cost several times the query.
 */
export const runDoubles = (conn: DuckDBConnection, query: string, params: ReadonlyArray<SqlParam> = []): Promise<Record<string, Float64Array>> =>
  runSelect(conn, query, params, async (ps) => {
    const result = await ps.run()
    const names = result.columnNames()
    result.columnTypes().forEach((t, i) => {
      if (t.typeId !== DuckDBTypeId.DOUBLE) throw new Error(`runDoubles: column ${names[i]} is ${t.toString()}, not DOUBLE; cast it in the query.`)
    })
    const out = names.map(() => new Float64Array(Number(result.rowCount)))
    let at = 0
    for (let c = 0; c < result.chunkCount; c++) {
      const chunk = result.getChunk(c).chunk
      const n = bindings.data_chunk_get_size(chunk)
      out.forEach((column, j) => {
        const vector = bindings.data_chunk_get_vector(chunk, j)
        const bytes = bindings.vector_get_data(vector, n * 8)
        // Copied bytewise: the view DuckDB hands out need not be 8-byte aligned for a Float64Array.
        new Uint8Array(column.buffer, at * 8, n * 8).set(bytes.subarray(0, n * 8))
        // null when every value is valid (the C API's NULL validity mask).
        const validity = bindings.vector_get_validity(vector, Math.ceil(n / 64) * 8) as Uint8Array | null
        if (validity !== null) for (let i = 0; i < n; i++) if ((validity[i >> 3] & (1 << (i & 7))) === 0) column[at + i] = Number.NaN
      })
      at += n
    }
    return Object.fromEntries(names.map((name, j) => [name, out[j]]))
  })
