/**
 * `pnpm release:pack`: build every package from a clean dist/ and pack it into .tmp/pack/*.tgz,
 * the tarballs a user's project installs with plain npm (see the README, "Use it in your project").
 *
 * pnpm pack applies each package's publishConfig (exports, main, types and bin point at dist/)
 * and turns workspace:* into the real versions. This script then opens every tarball and refuses
 * to finish if one still points at TypeScript sources, names a workspace: range, misses a file its
 * manifest points at, or declares no engines: the checks a broken release would fail first.
 */
import { execFileSync, type ExecFileSyncOptions } from "node:child_process"
import { mkdirSync, readdirSync, rmSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
export const packDir = join(root, ".tmp", "pack")
/** In dependency order: each package's build reads the types of the ones before it. */
const packages = ["core", "store-conformance", "tracker", "store-fs", "store-duckdb", "store-http", "search-syntax", "stats", "charts", "readmodel-duckdb", "runtime", "cli"]

const run = (file: string, args: ReadonlyArray<string>, options: ExecFileSyncOptions = {}): string =>
  execFileSync(file, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], ...options }) as string

/** pnpm itself when this runs as a pnpm script (npm_execpath), else the pinned one through npx. */
const pnpm = (args: ReadonlyArray<string>, cwd: string): string => {
  const execpath = process.env.npm_execpath
  return execpath && /pnpm\.c?js$/.test(execpath)
    ? run(process.execPath, [execpath, ...args], { cwd })
    : run("npx", ["-y", "pnpm@10", ...args], { cwd })
}

interface Manifest {
  readonly name: string
  readonly version: string
  readonly main?: string
  readonly types?: string
  readonly engines?: { readonly node?: string }
  readonly exports?: Record<string, string | Record<string, string>>
  readonly bin?: Record<string, string>
  readonly dependencies?: Record<string, string>
}

/** What is wrong with one packed tarball (empty when nothing is). */
export const problemsOf = (tarball: string): string[] => {
  const files = new Set(run("tar", ["-tzf", tarball]).split("\n").filter((f) => f.length > 0))
  const manifest = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"])) as Manifest
  const problems: string[] = []
  const targets = [
    manifest.main,
    manifest.types,
    ...Object.values(manifest.exports ?? {}).flatMap((e) => (typeof e === "string" ? [e] : Object.values(e))),
    ...Object.values(manifest.bin ?? {})
  ]
  if (targets.length === 0 || targets.includes(undefined)) problems.push("it lacks main, types or exports")
  for (const target of targets) {
    if (target === undefined) continue
    if (!/^\.\/dist\/.*\.(js|d\.ts)$/.test(target)) problems.push(`it points at ${target}, not at built JS or .d.ts in dist/`)
    if (!files.has(`package/${target.slice(2)}`)) problems.push(`it points at ${target}, which it does not contain`)
  }
  for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
    if (range.startsWith("workspace:")) problems.push(`its dependency ${dep} is still ${range}`)
  }
  if (!manifest.engines?.node) problems.push("it declares no engines.node")
  const sources = [...files].filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  if (sources.length > 0) problems.push(`it ships TypeScript sources: ${sources.slice(0, 3).join(", ")}`)
  return problems.map((p) => `${manifest.name}: ${p}`)
}

export const releasePack = (): string[] => {
  const tsc = join(root, "node_modules", ".bin", "tsc")
  for (const name of packages) {
    const dir = join(root, "packages", name)
    // A clean dist/: a file left by a source since deleted must not ship.
    rmSync(join(dir, "dist"), { recursive: true, force: true })
    run(tsc, ["-p", join(dir, "tsconfig.build.json")])
  }
  // The published bin is the CLI's rolldown bundle (its server included), with the web UI's build
  // copied beside it (dist/ui/): `runledger ui` works from the tarball alone.
  const web = join(root, "packages", "web")
  run(process.execPath, [join(web, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: web })
  const cli = join(root, "packages", "cli")
  run(process.execPath, [join(cli, "node_modules/rolldown/bin/cli.mjs"), "-c", "rolldown.config.mjs"], { cwd: cli })
  rmSync(packDir, { recursive: true, force: true })
  mkdirSync(packDir, { recursive: true })
  for (const name of packages) pnpm(["pack", "--pack-destination", packDir], join(root, "packages", name))
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith(".tgz")).sort().map((f) => join(packDir, f))
  if (tarballs.length !== packages.length) throw new Error(`Expected ${packages.length} tarballs in ${packDir}, found ${tarballs.length}.`)
  const problems = tarballs.flatMap(problemsOf)
  if (problems.length > 0) throw new Error(`The packed tarballs are not installable:\n  ${problems.join("\n  ")}`)
  return tarballs
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tarballs = releasePack()
  console.log(`Packed ${tarballs.length} tarballs into ${packDir}. In your project:\n\n  npm install ${packDir}/*.tgz\n`)
}
