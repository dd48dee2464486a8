/**
 * Benchmark 2: un-awaited single `run.logMetric(key, value, { step })` calls per second.
 *
 * Ours: N calls in a tight loop (4 keys, step = i / 4), then `await run.flush()`; the time includes
 * the flush (encoding, one write and one fdatasync of the single MetricsLogged event the loop
 * produces). Target: >= 200k calls/s.
 *
 * Ceiling (context): the same loop pushing the same 4 columns into plain arrays: key, value, step
 * and a `Date.now()` timestamp, which is what our call stores per point.
 */
import { openTracker } from "../packages/cli/src/index.ts"
import { KEYS } from "./ingest.ts"
import { type BenchOptions, median, nowMs, pairedRatio, type Row, settle, si, withTempDir } from "./report.ts"

const ours = (values: Float64Array) =>
  withTempDir("unawaited", async (dir) => {
    const n = values.length
    const tracker = await openTracker({ dir })
    const run = await tracker.startRun({ experiment: "bench", name: "unawaited" })
    const t0 = nowMs()
    for (let i = 0; i < n; i++) void run.logMetric(KEYS[i & 3], values[i], { step: i >> 2 })
    const loopMs = nowMs() - t0
    await run.flush()
    const ms = nowMs() - t0
    await run.end()
    await tracker.close()
    return { ms, loopMs }
  })

const ceiling = (values: Float64Array) => {
  const n = values.length
  const keys: string[] = []
  const vals: number[] = []
  const steps: number[] = []
  const timestamps: number[] = []
  const t0 = nowMs()
  for (let i = 0; i < n; i++) {
    keys.push(KEYS[i & 3])
    vals.push(values[i])
    steps.push(i >> 2)
    timestamps.push(Date.now())
  }
  const ms = nowMs() - t0
  // Use the columns so the loop cannot be dropped.
  if (keys.length + vals.length + steps.length + timestamps.length !== 4 * n) throw new Error("unreachable")
  return { ms }
}

export const benchUnawaited = async (opts: BenchOptions): Promise<Row[]> => {
  const n = opts.quick ? 200_000 : 2_000_000
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = Math.random()
  opts.log(`unawaited: ${si(n)} logMetric calls`)

  await ours(values.subarray(0, 20_000))
  ceiling(values.subarray(0, 20_000))

  const oursRates: number[] = []
  const loopRates: number[] = []
  const ceilRates: number[] = []
  for (let r = 0; r < opts.reps; r++) {
    await settle()
    const o = await ours(values)
    oursRates.push(n / (o.ms / 1000))
    loopRates.push(n / (o.loopMs / 1000))
    opts.log(`  ours    rep ${r + 1}: ${si(n / (o.ms / 1000))} calls/s (${o.ms.toFixed(0)} ms, loop alone ${o.loopMs.toFixed(0)} ms)`)
    await settle()
    const c = ceiling(values)
    ceilRates.push(n / (c.ms / 1000))
    opts.log(`  ceiling rep ${r + 1}: ${si(n / (c.ms / 1000))} calls/s (${c.ms.toFixed(0)} ms)`)
  }
  const fig = median(oursRates)
  const ceil = median(ceilRates)
  return [
    {
      name: `un-awaited logMetric (${si(n)} calls + flush)`,
      figure: fig,
      unit: "calls/s",
      ceiling: ceil,
      ceilingName: "array push x4",
      ratio: pairedRatio(oursRates, ceilRates),
      target: ">= 200k calls/s",
      verdict: fig >= 200_000 ? "PASS" : "MISS",
      samples: oursRates,
      ceilingSamples: ceilRates,
      note: `the calling loop alone (before the flush) runs at ${si(median(loopRates))} calls/s; the loop yields no flush, so all calls land in one MetricsLogged event.`
    }
  ]
}
