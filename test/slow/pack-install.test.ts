/**
 * The installable package, as a user gets it: `pnpm release:pack` builds and packs the tarballs;
 * plain npm (the system's, not the workspace's) installs them into a fresh project outside the
 * workspace, exactly as the README's "Use it in your project" says; the README's quick start
 * type-checks with `tsc --strict --module nodenext` and runs, on the system's Node and on the
 * workspace's Node 24; the `runledger` bin works, and the demo's hints work when pasted. From a
 * checkout, `pnpm -s runledger ... --json` prints only JSON. Third-party dependencies (effect,
 * DuckDB, apache-arrow, typescript) come from the registry; runledger's own only from the tarballs.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { packDir, releasePack, root } from "../../scripts/release-pack.ts"

let project: string
let tarballs: string[]

/**
 * The environment of a user's shell: without the workspace's node_modules/.bin on the PATH (it
 * holds Node 24; the system's Node is what users have), and without the npm_* variables of the
 * script running this test (they tell runledger how it was started).
 */
const userEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|PNPM_)/i.test(k)) env[k] = v
  }
  env.PATH = (process.env.PATH ?? "").split(delimiter).filter((d) => !d.startsWith(root)).join(delimiter)
  return env
}

interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A shell command line, as the user types it, in the fresh project (or `cwd`). */
const sh = (line: string, options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}): Result => {
  const r = spawnSync("sh", ["-c", line], { cwd: options.cwd ?? project, env: options.env ?? userEnv(), encoding: "utf8", timeout: 300_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const ok = (r: Result): Result => {
  expect(r.status, `${r.stderr}\n${r.stdout}`).toBe(0)
  return r
}

const systemNode = (): string => ok(sh("command -v node")).stdout.trim()

/** The README's quick start, as written. */
const quickStart = (): string => {
  const readme = readFileSync(join(root, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("## Quick start (library)"))
  const block = /```ts\n([\s\S]*?)```/.exec(section)
  if (block === null) throw new Error("README.md has no ts block under \"Quick start (library)\"")
  return block[1]
}

/** The runs of a `runs --json` listing: `{ runs, nextPageToken }`. */
const runsOf = (stdout: string): ReadonlyArray<{ name: string; status: string }> => (JSON.parse(stdout) as { runs: ReadonlyArray<{ name: string; status: string }> }).runs

beforeAll(() => {
  tarballs = releasePack()
  project = mkdtempSync(join(tmpdir(), "runledger-user-project-"))
  expect(project.startsWith(root)).toBe(false)
  ok(sh("npm init -y && npm pkg set type=module"))
  const major = ok(sh("node -p 'process.versions.node.split(\".\")[0]'")).stdout.trim()
  const typescript = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies.typescript as string
  // The README's commands: the tarballs by glob, then the type-checker.
  ok(sh(`npm install --no-audit --no-fund ${packDir}/*.tgz`))
  ok(sh(`npm install --no-audit --no-fund -D typescript@${typescript} @types/node@${major}`))
  // Eleven builds, eleven packs and two npm installs: past the slow suite's 2-minute hook limit on a
  // shared 2-core machine, so it gets the tests' 10 minutes (each command keeps its own 5-minute cap).
}, 600_000)

afterAll(() => {
  if (project !== undefined) rmSync(project, { recursive: true, force: true })
})

describe("the packed tarballs in a fresh npm project", () => {
  it("install built JS and .d.ts only, with real versions, engines, and none of redis, undici or ws", () => {
    expect(tarballs.map((t) => t.slice(packDir.length + 1))).toEqual([
      "runledger-0.1.0.tgz",
      "runledger-charts-0.1.0.tgz",
      "runledger-core-0.1.0.tgz",
      "runledger-readmodel-duckdb-0.1.0.tgz",
      "runledger-runtime-0.1.0.tgz",
      "runledger-search-syntax-0.1.0.tgz",
      "runledger-stats-0.1.0.tgz",
      "runledger-store-conformance-0.1.0.tgz",
      "runledger-store-duckdb-0.1.0.tgz",
      "runledger-store-fs-0.1.0.tgz",
      "runledger-store-http-0.1.0.tgz",
      "runledger-tracker-0.1.0.tgz"
    ])
    const manifest = JSON.parse(readFileSync(join(project, "node_modules/runledger/package.json"), "utf8"))
    expect(manifest.exports).toEqual({ ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } })
    expect(manifest.bin).toEqual({ runledger: "./dist/bin.js" })
    expect(manifest.engines).toEqual({ node: ">=20" })
    expect(manifest.dependencies["@runledger/core"]).toBe("0.1.0")
    // openTracker lives in the runtime, which runledger re-exports: installed beside it, built.
    expect(manifest.dependencies["@runledger/runtime"]).toBe("0.1.0")
    expect(existsSync(join(project, "node_modules/@runledger/runtime/dist/exit-handoff.js"))).toBe(true)
    expect(existsSync(join(project, "node_modules/runledger/src"))).toBe(false)
    for (const heavy of ["@effect/platform-node", "@effect/platform-node-shared", "redis", "@redis", "undici", "ws"]) {
      expect(existsSync(join(project, "node_modules", heavy)), heavy).toBe(false)
    }
    // The size a user pays, for the report (not asserted: it depends on the platform's DuckDB build).
    const size = (dirs: string) => ok(sh(`du -sk ${dirs} | awk '{ s += $1 } END { print s }'`)).stdout.trim()
    console.log(`installed: node_modules ${size("node_modules")} KB, of which typescript and @types/node ${size("node_modules/typescript node_modules/@types")} KB`)
  })

  it("the README quick start type-checks with tsc --strict --module nodenext and runs on the system Node and on Node 24", () => {
    writeFileSync(join(project, "train.ts"), quickStart())
    ok(sh("npx tsc --strict --module nodenext train.ts"))
    for (const node of [systemNode(), process.execPath]) {
      rmSync(join(project, "runledger"), { recursive: true, force: true })
      const r = ok(sh(`${node} train.js`))
      expect(r.stdout).toContain("name: 'baseline'")
      expect(r.stdout).toContain("status: 'FINISHED'")
    }
  })

  it("the runledger bin lists, verifies, shows and queries the store the quick start made", () => {
    const runs = runsOf(ok(sh("npx runledger runs --json")).stdout)
    expect(runs.map((r) => [r.name, r.status])).toEqual([["baseline", "FINISHED"]])
    expect(ok(sh("npx runledger verify")).stdout).toMatch(/^OK: /)
    expect(ok(sh("npx runledger show baseline")).stdout).toContain("model/weights.json")
    // The analytics read model: DuckDB's native binding, loaded on this Node.
    expect(ok(sh(`npx runledger sql "SELECT count(*) AS n FROM metrics WHERE key = 'loss'" --json`)).stdout).toMatch(/"n": ?10\b/)
  })

  it("the demo's hints run as printed", () => {
    const demo = ok(sh("npx runledger demo --epochs 1 --dir demo-store"))
    const next = demo.stdout.split("\n").find((l) => l.startsWith("Next: "))
    expect(next).toBeDefined()
    const hints = next!.slice("Next: ".length).split("  |  ")
    expect(hints).toHaveLength(3)
    for (const hint of hints) {
      expect(hint.startsWith("npx runledger "), hint).toBe(true)
      expect(hint.endsWith(` --dir ${join(project, "demo-store")}`), hint).toBe(true)
      ok(sh(hint))
    }
  })
})

describe("the web UI from the installed bin", () => {
  it("`runledger ui` serves the UI's page at / and its assets, over the store the quick start made", async () => {
    const { spawn } = await import("node:child_process")
        // The installed bin itself (not through npx), so the signal below reaches the server's process.
    const child = spawn(join(project, "node_modules/.bin/runledger"), ["ui", "--port", "0"], { cwd: project, env: userEnv(), stdio: ["ignore", "pipe", "pipe"] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ""
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString()
          const m = /(http:\/\/[^\s/]+)\//.exec(out)
          if (m) resolve(m[1])
        })
        child.stderr.on("data", (d: Buffer) => (out += d.toString()))
        child.once("exit", (code) => reject(new Error(`runledger ui exited (${code}) before printing its URL: ${out}`)))
      })
      const page = await fetch(`${url}/`)
      expect(page.status).toBe(200)
      expect(page.headers.get("content-type")).toMatch(/^text\/html/)
      const html = await page.text()
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)
      expect(script, html).not.toBeNull()
      const asset = await fetch(`${url}${script![1]}`)
      expect(asset.status).toBe(200)
      expect(asset.headers.get("content-type")).toMatch(/javascript/)
      // A deep link gets the same page; the API beside it answers JSON.
      expect(await (await fetch(`${url}/runs/x?tab=charts`)).text()).toBe(html)
      const experiments = (await (await fetch(`${url}/api/runledger/experiments`)).json()) as { experiments: ReadonlyArray<{ name: string }> }
      expect(experiments.experiments.map((e) => e.name)).toContain("mnist")
    } finally {
      child.kill("SIGTERM")
      await new Promise((resolve) => child.once("exit", resolve))
    }
  })
})

describe("from a checkout", () => {
  it("`pnpm -s runledger ... --json` prints only JSON, and the demo's hints name a command that works", () => {
    const store = join(project, "checkout-store")
    const env = userEnv()
    const demo = ok(sh(`npx -y pnpm@10 -s demo --epochs 1 --dir ${store}`, { cwd: root, env }))
    const next = demo.stdout.split("\n").find((l) => l.startsWith("Next: "))!
    const hints = next.slice("Next: ".length).split("  |  ")
    for (const hint of hints) {
      expect(hint).toMatch(/^npx -y pnpm@10 -s runledger /)
      ok(sh(hint, { cwd: root, env }))
    }
    const listed = ok(sh(`npx -y pnpm@10 -s runledger runs --json --dir ${store}`, { cwd: root, env }))
    // The six candidates, and the batch-size sweep: its parent and three children.
    expect(runsOf(listed.stdout)).toHaveLength(10)
  })
})
