/**
 * The command a user types to run runledger again from where they are, for the hints the CLI
 * prints, so that a printed hint works when pasted:
 * - from a checkout, through the workspace's pnpm script: `pnpm -s runledger` (`-s` keeps pnpm's
 *   "> runledger-workspace@ runledger" banner off stdout, so `--json` pipes), or
 *   `npx -y pnpm@10 -s runledger` when pnpm itself was started by npx (not installed);
 * - started by npx in a project that installed the package: `npx runledger`;
 * - otherwise the bin on the PATH: `runledger`.
 * A hint for a store other than the default names it with --dir.
 */
import { resolve } from "node:path"
import { defaultDir } from "@runledger/runtime"

export const runledgerCommand = (env: NodeJS.ProcessEnv = process.env): string => {
  if ((env.npm_config_user_agent ?? "").startsWith("pnpm/") && env.npm_package_name === "runledger-workspace") {
    return /[\\/]_npx[\\/]/.test(env.npm_execpath ?? "") ? "npx -y pnpm@10 -s runledger" : "pnpm -s runledger"
  }
  return env.npm_command === "exec" ? "npx runledger" : "runledger"
}

/** One word for a POSIX shell: quoted only when it needs to be. */
export const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`)

/** `runledger <args>` as the user can type it here; `dir` is the store the hint is about. */
export const hint = (args: string, dir: string, env: NodeJS.ProcessEnv = process.env): string => {
  const store = resolve(dir) === resolve(defaultDir()) ? "" : ` --dir ${shellWord(dir)}`
  return `${runledgerCommand(env)} ${args}${store}`
}
