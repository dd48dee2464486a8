/**
 * What a run records about where it ran: the git commit, branch and dirty flag of the working
 * directory (when it is inside a work tree; nothing fails outside one or without git), and the
 * runtime, OS, CPU, host and command line.
 */
import { type Environment, RunContext, type Source } from "@runledger/core"
import { Effect, Layer } from "effect"
import { createRequire } from "node:module"
import os from "node:os"

// Loaded when a run starts, not with the module: child_process (with net and dgram) costs every
// CLI command that starts no run several milliseconds to load.
const builtin = createRequire(import.meta.url)

const git = (args: string[], cwd: string): string | null => {
  try {
    const { execFileSync } = builtin("node:child_process") as typeof import("node:child_process")
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 }).trim()
  } catch {
    return null
  }
}

export const captureSource = (cwd: string = process.cwd()): Source => {
  const root = git(["rev-parse", "--show-toplevel"], cwd)
  const base = { command: [...process.argv], cwd }
  if (root === null) return base
  const commit = git(["rev-parse", "HEAD"], cwd)
  if (commit === null) return base // a repository without commits yet
  const branch = git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
  const status = git(["status", "--porcelain", "--untracked-files=no"], cwd)
  return {
    ...base,
    git: { commit, branch: branch === null || branch === "HEAD" ? null : branch, dirty: status !== null && status.length > 0, root }
  }
}

export const captureEnvironment = (): Environment => {
  let user: string | undefined
  try {
    user = os.userInfo().username
  } catch {
    user = undefined
  }
  return {
    runtime: `node ${process.version}`,
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cpus: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    host: os.hostname(),
    pid: process.pid,
    ...(user ? { user } : {})
  }
}

/**
 * Captured once per tracker: every run it starts shares the process's provenance. The source (four
 * git processes, tens of milliseconds) is captured when the first run is started, not when the
 * store is opened: a read (`runledger show`) never needs it.
 */
export const NodeRunContext = Layer.sync(RunContext, () => {
  let source: Source | undefined
  const provenance = {
    environment: captureEnvironment(),
    get source(): Source {
      return (source ??= captureSource())
    }
  }
  return RunContext.of({ capture: Effect.succeed(provenance) })
})
