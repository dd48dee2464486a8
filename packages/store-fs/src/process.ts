/**
 * Is a process gone? A pid check on this host: no process with that pid, or a process that
 * started after `since` (the pid was reused). Processes of other hosts are never judged here.
 * Used for the store's lock (is its holder gone?) and, through the Liveness port, for runs (is
 * the process that owns a RUNNING run gone?).
 *
 * Why a pid check and not heartbeats: it costs the checked process nothing (no periodic writes,
 * no fsyncs, no log growth) and it is exact on the host where the process lives; a heartbeat can
 * only guess after a timeout, and a paused (debugged, swapped) process would be wrongly judged gone.
 */
import { readFileSync } from "node:fs"
import { hostname } from "node:os"

export const HOST = hostname()
/** Linux reports process start times in clock ticks; USER_HZ is 100 on every mainstream build. */
const TICKS_PER_SECOND = 100

const bootTimeMs = (() => {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith("btime "))
    return line ? Number(line.split(/\s+/)[1]) * 1000 : null
  } catch {
    return null
  }
})()

/** When a process started (epoch ms), where /proc tells; null elsewhere. */
const processStartMs = (pid: number): number | null => {
  if (bootTimeMs === null) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return bootTimeMs + (Number(fields[19]) / TICKS_PER_SECOND) * 1000
  } catch {
    return null
  }
}

/** `since`: when the process was known to be there (it took the run, or the lock). */
export const isProcessGone = (owner: { readonly host: string; readonly pid: number; readonly since: number }): boolean => {
  if (owner.host !== HOST || owner.pid === process.pid || owner.pid <= 0) return false
  try {
    process.kill(owner.pid, 0)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH"
  }
  const started = processStartMs(owner.pid)
  // A live pid that started well after `since` belongs to another process now.
  return started !== null && started > owner.since + 1000
}
