/**
 * The harness of the CLI's end-to-end tests: spawn the `runledger` bin as a child process
 * (asynchronously, so independent invocations run side by side) against stores in fresh temporary
 * directories, and check what a user sees. The bin is the bundle the package publishes, built once
 * per test run (bundle-setup.ts, the configs' globalSetup); `SOURCE_BIN` is the one a developer runs
 * from a checkout. NODE_COMPILE_CACHE (a private cache directory) makes repeated start-ups cheaper
 * and changes nothing else.
 */
import { afterAll, expect, inject } from "vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")
/** The bin run from the source (`pnpm runledger`). */
export const SOURCE_BIN = join(repoRoot, "packages/cli/src/bin.ts")

const bundled = (): string => {
  const bin = inject("cliBundle")
  if (bin === undefined) throw new Error("The CLI's tests run its bundle: add packages/cli/test/bundle-setup.ts to this vitest config's globalSetup.")
  return bin
}

/** The bin the tests run: the published bundle (bundle-setup.ts). */
export const BIN = bundled()
const compileCache = mkdtempSync(join(tmpdir(), "runledger-cli-cache-"))
const tempRoots: string[] = [compileCache]

afterAll(() => {
  for (const dir of tempRoots) rmSync(dir, { recursive: true, force: true })
})

export const freshRoot = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-cli-"))
  tempRoots.push(dir)
  return dir
}

/**
 * Numbered copies of a store (read model included) under a root, for a command that runs beside
 * others on its own copy: one process holds a read model at a time. Both are read at each call,
 * as tests set them in beforeAll.
 */
export const storeCopies = (root: () => string, store: () => string): (() => string) => {
  let copies = 0
  return () => {
    const dir = join(root(), `copy-${++copies}`)
    cpSync(store(), dir, { recursive: true })
    return dir
  }
}

export interface CliResult {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  /** Working directory of the child (default: the OS temp dir, so a missing --dir never touches the repo). */
  readonly cwd?: string
  /** Extra environment; RUNLEDGER_DIR is unset unless given here. */
  readonly env?: Record<string, string | undefined>
  /** The bin to run (default: BIN, the bundle). */
  readonly bin?: string
}

const childEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, RUNLEDGER_DIR: undefined, NODE_COMPILE_CACHE: compileCache, ...extra }
  for (const key of Object.keys(env)) if (key.startsWith("VITEST") || key === "NODE_ENV") delete env[key]
  return env
}

export const startCli = (args: ReadonlyArray<string>, options: CliOptions = {}): ChildProcess =>
  spawn(process.execPath, [options.bin ?? BIN, ...args], { cwd: options.cwd ?? tmpdir(), env: childEnv(options.env), stdio: ["ignore", "pipe", "pipe"] })

/** Run `runledger ...args` to completion (killed after 30 s, which fails the test). */
export const cli = (args: ReadonlyArray<string>, options: CliOptions = {}): Promise<CliResult> =>
  new Promise((resolvePromise, reject) => {
    const child = startCli(args, options)
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s))
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on("close", (status, signal) => {
      clearTimeout(timer)
      resolvePromise({ status, signal, stdout, stderr })
    })
  })

export const lines = (text: string): string[] => text.split("\n").filter((l) => l.length > 0)

/** Exit status 2, nothing on stdout, exactly one line on stderr matching `pattern`. */
export const expectUsageError = (r: CliResult, pattern: RegExp | string): void => {
  expect(r.stdout).toBe("")
  expect(lines(r.stderr), r.stderr).toHaveLength(1)
  if (typeof pattern === "string") expect(r.stderr).toContain(pattern)
  else expect(r.stderr.trimEnd()).toMatch(pattern)
  expect(r.status, r.stderr).toBe(2)
}

export const expectOk = (r: CliResult): void => {
  expect(r.status, r.stderr).toBe(0)
}

