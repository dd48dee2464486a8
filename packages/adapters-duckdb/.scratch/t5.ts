import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, StatementType } from "@duckdb/node-api"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
const dir = mkdtempSync(`${tmpdir()}/duck-`)
writeFileSync(`${dir}/x.csv`, "a,b\n1,2\n")
const db = await DuckDBInstance.create(`${dir}/m.duckdb`, { enable_external_access: "false", lock_configuration: "true" , autoinstall_known_extensions: "false", autoload_known_extensions: "false"})
const c = await db.connect()
await c.run("CREATE TABLE t (i BIGINT, v DOUBLE)")
await c.run("BEGIN")
const app = await c.createAppender("t")
const ch = DuckDBDataChunk.create([BIGINT, DOUBLE], 3); ch.setColumnValues(0, [1n, 2n, 3n]); ch.setColumnValues(1, [1, 2, 3]); app.appendDataChunk(ch); app.flushSync()
console.log("in txn", (await c.runAndReadAll("SELECT count(*) FROM t")).getRows())
const c2 = await db.connect()
console.log("other conn sees", (await c2.runAndReadAll("SELECT count(*) FROM t")).getRows())
await c.run("ROLLBACK")
console.log("after rollback", (await c.runAndReadAll("SELECT count(*) FROM t")).getRows())
app.closeSync()
// appender created before BEGIN, used across transactions
const app2 = await c.createAppender("t")
await c.run("BEGIN")
app2.appendDataChunk(ch); app2.flushSync()
await c.run("COMMIT")
console.log("after commit", (await c.runAndReadAll("SELECT count(*) FROM t")).getRows())
await c.run("BEGIN")
app2.appendDataChunk(ch); app2.flushSync()
await c.run("ROLLBACK")
console.log("after 2nd rollback", (await c.runAndReadAll("SELECT count(*) FROM t")).getRows())
const stmts = ["SELECT 1", "FROM t", "WITH x AS (SELECT 1) SELECT * FROM x", "INSERT INTO t VALUES (1,1)", "UPDATE t SET v=1", "DELETE FROM t", "DROP TABLE t", `COPY t TO '${dir}/o.csv'`, `ATTACH '${dir}/z.duckdb'`, `SELECT * FROM read_csv('${dir}/x.csv')`, "SELECT * FROM read_csv('/etc/passwd')", "SET threads=1", "PRAGMA version", "EXPLAIN SELECT 1", "DESCRIBE t", "SUMMARIZE t", "SHOW TABLES", "CALL pragma_version()", "SELECT * FROM query('SELECT 42')", "SELECT * FROM query('INSERT INTO t VALUES (9,9)')", "SELECT * FROM glob('/etc/*')", "SELECT * FROM read_text('/etc/hostname')", "SELECT * FROM '/etc/passwd'", "INSTALL httpfs", "LOAD json", "CHECKPOINT", "BEGIN", "VACUUM", "EXPORT DATABASE '/tmp/x'", "SELECT current_setting('enable_external_access')", "SELECT * FROM duckdb_settings() WHERE name='lock_configuration'", "SELECT 1; SELECT 2", "CREATE MACRO f(x) AS x", "SELECT getenv('HOME')", "SELECT * FROM sniff_csv('/etc/passwd')", "SELECT * FROM parquet_scan('/tmp/a.parquet')", "SELECT nextval('s')", "SELECT setseed(0.5)", "PIVOT t ON i USING sum(v)", "FROM duckdb_tables()", "SELECT '{}'::JSON", "SELECT json_extract('{\"a\":1}', '$.a')", "RESET threads", "SET enable_external_access=true"]
for (const s of stmts) {
  let type = "?"
  try {
    const ex = await c2.extractStatements(s)
    const types: string[] = []
    for (let i = 0; i < ex.count; i++) { try { const p = await ex.prepare(i); types.push(StatementType[p.statementType]); p.destroySync() } catch (e) { types.push("prepare-error:" + (e as Error).message.slice(0, 90)) } }
    type = `${ex.count} ${types.join(",")}`
  } catch (e) { type = "extract-error " + (e as Error).message.slice(0, 80) }
  let result: string
  try { const r = await c2.runAndReadAll(s); result = "OK " + JSON.stringify(r.getRowsJson()).slice(0, 60) } catch (e) { result = "ERR " + (e as Error).message.slice(0, 110) }
  console.log(JSON.stringify(s).slice(0, 60).padEnd(62), type.padEnd(30), result)
}
