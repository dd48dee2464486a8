/**
 * `runledger repair`: the writes that reads never make. It cuts off a torn tail (the incomplete
 * last record a crash mid-append leaves; the bytes are kept beside the log) and records RUNNING
 * runs whose process is gone (a pid check on this host) or whose lease ran out as KILLED, abandons model renames
 * interrupted between their two appends (the model keeps its old name; why abandon rather than
 * complete: core's project/models.ts), and removes the files that
 * processes killed while taking the lock left beside it. Any writer cuts a torn tail
 * before its first append too; damage (a complete record that fails its checks) is never cut:
 * `verify` names it, and the file is restored from a backup.
 */
import type { Recovery } from "@runledger/store-fs"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { toJson } from "../format.ts"
import { out, requireStore, task } from "./common.ts"
import { jsonFlag, storeDir } from "./root.ts"

export const repair = Command.make("repair", { json: jsonFlag }, ({ json }) =>
  Effect.gen(function*() {
    const dir = yield* storeDir
    yield* requireStore(dir)
    const { cut, leftovers, killed, renames } = yield* task(async () => {
      // Imported when the command runs, not at start: a CLI start loads only what the chosen command needs (issue 11).
      const [{ FsEventLog }, { openTracker }] = await Promise.all([import("@runledger/store-fs"), import("@runledger/runtime")])
      const log = await FsEventLog.open({ dir, onRecover: () => {} })
      let repaired: { readonly tornTail: Recovery | null; readonly lockLeftovers: number }
      try {
        repaired = await log.repair()
      } finally {
        await log.close()
      }
      const tracker = await openTracker({ dir })
      try {
        const killed = await Effect.runPromise(tracker.effect.reapDeadRuns)
        const renames = await Effect.runPromise(tracker.effect.abandonPendingRenames)
        return { cut: repaired.tornTail, leftovers: repaired.lockLeftovers, killed, renames }
      } finally {
        await tracker.close()
      }
    })
    if (json) return out(toJson({ tornTail: cut, killedRuns: killed, lockLeftoversRemoved: leftovers, abandonedRenames: renames.map((r) => ({ model: r.from, to: r.to, at: r.at, actor: r.actor ?? null })) }))
    out(
      cut === null
        ? "No torn tail: the log ends with a complete record."
        : `Cut off a torn tail of ${cut.bytes} bytes at byte offset ${cut.offset} (${cut.reason}); the bytes are kept in ${cut.savedTo}.`
    )
    if (leftovers > 0) out(`Removed ${leftovers} file(s) that killed processes left beside events.lock.`)
    for (const r of renames) out(`Abandoned the unfinished rename of model ${r.from} to ${r.to} (asked${r.actor ? ` by ${r.actor}` : ""} at ${new Date(r.at).toISOString()}): the model keeps the name ${r.from}, and ${r.to} is free. Rename it again if still wanted.`)
    out(killed.length === 0 ? "No dead runs: every RUNNING run's process is alive (or on another host), and no lease has run out." : `Recorded ${killed.length} run(s) whose process is gone (or lease ran out) as KILLED: ${killed.join(", ")}.`)
  })
).pipe(Command.withDescription("Cut off a torn tail left by a crash (kept beside the log), record runs whose process is gone (or lease ran out) as KILLED, and abandon model renames a crash interrupted; reads never do any of these"))
