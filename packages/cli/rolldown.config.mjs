/**
 * The published `runledger` bin as pre-linked chunks: `tsc` leaves one file per module, and a cold
 * `--help` loaded ~430 of them (282 Effect's), which was most of its time. Bundled, the bin loads a
 * handful of files. `dist/bin.js` (tsc's is overwritten) turns the compile cache on, then imports
 * the CLI's chunk. The library entry (`dist/index.js`) stays tsc's, one module per file.
 *
 * exit-handoff is its own entry because the runtime finds it beside itself
 * (`new URL("./exit-handoff.js", import.meta.url)`), and bundled, "itself" is a chunk in dist/.
 * DuckDB stays external: a native binding, loaded only by the commands that query. Node's
 * built-ins are required, not imported, and Effect's help text measures with an Intl.Segmenter
 * built at its first use, not at load (bundle/ says why).
 *
 * The web UI's build (@runledger/web's dist/) is copied to `ui/` beside the chunks: the bundled
 * server finds it there (static-ui.ts), so the published package serves the UI with no other package.
 */
import { cpSync, existsSync, readdirSync, rmSync } from "node:fs"
import { defineConfig } from "rolldown"
import { lazySegmenter } from "./bundle/lazy-segmenter.mjs"
import { nodeBuiltins } from "./bundle/node-builtins.mjs"

// RUNLEDGER_BUNDLE_DIR: the bundle test builds into a directory of its own, leaving dist/ alone.
const dir = process.env.RUNLEDGER_BUNDLE_DIR ?? "dist"

// Chunk names carry a content hash: the previous build's chunks would otherwise stay in dist/ and
// in the packed tarball. (cleanDir would also delete tsc's library files.)
if (existsSync(dir)) for (const f of readdirSync(dir, { withFileTypes: true })) if (f.isFile() && f.name.startsWith("chunk-")) rmSync(`${dir}/${f.name}`)

const web = new URL("../web/dist/", import.meta.url)

/** Copy the UI's build next to the bundle; without one, say how to make it. */
const copyUi = {
  name: "runledger-web-ui",
  writeBundle() {
    if (!existsSync(new URL("index.html", web))) throw new Error("The web UI is not built (packages/web/dist): run `npx -y pnpm@10 --filter @runledger/web build` first.")
    rmSync(`${dir}/ui`, { recursive: true, force: true })
    cpSync(web, `${dir}/ui`, { recursive: true })
  }
}

export default defineConfig({
  plugins: [nodeBuiltins, lazySegmenter, copyUi],
  input: { bin: "src/bin.ts", "exit-handoff": "../runtime/src/exit-handoff.ts" },
  platform: "node",
  external: [/^@duckdb\//, "node:module"],
  output: {
    dir,
    format: "esm",
    chunkFileNames: "chunk-[name]-[hash].js",
    sourcemap: false,
    // ASCII only, and no comments but licences: a source with one non-ASCII character is decoded
    // and scanned by V8 as two-byte text, and every command loads about 1.5 MB of chunks. Escaped
    // and stripped (2.4 -> 1.6 MB), a tiny store's `experiments` went from ~265 to ~240 ms in
    // total, `--help` from ~228 to ~215 (Node alone: ~85). cli-bundle-e2e checks the bytes.
    charset: "ascii",
    comments: { legal: true, annotation: false, jsdoc: false }
  }
})
