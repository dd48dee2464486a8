/**
 * The published `runledger` bin as pre-linked chunks: `tsc` leaves one file per module, and a cold
 * `--help` loaded ~430 of them (282 Effect's), which was most of its time. Bundled, the bin loads a
 * handful of files. `dist/bin.js` (tsc's is overwritten) turns the compile cache on, then imports
 * the CLI's chunk. The library entry (`dist/index.js`) stays tsc's, one module per file.
 *
 * exit-handoff is its own entry because the runtime finds it beside itself
 * (`new URL("./exit-handoff.js", import.meta.url)`), and bundled, "itself" is a chunk in dist/.
 * DuckDB stays external: a native binding, loaded only by the commands that query.
 */
import { readdirSync, rmSync } from "node:fs"
import { defineConfig } from "rolldown"

// Chunk names carry a content hash: the previous build's chunks would otherwise stay in dist/ and
// in the packed tarball. (cleanDir would also delete tsc's library files.)
for (const f of readdirSync("dist", { withFileTypes: true })) if (f.isFile() && f.name.startsWith("chunk-")) rmSync(`dist/${f.name}`)

export default defineConfig({
  input: { bin: "src/bin.ts", "exit-handoff": "../runtime/src/exit-handoff.ts" },
  platform: "node",
  external: [/^@duckdb\//, /^node:/],
  output: { dir: "dist", format: "esm", chunkFileNames: "chunk-[name]-[hash].js", sourcemap: false }
})
