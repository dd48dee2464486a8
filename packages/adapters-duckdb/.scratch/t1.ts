import { BIGINT, DOUBLE, VARCHAR, DuckDBDataChunk, DuckDBInstance } from "@duckdb/node-api"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
const dir = mkdtempSync(`${tmpdir()}/duck-`)
const file = `${dir}/a.duckdb`
const db = await DuckDBInstance.create(file)
const c = await db.connect()
await c.run("CREATE TABLE t (i BIGINT, v DOUBLE)")
const app = await c.createAppender("t")
const vals = [NaN, -0, 0, Infinity, -Infinity, 1.5, -0, -0, -0, NaN]
const n = 5000
const chunkVals: number[] = []
for (let i = 0; i < 2048; i++) chunkVals.push(i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : NaN)
for (let k = 0; k < 3; k++) {
  const ch = DuckDBDataChunk.create([BIGINT, DOUBLE], 2048)
  ch.setColumnValues(0, chunkVals.map((_, i) => BigInt(k * 2048 + i)))
  ch.setColumnValues(1, chunkVals)
  app.appendDataChunk(ch)
}
// a chunk of all -0
const ch = DuckDBDataChunk.create([BIGINT, DOUBLE], 2048)
ch.setColumnValues(0, chunkVals.map((_, i) => BigInt(10000 + i)))
ch.setColumnValues(1, chunkVals.map(() => -0))
app.appendDataChunk(ch)
// cast test: DOUBLE chunk into BIGINT column
try {
  const ch2 = DuckDBDataChunk.create([DOUBLE, DOUBLE], 3)
  ch2.setColumnValues(0, [1, 2, 3]); ch2.setColumnValues(1, [1, 2, 3])
  app.appendDataChunk(ch2)
  console.log("cast ok")
} catch (e) { console.log("cast fail", (e as Error).message) }
app.closeSync()
await c.run("CHECKPOINT")
c.closeSync(); db.closeSync()
const db2 = await DuckDBInstance.create(file)
const c2 = await db2.connect()
const r = await c2.runAndReadAll("SELECT i, v FROM t ORDER BY i")
const rows = r.getRows()
let bad = 0
for (const [i, v] of rows) {
  const ii = Number(i)
  const exp = ii >= 10000 && ii < 20000 ? -0 : ii < 10000 ? chunkVals[ii % 2048] : ii
  if (!Object.is(v, exp)) { if (bad++ < 5) console.log("mismatch", ii, v, exp) }
}
console.log("rows", rows.length, "bad", bad)
console.log((await c2.runAndReadAll("SELECT -0.0::DOUBLE AS a, '-0'::DOUBLE AS b, 'NaN'::DOUBLE AS c, arg_max(v, i) AS am, max(v) mx FROM t WHERE i >= 10000 and i < 20000")).getRowObjects())
console.log((await c2.runAndReadAll("SELECT compression, segment_type, column_name FROM pragma_storage_info('t')")).getRowObjects().slice(0, 10))
// second instance same file
try { const db3 = await DuckDBInstance.create(file); console.log("second instance ok"); db3.closeSync() } catch (e) { console.log("second instance:", (e as Error).message) }
