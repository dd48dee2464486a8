/**
 * The CLI's end-to-end tests run the bin a user installs: the rolldown bundle of the published
 * package (rolldown.config.mjs), built here once per test run. It starts in a fraction of the
 * source's time (a few files to load, not hundreds of TypeScript modules), which took the CLI
 * suites from 87 to 37 s for cli-e2e alone. The bundle goes to a directory inside the package, so
 * its one external, DuckDB, resolves as it does from dist/; the tests find it with
 * `inject("cliBundle")` (harness.ts), and it is removed when the run ends. That the source bin
 * prints what the bundle prints is cli-bundle-e2e's to show.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { join, resolve } from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    /** The bundled bin.js (see bundle-setup.ts). */
    cliBundle: string
  }
}

const cliDir = resolve(import.meta.dirname, "..")

/**
 * Bundle the bin from the current sources with the package's own rolldown config into `dir` (a
 * directory inside the package); resolves to its bin.js. The benchmarks build theirs with it too.
 */
export const buildBundle = (dir: string): Promise<string> =>
  new Promise((done, fail) =>
    execFile(process.execPath, [join(cliDir, "node_modules/rolldown/bin/cli.mjs"), "-c", "rolldown.config.mjs"], { cwd: cliDir, env: { ...process.env, RUNLEDGER_BUNDLE_DIR: dir } }, (error, _out, stderr) =>
      error ? fail(new Error(`Building the CLI's bundle failed (rolldown): ${stderr || error.message}`)) : done(join(dir, "bin.js"))
    )
  )

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(cliDir, ".bundle-test-"))
  try {
    project.provide("cliBundle", await buildBundle(dir))
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return () => rmSync(dir, { recursive: true, force: true })
}
