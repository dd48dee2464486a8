import { Argument, Command, Flag } from "effect/cli"
import { table, toJson } from "../format.ts"
import { out, withAnalytics } from "./common.ts"

const cell = (v: unknown): string => (v === null || v === undefined ? "NULL" : typeof v === "object" ? toJson(v, 0) : typeof v === "number" && Number.isNaN(v) ? "NaN" : String(v))

export const sql = Command.make(
  "sql",
  {
    query: Argument.String("query").pipe(Argument.withDescription("One SELECT over experiments, runs, params, tags, metrics, latest_metrics, artifacts, models, model_versions")),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print the rows as JSON"), Flag.withDefault(false))
  },
  ({ query, json }) =>
    withAnalytics(async (tracker) => {
      const rows = await tracker.sql(query)
      if (json) return out(toJson(rows))
      if (rows.length === 0) return out("(no rows)")
      const columns = Object.keys(rows[0])
      out(table(columns, rows.map((r) => columns.map((c) => cell(r[c])))))
      out(`(${rows.length} row${rows.length === 1 ? "" : "s"})`)
    })
).pipe(Command.withDescription("Run a read-only SQL query over the read model (DuckDB); writes and file access are refused"))
