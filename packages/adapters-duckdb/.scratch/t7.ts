import { DuckDBInstance } from "@duckdb/node-api"
const db = await DuckDBInstance.create(":memory:", { enable_external_access: "false" })
const c = await db.connect()
await c.run("CREATE TABLE tags (run_id VARCHAR, key VARCHAR, value VARCHAR, PRIMARY KEY (run_id, key))")
await c.run("INSERT INTO tags VALUES ('r','k','a')")
const tries = [
  "BEGIN; DELETE FROM tags WHERE run_id='r' AND key='k'; INSERT INTO tags VALUES ('r','k','b'); COMMIT",
  "BEGIN; DELETE FROM tags WHERE run_id='r' AND key='k'; INSERT OR REPLACE INTO tags VALUES ('r','k','c'); INSERT OR REPLACE INTO tags VALUES ('r','k','d'); DELETE FROM tags WHERE run_id='r' AND key='k'; INSERT OR REPLACE INTO tags VALUES ('r','k','e'); COMMIT",
  "BEGIN; INSERT OR REPLACE INTO tags VALUES ('r','k2','x'); INSERT OR REPLACE INTO tags VALUES ('r','k2','y'); DELETE FROM tags WHERE key='k2'; INSERT OR REPLACE INTO tags VALUES ('r','k2','z'); COMMIT",
]
for (const t of tries) { try { await c.run(t); console.log("ok", (await c.runAndReadAll("FROM tags")).getRows()) } catch (e) { console.log("ERR", (e as Error).message); await c.run("ROLLBACK").catch(() => {}) } }
await c.run("CREATE TEMP TABLE stage (a VARCHAR, b INTEGER)")
try { const app = await c.createAppender("stage", "main", "temp"); app.appendVarchar("x"); app.appendInteger(1); app.endRow(); app.closeSync(); console.log("temp appender ok", (await c.runAndReadAll("FROM stage")).getRows()) } catch (e) { console.log("temp app err", (e as Error).message) }
try { const app = await c.createAppender("stage"); app.appendVarchar("y"); app.appendInteger(2); app.endRow(); app.closeSync(); console.log("temp appender (no schema) ok", (await c.runAndReadAll("FROM stage")).getRows()) } catch (e) { console.log("temp app2 err", (e as Error).message) }
// UPDATE to PK-less big table in txn with appended rows
