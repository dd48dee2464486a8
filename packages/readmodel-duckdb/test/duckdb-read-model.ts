/**
 * A throwaway DuckDB read model for the SQL compilers' tests: the real tables and views, made by
 * the adapter's own DDL (CREATE_SCHEMA), so the tests run against the schema production queries
 * see, and loading `RunView`s into them (run_key: the run's index + 1; every run and experiment
 * active, so any scope's "active" view keeps them all).
 */
import type { DuckDBConnection } from "@duckdb/node-api"
import { CREATE_SCHEMA } from "../src/schema.ts"
import type { RunView } from "../../search-syntax/src/index.ts"

export const createReadModel = async (conn: DuckDBConnection): Promise<void> => {
  await conn.run(CREATE_SCHEMA)
}

/** `INSERT INTO table (columns) VALUES …` with every value bound; `row` is one tuple with `?` per value. */
const insert = async (conn: DuckDBConnection, table: string, columns: string, rows: ReadonlyArray<ReadonlyArray<unknown>>, row: string) => {
  if (rows.length === 0) return
  const params: Array<unknown> = []
  const tuples = rows.map((values) => {
    let i = 0
    return row.replace(/\?/g, () => {
      params.push(values[i++])
      return `$${params.length}`
    })
  })
  await conn.run(`INSERT INTO ${table} (${columns}) VALUES ${tuples.join(", ")}`, params as never)
}

/** Replaces the contents of the read model with `runs`. */
export const loadRuns = async (conn: DuckDBConnection, runs: ReadonlyArray<RunView>): Promise<void> => {
  await conn.run("DELETE FROM experiments; DELETE FROM runs; DELETE FROM params; DELETE FROM tags; DELETE FROM latest_metric_values;")
  await insert(
    conn,
    "experiments",
    "experiment_id, name, lifecycle, created_at, tags, overrides",
    [...new Set(runs.map((r) => r.experimentId))].map((id) => [id, id]),
    "(?, ?, 'active', 0, '{}', '{}')"
  )
  await insert(
    conn,
    "runs",
    "run_id, experiment_id, run_name, status, start_time, end_time, lifecycle, resumed_from, source, environment, run_key",
    runs.map((r, i) => [r.id, r.experimentId, r.name, r.status, r.startTime, r.endTime, i + 1]),
    "(?, ?, ?, ?, ?, ?, 'active', [], '{}', '{}', ?)"
  )
  await insert(
    conn,
    "params",
    "run_id, key, value, value_type, run_key",
    runs.flatMap((r, i) => Object.entries(r.params).map(([k, v]) => [r.id, k, String(v), typeof v, i + 1])),
    "(?, ?, ?, ?, ?)"
  )
  await insert(conn, "tags", "run_id, key, value, run_key", runs.flatMap((r, i) => Object.entries(r.tags).map(([k, v]) => [r.id, k, v, i + 1])), "(?, ?, ?, ?)")
  await insert(
    conn,
    "latest_metric_values",
    "run_id, key, value, negative_zero, step, timestamp, run_key",
    // numbers as text cast to DOUBLE: node-api would bind 1e300 as an (overflowing) BIGINT; -0 is
    // stored as 0 plus its flag, as the schema keeps it (the latest_metrics view puts the sign back)
    runs.flatMap((r, i) => Object.entries(r.metrics).map(([k, v]) => [r.id, k, String(v), Object.is(v, -0), i + 1])),
    "(?, ?, CAST(? AS DOUBLE), ?, 0, 0, ?)"
  )
}
