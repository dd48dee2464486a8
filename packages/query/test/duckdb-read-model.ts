/**
 * A throwaway DuckDB copy of the read model the SQL compilers target, for tests:
 * the four tables, and loading `RunView`s into them (run_key: the run's index + 1).
 */
import type { DuckDBConnection } from "@duckdb/node-api"
import type { RunView } from "../src/index.ts"

export const createReadModel = async (conn: DuckDBConnection): Promise<void> => {
  await conn.run(`
    CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, experiment_id VARCHAR, run_name VARCHAR, status VARCHAR,
                       start_time BIGINT, end_time BIGINT, run_key INTEGER);
    CREATE TABLE params (run_id VARCHAR, key VARCHAR, value VARCHAR, run_key INTEGER);
    CREATE TABLE tags (run_id VARCHAR, key VARCHAR, value VARCHAR, run_key INTEGER);
    CREATE TABLE latest_metrics (run_id VARCHAR, key VARCHAR, value DOUBLE, step BIGINT, timestamp BIGINT, run_key INTEGER);
  `)
}

const insert = async (conn: DuckDBConnection, table: string, rows: ReadonlyArray<ReadonlyArray<unknown>>, row: string) => {
  if (rows.length === 0) return
  const params: Array<unknown> = []
  const tuples = rows.map((values) => {
    let i = 0
    return row.replace(/\?/g, () => {
      params.push(values[i++])
      return `$${params.length}`
    })
  })
  await conn.run(`INSERT INTO ${table} VALUES ${tuples.join(", ")}`, params as never)
}

/** Replaces the contents of the read model with `runs`. */
export const loadRuns = async (conn: DuckDBConnection, runs: ReadonlyArray<RunView>): Promise<void> => {
  await conn.run("DELETE FROM runs; DELETE FROM params; DELETE FROM tags; DELETE FROM latest_metrics;")
  await insert(
    conn,
    "runs",
    runs.map((r, i) => [r.id, r.experimentId, r.name, r.status, r.startTime, r.endTime, i + 1]),
    "(?, ?, ?, ?, ?, ?, ?)"
  )
  await insert(
    conn,
    "params",
    runs.flatMap((r, i) => Object.entries(r.params).map(([k, v]) => [r.id, k, String(v), i + 1])),
    "(?, ?, ?, ?)"
  )
  await insert(conn, "tags", runs.flatMap((r, i) => Object.entries(r.tags).map(([k, v]) => [r.id, k, v, i + 1])), "(?, ?, ?, ?)")
  await insert(
    conn,
    "latest_metrics",
    // numbers as text cast to DOUBLE: node-api would bind 1e300 as an (overflowing) BIGINT
    runs.flatMap((r, i) => Object.entries(r.metrics).map(([k, v]) => [r.id, k, String(v), i + 1])),
    "(?, ?, CAST(? AS DOUBLE), 0, 0, ?)"
  )
}
