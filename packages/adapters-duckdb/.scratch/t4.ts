import { BIGINT, DOUBLE, VARCHAR, BOOLEAN, INTEGER, DuckDBDataChunk, DuckDBInstance } from "@duckdb/node-api"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
const dir = mkdtempSync(`${tmpdir()}/duck-`)
const N = 2_000_000
const db = await DuckDBInstance.create(`${dir}/x.duckdb`)
const c = await db.connect()
const runs = Array.from({ length: 1000 }, (_, i) => `run-${i.toString(16).padStart(32, "0")}`)
const keys = ["loss", "accuracy", "learning_rate", "grad_norm"]
const variants: Record<string, { ddl: string; types: any[]; fill: (ch: DuckDBDataChunk, s: number, n: number) => void }> = {
  ceilingBigint: {
    ddl: "run_id VARCHAR, key VARCHAR, step BIGINT, timestamp BIGINT, value DOUBLE",
    types: [VARCHAR, VARCHAR, BIGINT, BIGINT, DOUBLE],
    fill(ch, s, n) {
      const r: string[] = new Array(n), k: string[] = new Array(n), st: bigint[] = new Array(n), ts: bigint[] = new Array(n), v: number[] = new Array(n)
      for (let j = 0; j < n; j++) { const i = s + j; r[j] = runs[(i / 10000) | 0]; k[j] = keys[i & 3]; st[j] = BigInt(i >> 2); ts[j] = BigInt(1.7e12 + i); v[j] = i * 0.5 }
      ch.setColumnValues(0, r); ch.setColumnValues(1, k); ch.setColumnValues(2, st); ch.setColumnValues(3, ts); ch.setColumnValues(4, v)
    }
  },
  ceilingDoubleCast: {
    ddl: "run_id VARCHAR, key VARCHAR, step BIGINT, timestamp BIGINT, value DOUBLE",
    types: [VARCHAR, VARCHAR, DOUBLE, DOUBLE, DOUBLE],
    fill(ch, s, n) {
      const r: string[] = new Array(n), k: string[] = new Array(n), st: number[] = new Array(n), ts: number[] = new Array(n), v: number[] = new Array(n)
      for (let j = 0; j < n; j++) { const i = s + j; r[j] = runs[(i / 10000) | 0]; k[j] = keys[i & 3]; st[j] = i >> 2; ts[j] = 1.7e12 + i; v[j] = i * 0.5 }
      ch.setColumnValues(0, r); ch.setColumnValues(1, k); ch.setColumnValues(2, st); ch.setColumnValues(3, ts); ch.setColumnValues(4, v)
    }
  },
  numbersOnly: {
    ddl: "step BIGINT, timestamp BIGINT, value DOUBLE",
    types: [BIGINT, BIGINT, DOUBLE],
    fill(ch, s, n) {
      const st: bigint[] = new Array(n), ts: bigint[] = new Array(n), v: number[] = new Array(n)
      for (let j = 0; j < n; j++) { const i = s + j; st[j] = BigInt(i >> 2); ts[j] = BigInt(1.7e12 + i); v[j] = i * 0.5 }
      ch.setColumnValues(0, st); ch.setColumnValues(1, ts); ch.setColumnValues(2, v)
    }
  },
  full: {
    ddl: "run_id VARCHAR, key VARCHAR, step BIGINT, timestamp BIGINT, stored_value DOUBLE, negative_zero BOOLEAN, era INTEGER, superseded BOOLEAN, value DOUBLE AS (CASE WHEN negative_zero THEN -0.0 ELSE stored_value END)",
    types: [VARCHAR, VARCHAR, DOUBLE, DOUBLE, DOUBLE, BOOLEAN, INTEGER, BOOLEAN],
    fill(ch, s, n) {
      const r: string[] = new Array(n), k: string[] = new Array(n), st: number[] = new Array(n), ts: number[] = new Array(n), v: number[] = new Array(n), nz: boolean[] = new Array(n), era: number[] = new Array(n), sup: boolean[] = new Array(n)
      for (let j = 0; j < n; j++) { const i = s + j; r[j] = runs[(i / 10000) | 0]; k[j] = keys[i & 3]; st[j] = i >> 2; ts[j] = 1.7e12 + i; v[j] = i * 0.5; nz[j] = false; era[j] = 0; sup[j] = false }
      ch.setColumnValues(0, r); ch.setColumnValues(1, k); ch.setColumnValues(2, st); ch.setColumnValues(3, ts); ch.setColumnValues(4, v); ch.setColumnValues(5, nz); ch.setColumnValues(6, era); ch.setColumnValues(7, sup)
    }
  }
}
for (const rep of [0, 1]) for (const [name, v] of Object.entries(variants)) {
  const t = `${name}_${rep}`
  await c.run(`CREATE TABLE ${t} (${v.ddl})`)
  const t0 = performance.now()
  let fillMs = 0
  const app = await c.createAppender(t)
  for (let s = 0; s < N; s += 2048) {
    const n = Math.min(2048, N - s)
    const ch = DuckDBDataChunk.create(v.types, n)
    const f0 = performance.now()
    v.fill(ch, s, n)
    fillMs += performance.now() - f0
    app.appendDataChunk(ch)
  }
  app.closeSync()
  const t1 = performance.now()
  await c.run("CHECKPOINT")
  const t2 = performance.now()
  console.log(name, "rows/s", Math.round(N / ((t1 - t0) / 1000)).toLocaleString(), "fill ms", fillMs.toFixed(0), "append total ms", (t1 - t0).toFixed(0), "checkpoint ms", (t2 - t1).toFixed(0))
}
console.log((await c.runAndReadAll("SELECT * FROM full_0 LIMIT 2")).getRowObjects())
