/**
 * The flows test the UI as built from the current sources: Vite builds it once before them, as
 * `pnpm build` and the install do, for production. Vitest sets NODE_ENV=test, which Vite's build
 * follows: the JSX then compiled to its development form (each element with its file, line and
 * column), a bundle of 135 KB instead of the 113 KB that ships, slower to load and render.
 */
import { execFileSync } from "node:child_process"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export default function setup(): void {
  const web = resolve(dirname(fileURLToPath(import.meta.url)), "../../packages/web")
  execFileSync(process.execPath, [join(web, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: web, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } })
}
