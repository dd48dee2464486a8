import { DuckDBInstance } from "@duckdb/node-api"
const db = await DuckDBInstance.create(":memory:", { enable_external_access: "false" })
const c = await db.connect()
await c.run("CREATE TABLE t (a DOUBLE, nz BOOLEAN)")
await c.run("INSERT INTO t VALUES (0, true), (0, false), ('NaN', false), ('-inf', false)")
for (const q of ["SELECT CASE WHEN nz THEN -0.0 ELSE a END AS v FROM t", "SELECT CASE WHEN nz THEN '-0'::DOUBLE ELSE a END AS v FROM t", "SELECT CASE WHEN nz THEN -(0::DOUBLE) ELSE a END AS v FROM t", "SELECT if(nz, '-0'::DOUBLE, a) AS v, typeof(v) FROM t"]) {
  console.log(q, (await c.runAndReadAll(q)).getRows())
}
try { await c.run("BEGIN TRANSACTION READ ONLY"); console.log("ro begin ok"); try { await c.run("INSERT INTO t VALUES (1, false)"); console.log("insert in ro ok?!") } catch (e) { console.log("insert in ro:", (e as Error).message) } await c.run("ROLLBACK") } catch (e) { console.log("ro:", (e as Error).message) }
const r = await c.runAndReadAll("SELECT 9007199254740993::BIGINT AS big, 5::BIGINT AS small, 1.5::DECIMAL(10,2) AS dec, now()::TIMESTAMP AS ts, [1,2]::BIGINT[] AS l, {'a': 1::BIGINT} AS s, 'x'::BLOB AS b, 12345678901234567890::HUGEINT AS h, DATE '2020-01-01' AS d, INTERVAL 1 DAY AS iv, '550e8400-e29b-41d4-a716-446655440000'::UUID AS u, 'NaN'::DOUBLE AS n")
console.log(r.getRowObjectsJS())
console.log(r.getRowObjectsJson())
