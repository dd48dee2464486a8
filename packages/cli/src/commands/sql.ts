import { invalid } from "@runledger/core"
import type { SqlRow } from "@runledger/readmodel-duckdb"
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { table, toJson } from "../format.ts"
import { out, withAnalytics } from "./common.ts"

const cell = (v: unknown): string => (v === null || v === undefined ? "NULL" : typeof v === "object" ? toJson(v, 0) : typeof v === "number" && Number.isNaN(v) ? "NaN" : String(v))

/** Write to stdout, waiting when its buffer is full: a result of any size goes through in bounded memory. */
const write = (text: string): Promise<void> | void => {
  if (process.stdout.write(text)) return
  return new Promise((resolve) => process.stdout.once("drain", resolve))
}

export const sql = Command.make(
  "sql",
  {
    query: Argument.String("query").pipe(Argument.withDescription("One SELECT over experiments, runs, params, tags, metrics, latest_metrics, artifacts, run_inputs, models, model_versions")),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print every row as JSON: one array, streamed as rows arrive (a result of any size)"), Flag.withDefault(false)),
    timeout: Flag.Finite("timeout").pipe(Flag.withDescription("Stop the query after DuckDB has worked on it this many seconds (time spent writing rows out does not count)"), Flag.withDefault(60)),
    maxMemory: Flag.String("max-memory").pipe(Flag.withDescription("The most memory DuckDB may use, e.g. 512MB or 4GB; a query needing more fails"), Flag.withDefault("2GB")),
    maxRows: Flag.Int("max-rows").pipe(Flag.withDescription("The most rows the table prints (the rest are left out with a note; --json prints all)"), Flag.withDefault(1000))
  },
  ({ query, json, timeout, maxMemory, maxRows }) => {
    if (!(timeout > 0)) return Effect.fail(invalid("timeout", `--timeout is a number of seconds above 0, got ${timeout}.`))
    if (!(maxRows >= 1)) return Effect.fail(invalid("max-rows", `--max-rows is a whole number of at least 1, got ${maxRows}.`))
    const options = { timeoutMs: timeout * 1000 }
    // DuckDB's module (where the size rule lives) loads only for this command, not for every invocation.
    const checkMemory = Effect.promise(() => import("@runledger/readmodel-duckdb")).pipe(
      Effect.flatMap(({ MEMORY_LIMIT }) =>
        MEMORY_LIMIT.test(maxMemory) ? Effect.void : Effect.fail(invalid("max-memory", `--max-memory is a size such as 512MB or 4GB, got ${JSON.stringify(maxMemory)}.`))
      )
    )
    return checkMemory.pipe(Effect.andThen(withAnalytics(async (tracker) => {
      if (json) {
        // The same text as JSON.stringify(rows, null, 2), a chunk of rows at a time.
        let first = true
        await write("[")
        await tracker.sqlStream(query, [], options, async (rows) => {
          if (rows.length === 0) return
          // One stringify per chunk: its rows are the lines between "[" and "]".
          const text = toJson(rows)
          await write(`${first ? "\n" : ",\n"}${text.slice(2, -2)}`)
          first = false
        })
        return write(first ? "]\n" : "\n]\n")
      }
      // A table needs every shown row for its column widths: keep up to maxRows, stop at one more.
      const shown: SqlRow[] = []
      let more = false
      const { columns } = await tracker.sqlStream(query, [], options, (rows) => {
        for (const row of rows) {
          if (shown.length === maxRows) {
            more = true
            return false
          }
          shown.push(row)
        }
      })
      if (shown.length === 0) return out("(no rows)")
      out(table(columns, shown.map((r) => columns.map((c) => cell(r[c])))))
      out(
        more
          ? `(the first ${shown.length.toLocaleString("en-US")} rows; the query has more: add a LIMIT or WHERE, raise --max-rows, or print them all with --json)`
          : `(${shown.length} row${shown.length === 1 ? "" : "s"})`
      )
    }, { readModelMemoryLimit: maxMemory })))
  }
).pipe(Command.withDescription("Run a read-only SQL query over the read model (DuckDB); writes and file access are refused. Bounded by --timeout and --max-memory; --json streams every row"))
