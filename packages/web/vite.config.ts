import { defineConfig } from "vite"

// Preact's automatic JSX runtime through Vite's own transform (no plugin needed). Everything ships
// in the bundle: no CDN, no web fonts, nothing fetched at run time but the API.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, target: "es2022", chunkSizeWarningLimit: 300 }
})
