/**
 * Benchmark 3: replay, points/s and peak memory, each in a FRESH child process.
 *
 * Build: a store of N points (4 keys, one run) through awaited `logBatch` calls of BUILD_BATCH
 * points (so one MetricsLogged event per call) under durability "os"; then close it.
 *
 * Ours: FsEventLog.open({ dir }) + readAll(0) folded into `new LogProjection()`; the time covers
 * open (which indexes and checksums every record) and the fold. Targets: >= 1M points/s and
 * < 300 MB peak RSS.
 *
 * Ceiling: sequential fs reads of the same events.log + line split, no decode (points/s
 * equivalent: the same N points over that time). Context: the same plus JSON.parse per record,
 * and the Effect path (openTracker + listRuns).
 */
import { execFile } from "node:child_process"
import { statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { LOG_FILE } from "../packages/store-fs/src/index.ts"
import { openTracker } from "../packages/cli/src/index.ts"
import { pointBatch } from "./ingest.ts"
import type { Result as ChildResult } from "./replay-child.ts"
import { type BenchOptions, median, nowMs, pairedRatio, type Row, si, withTempDir } from "./report.ts"

const CHILD = fileURLToPath(new URL("./replay-child.ts", import.meta.url))


const child = (mode: string, dir: string): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD, mode, dir], { cwd: dir, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`replay child ${mode} failed: ${stderr || error.message}`))
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!) as ChildResult)
    })
  })

const build = async (dir: string, points: number, batchSize: number): Promise<{ ms: number; events: number }> => {
  const tracker = await openTracker({ dir, durability: "os" })
  const run = await tracker.startRun({ experiment: "bench", name: "replay" })
  const t0 = nowMs()
  let events = 0
  for (let start = 0; start < points; start += batchSize) {
    const n = Math.min(batchSize, points - start)
    const metrics = pointBatch(start, n)
    await run.logBatch({ metrics })
    events++
  }
  await run.end()
  const ms = nowMs() - t0
  await tracker.close()
  return { ms, events }
}

const MB = (kib: number) => kib / 1024

export const benchReplay = async (opts: BenchOptions): Promise<Row[]> => {
  const points = opts.quick ? 1_000_000 : 10_000_000
  const batchSize = 100_000
  return withTempDir("replay", async (dir) => {
    opts.log(`replay: building a store of ${si(points)} points (${si(batchSize)} per logBatch, durability "os")`)
    const b = await build(dir, points, batchSize)
    const bytes = statSync(join(dir, LOG_FILE)).size
    opts.log(`  built in ${(b.ms / 1000).toFixed(1)} s (${si(points / (b.ms / 1000))} points/s), ${(bytes / 2 ** 20).toFixed(0)} MiB, ${b.events} metric events`)

    // The first read of a just-written file may still find dirty pages; one untimed pass evens that out.
    await child("raw", dir)

    const ours: ChildResult[] = []
    const raw: ChildResult[] = []
    for (let r = 0; r < opts.reps; r++) {
      const o = await child("projection", dir)
      if (o.points !== points) throw new Error(`replay folded ${o.points} points, expected ${points}`)
      ours.push(o)
      opts.log(`  projection rep ${r + 1}: ${si(points / (o.ms / 1000))} points/s (${o.ms.toFixed(0)} ms, open ${o.openMs!.toFixed(0)} ms), peak RSS ${MB(o.peakRssKiB).toFixed(0)} MB`)
      const c = await child("raw", dir)
      raw.push(c)
      opts.log(`  raw        rep ${r + 1}: ${si(points / (c.ms / 1000))} points/s (${c.ms.toFixed(0)} ms), peak RSS ${MB(c.peakRssKiB).toFixed(0)} MB`)
    }
    const parse = await child("parse", dir)
    opts.log(`  read+JSON.parse: ${si(points / (parse.ms / 1000))} points/s (${parse.ms.toFixed(0)} ms)`)
    const effect = await child("effect", dir)
    opts.log(`  effect: openTracker ${effect.openMs!.toFixed(0)} ms + listRuns ${(effect.ms - effect.openMs!).toFixed(0)} ms, peak RSS ${MB(effect.peakRssKiB).toFixed(0)} MB`)

    const oursRate = ours.map((o) => points / (o.ms / 1000))
    const rawRate = raw.map((c) => points / (c.ms / 1000))
    const fig = median(oursRate)
    const ceil = median(rawRate)
    const rss = median(ours.map((o) => MB(o.peakRssKiB)))
    const rawRss = median(raw.map((c) => MB(c.peakRssKiB)))
    const effectRate = points / (effect.ms / 1000)
    const effectRss = MB(effect.peakRssKiB)
    const openMs = median(ours.map((o) => o.openMs!))
    const foldMs = median(ours.map((o) => o.ms - o.openMs!))
    return [
      {
        name: `replay FsEventLog+LogProjection (${si(points)} pts, ${(bytes / 2 ** 20).toFixed(0)} MiB)`,
        figure: fig,
        unit: "points/s",
        ceiling: ceil,
        ceilingName: "read + record split",
        ratio: pairedRatio(oursRate, rawRate),
        target: ">= 1M points/s",
        verdict: fig >= 1_000_000 ? "PASS" : "MISS",
        samples: oursRate,
        ceilingSamples: rawRate,
        note:
          `${b.events} events of ${si(batchSize)} points (${(bytes / b.events / 2 ** 20).toFixed(1)} MiB each); ` +
          `median open (indexes and checksums every record) ${openMs.toFixed(0)} ms, readAll+fold ${foldMs.toFixed(0)} ms; ` +
          `context: read + split + JSON.parse only ${si(points / (parse.ms / 1000))} points/s.`
      },
      {
        name: "replay peak RSS (child process)",
        figure: rss,
        unit: "MB",
        ceiling: rawRss,
        ceilingName: "read + record split child",
        ratio: pairedRatio(ours.map((o) => o.peakRssKiB), raw.map((c) => c.peakRssKiB)),
        target: "< 300 MB",
        verdict: rss < 300 ? "PASS" : "MISS",
        samples: ours.map((o) => MB(o.peakRssKiB)),
        ceilingSamples: raw.map((c) => MB(c.peakRssKiB)),
        note:
          `the child's own peak (VmHWM); resourceUsage().maxRSS said ${median(ours.map((o) => MB(o.maxRssKiB))).toFixed(0)} MB (ceiling child ${median(raw.map((c) => MB(c.maxRssKiB))).toFixed(0)} MB), ` +
          `which on Linux also counts this parent's peak at spawn.`
      },
      {
        name: "replay Effect path (openTracker + listRuns)",
        figure: effectRate,
        unit: "points/s",
        ceiling: ceil,
        ceilingName: "read + record split",
        ratio: effectRate / ceil,
        target: "none (context)",
        verdict: "info",
        samples: [effectRate],
        note: `one run; openTracker ${effect.openMs!.toFixed(0)} ms + listRuns ${(effect.ms - effect.openMs!).toFixed(0)} ms; peak RSS ${effectRss.toFixed(0)} MB.`
      }
    ]
  })
}
