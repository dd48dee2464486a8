/**
 * The read model's size per table on a 10M-point store: RUNS runs x STEPS steps x 2 metrics,
 * caught up from generated events (bench/analytics.ts's log), then checkpointed. A table's size is
 * the number of distinct storage blocks its columns occupy (pragma_storage_info), times DuckDB's
 * block size: blocks shared by small tables are counted in each, so the small tables are rounded up.
 *
 * Standalone: `node bench/readmodel-size.ts [--runs N] [--steps N]`.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { ReadModel } from "../packages/readmodel-duckdb/src/index.ts"
import { TABLES } from "../packages/readmodel-duckdb/src/schema.ts"
import { batches, makeLog } from "./analytics.ts"
import { withTempDir } from "./report.ts"

export const readModelSizes = (runs: number, steps: number) =>
  withTempDir("readmodel-size", async (dir) => {
    const file = join(dir, "readmodel.duckdb")
    const model = await ReadModel.open({ file })
    const log = makeLog("size", "s", runs, steps, 0)
    const caughtUp = await model.catchUp(batches(log))
    await model.close()
    const instance = await DuckDBInstance.create(file)
    const conn = await instance.connect()
    try {
      await conn.run("CHECKPOINT")
      const blockSize = Number((await conn.runAndReadAll("SELECT block_size FROM pragma_database_size()")).getRows()[0][0])
      const tables: Record<string, { rows: number; bytes: number }> = {}
      for (const t of TABLES) {
        const [[blocks]] = (await conn.runAndReadAll(`SELECT count(DISTINCT block_id) FILTER (WHERE persistent) FROM pragma_storage_info('${t.name}')`)).getRows()
        const [[rows]] = (await conn.runAndReadAll(`SELECT count(*) FROM ${t.name}`)).getRows()
        tables[t.name] = { rows: Number(rows), bytes: Number(blocks) * blockSize }
      }
      return { points: caughtUp.points, fileBytes: statSync(file).size, tables }
    } finally {
      conn.closeSync()
      instance.closeSync()
    }
  })

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: "string" }, steps: { type: "string" } } })
  const r = await readModelSizes(Number(values.runs ?? 100), Number(values.steps ?? 50_000))
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`
  process.stdout.write(`${r.points.toLocaleString("en-US")} points; file ${mb(r.fileBytes)}\n`)
  for (const [name, { rows, bytes }] of Object.entries(r.tables)) process.stdout.write(`${name.padEnd(24)} ${rows.toLocaleString("en-US").padStart(12)} rows ${mb(bytes).padStart(10)}\n`)
}
