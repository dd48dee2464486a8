/** The flows test the UI as built from the current sources: Vite builds it once before them. */
import { execFileSync } from "node:child_process"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export default function setup(): void {
  const web = resolve(dirname(fileURLToPath(import.meta.url)), "../../packages/web")
  execFileSync(process.execPath, [join(web, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: web, stdio: "inherit" })
}
