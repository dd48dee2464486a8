/**
 * The child process of the open benchmark: one measurement in a fresh process, printed as one
 * JSON line on stdout. Usage: node bench/open-child.ts <dir> <run id>
 *
 * Times openTracker({ dir }) + getRun(id) (module loading not timed) and reports this process's
 * own peak RSS (VmHWM; see replay-child.ts for why not maxRSS) and what the log's open made of
 * its index snapshot.
 */
import { readFileSync } from "node:fs"
import { openTracker } from "../packages/cli/src/index.ts"

export interface OpenResult {
  readonly ms: number
  readonly openMs: number
  readonly peakRssKiB: number
  readonly status: string
}

const peakRssKiB = (): number => {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))
    if (m) return Number(m[1])
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS
}

const [dir, runId] = process.argv.slice(2)
const t0 = performance.now()
const tracker = await openTracker({ dir })
const t1 = performance.now()
const run = await tracker.getRun(runId)
const t2 = performance.now()
await tracker.close()
const result: OpenResult = { ms: t2 - t0, openMs: t1 - t0, peakRssKiB: peakRssKiB(), status: run.status }
process.stdout.write(`${JSON.stringify(result)}\n`)
