/**
 * The child process of the replay benchmark: one measurement in a fresh process, printed as one
 * JSON line on stdout. Usage: node bench/replay-child.ts <mode> <dir>
 *
 *   projection  FsEventLog.open({ dir }) + readAll(0), every event folded into a LogProjection
 *   raw         the ceiling: sequential fs reads of events.log in 4 MiB chunks, split into records
 *               (boundaries found: a text record's LF, a compact record's length; nothing decoded)
 *   parse       context: like raw, plus JSON.parse of each record's JSON (inflated when a compact
 *               record holds it deflated; no checksum, no schema)
 *   effect      openTracker({ dir }) + tracker.listRuns() (the Effect path a CLI takes)
 *
 * Module loading is not timed; peak RSS covers the whole process, loading included.
 *
 * Peak RSS: on Linux, VmHWM from /proc/self/status. `process.resourceUsage().maxRSS` is printed
 * too, but it is not the child's own peak: Linux folds the RSS high-water mark of the memory the
 * spawning parent had into the child's maxrss at exec (libuv spawns with vfork/exec), so a child of
 * a big parent reports at least the parent's peak (seen here: 167 MB for a child whose own peak
 * is 84 MB).
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs"
import { join } from "node:path"
import { recordJson } from "../packages/store-fs/src/frame.ts"

const CHUNK = 4 << 20
const LF = 10
/** A compact record's first byte, and its head: that byte and its length twice (frame.ts). */
const COMPACT = 0x7e
const COMPACT_HEAD = 9

/** One measurement, printed as a JSON line (the parent reads it; see replay.ts). */
export interface Result {
  mode: string
  ms: number
  openMs?: number
  events: number
  points?: number
  bytes?: number
  runs?: number
  /** This process's own peak RSS: VmHWM where /proc exists, else maxRSS. */
  peakRssKiB: number
  /** process.resourceUsage().maxRSS, which may include the parent's peak (see above). */
  maxRssKiB: number
}

const peak = (): { peakRssKiB: number; maxRssKiB: number } => {
  const maxRssKiB = process.resourceUsage().maxRSS
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))
    if (m) return { peakRssKiB: Number(m[1]), maxRssKiB }
  } catch {
    // not Linux
  }
  return { peakRssKiB: maxRssKiB, maxRssKiB }
}

/** Where the record at `at` ends (limit: not all of it is in the buffer yet), in either form. */
const recordEnd = (buf: Buffer, at: number, limit: number): number => {
  if (buf[at] !== COMPACT) {
    const lf = buf.indexOf(LF, at)
    return lf < 0 || lf >= limit ? -1 : lf + 1
  }
  if (limit - at < COMPACT_HEAD) return -1
  const end = at + COMPACT_HEAD + buf.readUInt32LE(at + 1)
  return end > limit ? -1 : end
}

/** Sequential reads with one reused buffer; calls `line(buf, start, end)` for every complete record. */
const eachLine = (file: string, line: (buf: Buffer, start: number, end: number) => void): { lines: number; bytes: number } => {
  const fd = openSync(file, "r")
  let buf = Buffer.allocUnsafe(CHUNK)
  let have = 0 // bytes of buf in use (a carried partial line, then the new read)
  let lines = 0
  let bytes = 0
  try {
    for (;;) {
      if (have === buf.length) {
        // One record longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2)
        buf.copy(bigger, 0, 0, have)
        buf = bigger
      }
      const n = readSync(fd, buf, have, buf.length - have, null)
      if (n === 0) break
      bytes += n
      const limit = have + n
      let at = 0
      while (at < limit) {
        const end = recordEnd(buf, at, limit)
        if (end < 0) break
        line(buf, at, end)
        lines++
        at = end
      }
      have = limit - at
      if (have > 0) buf.copy(buf, 0, at, limit)
    }
  } finally {
    closeSync(fd)
  }
  return { lines, bytes }
}

const main = async (): Promise<Result> => {
  const [mode, dir] = process.argv.slice(2)
  if (!mode || !dir) throw new Error("usage: replay-child.ts <projection|raw|parse|effect> <dir>")
  const file = join(dir, "events.log")

  if (mode === "raw") {
    let sink = 0
    const t0 = performance.now()
    const { lines, bytes } = eachLine(file, (_buf, start, end) => {
      sink += end - start
    })
    const ms = performance.now() - t0
    if (sink < 0) throw new Error("unreachable")
    return { mode, ms, events: lines, bytes, ...peak() }
  }

  if (mode === "parse") {
    let points = 0
    const t0 = performance.now()
    const { lines, bytes } = eachLine(file, (buf, start, end) => {
      const e = JSON.parse(recordJson(buf, start, end).toString("utf8")) as { type: string; data: { values?: number[] } }
      if (e.type === "MetricsLogged") points += e.data.values!.length
    })
    const ms = performance.now() - t0
    return { mode, ms, events: lines, points, bytes, ...peak() }
  }

  if (mode === "projection") {
    const { FsEventLog } = await import("../packages/store-fs/src/index.ts")
    const { LogProjection } = await import("../packages/core/src/index.ts")
    const t0 = performance.now()
    const log = await FsEventLog.open({ dir })
    const openMs = performance.now() - t0
    const projection = new LogProjection()
    let events = 0
    let points = 0
    for await (const batch of log.readAll(0)) {
      for (const e of batch) {
        projection.apply(e)
        events++
        if (e.type === "MetricsLogged") points += e.data.keys.length
      }
    }
    const ms = performance.now() - t0
    await log.close()
    return { mode, ms, openMs, events, points, runs: projection.runs.size, ...peak() }
  }

  if (mode === "effect") {
    const { openTracker } = await import("../packages/cli/src/index.ts")
    const t0 = performance.now()
    const tracker = await openTracker({ dir })
    const openMs = performance.now() - t0
    const runs = await tracker.listRuns()
    const ms = performance.now() - t0
    await tracker.close()
    return { mode, ms, openMs, events: -1, runs: runs.length, ...peak() }
  }

  throw new Error(`unknown mode ${mode}`)
}

main().then(
  (r) => process.stdout.write(JSON.stringify(r) + "\n"),
  (e) => {
    process.stderr.write(`replay-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exit(1)
  }
)
