import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance } from "@duckdb/node-api"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
const dir = mkdtempSync(`${tmpdir()}/duck-`)
const specials = [NaN, -0, 0, Infinity, -Infinity]
const patterns: Record<string, (i: number) => number> = {
  zeros: (i) => (i % 7 === 0 ? -0 : 0),
  mixed: (i) => (i % 5 === 0 ? specials[i % 5] : i % 11 === 0 ? -0 : Math.round(Math.random() * 1000) / 100),
  random: (i) => (i % 13 === 0 ? -0 : Math.random()),
  decimals: (i) => (i % 13 === 0 ? -0 : (i % 100) / 10),
  negzeroRuns: (i) => ((i >> 4) % 2 ? -0 : 0)
}
for (const spec of ["", " USING COMPRESSION uncompressed"]) {
  for (const [name, f] of Object.entries(patterns)) {
    const file = `${dir}/${name}${spec ? "u" : ""}.duckdb`
    const db = await DuckDBInstance.create(file)
    const c = await db.connect()
    try { await c.run(`CREATE TABLE t (i BIGINT, v DOUBLE${spec})`) } catch (e) { console.log("create fail", (e as Error).message); break }
    const app = await c.createAppender("t")
    const expected: number[] = []
    for (let k = 0; k < 100; k++) {
      const ch = DuckDBDataChunk.create([BIGINT, DOUBLE], 2048)
      const ids: bigint[] = [], vs: number[] = []
      for (let j = 0; j < 2048; j++) { const i = k * 2048 + j; ids.push(BigInt(i)); const v = f(i); vs.push(v); expected.push(v) }
      ch.setColumnValues(0, ids); ch.setColumnValues(1, vs); app.appendDataChunk(ch)
    }
    app.closeSync(); await c.run("CHECKPOINT"); c.closeSync(); db.closeSync()
    const db2 = await DuckDBInstance.create(file); const c2 = await db2.connect()
    const rows = (await c2.runAndReadAll("SELECT i, v FROM t ORDER BY i")).getRows()
    let bad = 0
    for (const [i, v] of rows) if (!Object.is(v, expected[Number(i)])) bad++
    const comp = (await c2.runAndReadAll("SELECT DISTINCT compression FROM pragma_storage_info('t') WHERE column_name='v' AND segment_type='DOUBLE'")).getRows().flat()
    console.log(spec || "default", name, "bad", bad, comp)
    c2.closeSync(); db2.closeSync()
  }
}
