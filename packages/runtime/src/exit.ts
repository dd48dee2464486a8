/**
 * What happens to open runs when the process ends without `end()` or `close()`. Node's edge, not
 * core's: the hooks are installed once, when the first tracker opens, and look at every tracker
 * still open.
 *
 * - The event loop runs dry (`beforeExit`): every active run ends FINISHED (FAILED if
 *   `process.exitCode` is non-zero), and everything queued is written.
 * - An uncaught exception or unhandled rejection, with no other `uncaughtException` listener:
 *   active runs end FAILED with the error, queued calls are written, and the error is thrown
 *   again, so Node reports it and exits 1 as it would have.
 * - SIGINT or SIGTERM, with no other listener for it: active runs end KILLED, queued calls are
 *   written, and the signal is raised again, so the process ends by it (a second one ends at once).
 * - `process.exit()` allows no I/O: queued calls and the end (FINISHED for code 0, else FAILED) are
 *   handed to a short-lived child process that appends them while this one waits (spawnSync). An
 *   append already in flight is the store's to finish or not; that run is named on stderr. An
 *   artifact still uploading is lost. A duckdb: store cannot be handed off (DuckDB lets one process
 *   hold its file, and this one cannot let go synchronously): its runs are named on stderr instead.
 */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { EndStatus } from "@runledger/core"
import type { TrackerClient } from "@runledger/tracker"
import type { StoreLocation } from "./store.ts"

const builtin = createRequire(import.meta.url)

interface Tracked {
  readonly client: TrackerClient
  readonly store: StoreLocation
  readonly durability: string
}

const open = new Set<Tracked>()
let installed = false

/** Follow a tracker until it closes; returns the function that stops following it. */
export const followAtExit = (client: TrackerClient, store: StoreLocation, durability: string): () => void => {
  const tracked = { client, store, durability }
  open.add(tracked)
  if (!installed) install()
  return () => {
    open.delete(tracked)
  }
}

const say = (line: string) => process.stderr.write(`runledger: ${line}\n`)

/** End every active run with `status`, and write what is queued; never rejects. */
const settleAll = async (status: EndStatus, error?: unknown): Promise<void> => {
  const runs = [...open].flatMap((t) => t.client.liveRuns())
  const results = await Promise.allSettled(runs.map((r) => (r.active ? r.end(error === undefined ? { status } : { status, error }) : r.flush())))
  results.forEach((r, i) => {
    if (r.status === "rejected") say(`run ${runs[i].id}: ${(r.reason as Error)?.message ?? String(r.reason)}`)
  })
}

const handoffScript = fileURLToPath(new URL(`./exit-handoff${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url))

/** `process.exit()`: synchronous, so the queued events go to a child process that appends them. */
const handOff = (code: number) => {
  const status: EndStatus = code === 0 ? "FINISHED" : "FAILED"
  const error = code === 0 ? undefined : new Error(`process.exit(${code})`)
  for (const t of open) {
    const runs = []
    for (const r of t.client.liveRuns()) {
      const taken = r.takeForExit(status, error)
      if (taken === "busy") say(`process.exit() came while run ${r.id} was being written; its latest calls may be lost. Await run.flush() or tracker.close() before process.exit().`)
      else if (taken !== undefined) runs.push(taken)
    }
    if (runs.length === 0) continue
    if (t.store.kind !== "fs") {
      // A server is reached over the network, which process.exit() allows no time for; a leased run shows KILLED once its lease runs out.
      const why = t.store.kind === "http" ? "a server, which process.exit() leaves no time to reach" : "whose file this process holds"
      say(`process.exit() came with ${runs.length} run(s) open on ${t.store.uri} (${runs.map((r) => r.runId).join(", ")}), ${why}: their latest calls are not written. Await tracker.close() before process.exit().`)
      continue
    }
    // A store removed meanwhile (a test's temporary directory) is not created again.
    if (!existsSync(join(t.store.dir, "events.log"))) continue
    // Loaded here, at exit, if ever: child_process (with net and dgram) and v8 cost every process that never hands off.
    const { spawnSync } = builtin("node:child_process") as typeof import("node:child_process")
    const { serialize } = builtin("node:v8") as typeof import("node:v8")
    const child = spawnSync(process.execPath, [handoffScript], {
      input: serialize({ dir: t.store.dir, durability: t.durability, runs }),
      stdio: ["pipe", "inherit", "pipe"]
    })
    if (child.status !== 0) say(`could not write ${runs.length} run(s) at process.exit(): ${child.stderr?.toString().trim() || child.error?.message || `exit ${child.status}`}`)
  }
}

const install = () => {
  installed = true
  let settling = false
  process.on("beforeExit", () => {
    if (settling || open.size === 0) return
    if ([...open].every((t) => t.client.liveRuns().length === 0)) return
    settling = true
    const failed = process.exitCode !== undefined && process.exitCode !== 0 && process.exitCode !== "0"
    void settleAll(failed ? "FAILED" : "FINISHED", failed ? new Error(`the process exited with code ${process.exitCode}`) : undefined).finally(() => {
      settling = false
    })
  })
  process.on("exit", (code) => {
    if (open.size > 0) handOff(code)
  })
  const onUncaught = (error: unknown) => {
    // Another listener means the script handles its errors itself: leave its runs alone.
    if (process.listenerCount("uncaughtException") > 1) return
    process.removeListener("uncaughtException", onUncaught)
    void settleAll("FAILED", error).finally(() => {
      // Thrown again from a fresh stack: Node prints it and exits 1, as without this hook.
      setImmediate(() => {
        throw error
      })
    })
  }
  process.on("uncaughtException", onUncaught)
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return
      process.removeListener(signal, onSignal)
      // A second signal while the runs are written ends the process at once (default action).
      void settleAll("KILLED").finally(() => process.kill(process.pid, signal))
    }
    process.on(signal, onSignal)
  }
}
