/**
 * exportRuns: the runs a filter selects as one wide table (attributes, then `params.<key>`,
 * `metrics.<key>` with each run's latest value, `tags.<key>`), written as Parquet, Arrow IPC or
 * CSV. Missing values are empty (null); NaN and +/-Infinity are kept (as text in CSV).
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { Float64, Int64, Table, tableToIPC, Utf8, type Vector, vectorFromArray } from "apache-arrow"
import { promises as fs } from "node:fs"
import { dirname, resolve } from "node:path"

export type ExportFormat = "parquet" | "arrow" | "csv"
export const EXPORT_FORMATS: ReadonlyArray<ExportFormat> = ["parquet", "arrow", "csv"]

type Kind = "text" | "number" | "integer"

export interface WideTable {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly kind: Kind; readonly values: Array<string | number | null> }>
  readonly rows: number
}

type Row = Record<string, unknown>

const ATTRIBUTES: ReadonlyArray<[string, Kind]> = [
  ["run_id", "text"],
  ["experiment_id", "text"],
  ["experiment", "text"],
  ["run_name", "text"],
  ["status", "text"],
  ["lifecycle", "text"],
  ["start_time", "integer"],
  ["end_time", "integer"],
  ["parent_run_id", "text"]
]

/** Assemble the wide table; `order` is the run ids in the order the search gave them. */
export const wideTable = (order: ReadonlyArray<string>, runs: ReadonlyArray<Row>, params: ReadonlyArray<Row>, metrics: ReadonlyArray<Row>, tags: ReadonlyArray<Row>): WideTable => {
  const index = new Map(order.map((id, i) => [id, i]))
  const n = order.length
  const byId = new Map(runs.map((r) => [r.run_id as string, r]))
  const columns: Array<{ name: string; kind: Kind; values: Array<string | number | null> }> = ATTRIBUTES.map(([name, kind]) => ({
    name,
    kind,
    values: order.map((id) => (byId.get(id)?.[name] as string | number | null | undefined) ?? null)
  }))
  const spread = (prefix: string, kind: Kind, rows: ReadonlyArray<Row>) => {
    const byKey = new Map<string, Array<string | number | null>>()
    for (const r of rows) {
      const i = index.get(r.run_id as string)
      if (i === undefined) continue
      let col = byKey.get(r.key as string)
      if (col === undefined) {
        col = new Array<string | number | null>(n).fill(null)
        byKey.set(r.key as string, col)
      }
      col[i] = r.value as string | number
    }
    for (const key of [...byKey.keys()].sort()) columns.push({ name: `${prefix}.${key}`, kind, values: byKey.get(key)! })
  }
  spread("params", "text", params)
  spread("metrics", "number", metrics)
  spread("tags", "text", tags)
  return { columns, rows: n }
}

const csvField = (v: string | number | null): string => {
  if (v === null) return ""
  const s = typeof v === "number" ? (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : String(v)) : v
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

const toCsv = (t: WideTable): string => {
  const lines = [t.columns.map((c) => csvField(c.name)).join(",")]
  for (let i = 0; i < t.rows; i++) lines.push(t.columns.map((c) => csvField(c.values[i])).join(","))
  return lines.join("\n") + "\n"
}

const toArrow = (t: WideTable): Uint8Array => {
  const vectors: Record<string, Vector> = {}
  for (const c of t.columns) {
    vectors[c.name] =
      c.kind === "text"
        ? vectorFromArray(c.values as Array<string | null>, new Utf8())
        : c.kind === "integer"
        ? vectorFromArray(c.values.map((v) => (v === null ? null : BigInt(v as number))), new Int64())
        : vectorFromArray(c.values as Array<number | null>, new Float64())
  }
  return tableToIPC(new Table(vectors), "file")
}

/** Parquet through a private in-memory DuckDB (the read model's instance cannot write files). */
const writeParquet = async (t: WideTable, out: string): Promise<void> => {
  const db = await DuckDBInstance.create(":memory:")
  const conn = await db.connect()
  try {
    const ident = (name: string) => `"${name.replaceAll('"', '""')}"`
    const sqlType = (k: Kind) => (k === "text" ? "VARCHAR" : k === "integer" ? "BIGINT" : "DOUBLE")
    await conn.run(`CREATE TABLE runs_export (${t.columns.map((c) => `${ident(c.name)} ${sqlType(c.kind)}`).join(", ")})`)
    const appender = await conn.createAppender("runs_export")
    for (let i = 0; i < t.rows; i++) {
      for (const c of t.columns) {
        const v = c.values[i]
        if (v === null) appender.appendNull()
        else if (c.kind === "text") appender.appendVarchar(v as string)
        else if (c.kind === "integer") appender.appendBigInt(BigInt(v as number))
        else appender.appendDouble(v as number)
      }
      appender.endRow()
    }
    appender.closeSync()
    // The path is the caller's own choice of file, quoted as a SQL string literal.
    await conn.run(`COPY runs_export TO '${out.replaceAll("'", "''")}' (FORMAT parquet)`)
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

export const writeTable = async (t: WideTable, format: ExportFormat, out: string): Promise<string> => {
  if (!EXPORT_FORMATS.includes(format)) throw new RangeError(`format must be one of ${EXPORT_FORMATS.join(", ")}, not ${JSON.stringify(format)}.`)
  const path = resolve(out)
  await fs.mkdir(dirname(path), { recursive: true })
  if (format === "csv") await fs.writeFile(path, toCsv(t))
  else if (format === "arrow") await fs.writeFile(path, toArrow(t))
  else await writeParquet(t, path)
  return path
}
