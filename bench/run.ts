/**
 * runledger benchmarks: `pnpm bench [--quick] [--json] [--only ingest,run-bytes,unawaited,replay,catchup,analytics,open,server] [--reps N]`
 *
 *   --quick   smaller sizes and one repetition: a smoke run in seconds
 *   --json    print the results as JSON on stdout (progress still goes to stderr)
 *   --only    run some of the benchmarks
 *   --reps N  repetitions per measurement (the median is reported; default 3, quick 1)
 *
 * Each benchmark runs on a fresh temp dir that is removed afterwards. Every figure is printed
 * beside a ceiling measured in the same run, as a ratio; verdicts never change the exit status.
 */
import { loadavg } from "node:os"
import { parseArgs } from "node:util"
import { benchAnalytics } from "./analytics.ts"
import { benchCatchup } from "./catchup.ts"
import { benchCatchupRuns } from "./catchup-runs.ts"
import { benchIngest } from "./ingest.ts"
import { benchOpen } from "./open.ts"
import { benchReplay } from "./replay.ts"
import { benchHistoriesHttp, benchSearchHttp, benchServer } from "./server.ts"
import { type BenchOptions, formatTable, machine, type Row } from "./report.ts"
import { benchRunBytes } from "./run-bytes.ts"
import { benchUnawaited } from "./unawaited.ts"

const BENCHES: Record<string, (opts: BenchOptions) => Promise<Row[]>> = {
  ingest: benchIngest,
  "run-bytes": benchRunBytes,
  unawaited: benchUnawaited,
  replay: benchReplay,
  catchup: async (opts) => {
    const r = await benchCatchup({ points: opts.quick ? 1_000_000 : 10_000_000, quick: opts.quick })
    const runs = await benchCatchupRuns({ runs: opts.quick ? 10_000 : 100_000 })
    return [{ name: r.name, figure: r.figure, unit: r.unit, ceiling: r.ceiling, ceilingName: r.ceilingName, ratio: r.ratio, target: r.target, verdict: r.ratio >= 0.5 ? "PASS" : "MISS", note: r.notes }, r.size, runs]
  },
  analytics: benchAnalytics,
  open: benchOpen,
  server: async (opts) => [...(await benchServer(opts)), ...(await benchSearchHttp(opts)), ...(await benchHistoriesHttp(opts))]
}

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    only: { type: "string" },
    reps: { type: "string" }
  },
  strict: true
})

const quick = values.quick ?? false
const reps = values.reps !== undefined ? Number(values.reps) : quick ? 1 : 3
if (!(Number.isInteger(reps) && reps >= 1)) {
  process.stderr.write(`bench: --reps must be a whole number >= 1\n`)
  process.exit(2)
}
const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean) ?? Object.keys(BENCHES)
for (const name of only) {
  if (!(name in BENCHES)) {
    process.stderr.write(`bench: unknown benchmark ${JSON.stringify(name)}; choose from ${Object.keys(BENCHES).join(", ")}\n`)
    process.exit(2)
  }
}

const opts: BenchOptions = {
  quick,
  json: values.json ?? false,
  reps,
  log: (line) => process.stderr.write(line + "\n")
}

const m = machine()
opts.log(`runledger bench${quick ? " (quick)" : ""}: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, node ${m.node}, temp ${m.tmpdir}, median of ${reps}`)
const loadBefore = loadavg()[0]
const started = performance.now()
const rows: Row[] = []
for (const name of only) rows.push(...(await BENCHES[name](opts)))
const seconds = (performance.now() - started) / 1000
const load = { before: loadBefore, after: loadavg()[0] }

if (opts.json) {
  process.stdout.write(JSON.stringify({ machine: m, load1m: load, quick, reps, seconds, rows }, null, 2) + "\n")
} else {
  process.stdout.write(
    [
      "",
      `machine: ${m.cpu} x ${m.cores} cores, ${m.memGiB} GiB RAM, ${m.platform}, node ${m.node}; temp dirs in ${m.tmpdir}`,
      `load average (1 min): ${load.before.toFixed(1)} before, ${load.after.toFixed(1)} after (on ${m.cores} cores: above that, other work shares the CPUs)`,
      `mode: ${quick ? "quick" : "full"}, median of ${reps}, total ${seconds.toFixed(1)} s; ratio = figure / ceiling, the median of per-repetition pairs measured back to back`,
      "",
      formatTable(rows),
      ""
    ].join("\n") + "\n"
  )
}
