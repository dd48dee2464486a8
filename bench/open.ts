/**
 * Benchmark: opening a large store (issue 11, "open in milliseconds at any size").
 *
 * Build: a store of R runs (each: start, two params, P metric points in one logBatch, end)
 * through the API, under durability "os", 64 runs at a time; the writer's close leaves the index
 * snapshot beside the log, as any writer's does. The store is cached in .tmp/bench-cache/ under
 * its parameters (it takes minutes at 100k runs) and reused by later runs. A second directory
 * holds a hard link of the same log and no snapshot: the same store opened by a full scan.
 *
 * Measured, each in fresh child processes, median of --reps:
 *   - cold CLI `show RUN` (whole process), beside `node -e 0` in the same run: the figure is the
 *     time beyond Node's own start (target: under 300 ms); `--help` likewise; and `show` on a
 *     100-run store, for "a large store answers as fast as a small one, within 2x";
 *   - the same cold `--help` and `show RUN` through the published bin (the rolldown bundle that
 *     `pnpm build` writes to packages/cli/dist/bin.js, built here from the same config into
 *     packages/cli/.bundle-bench/), which is what users run, each beside `node -e 0`;
 *   - openTracker + getRun (in the child, module loading excluded), beside the same on the
 *     snapshot-less copy (target: under 100 ms);
 *   - peak RSS of that child, beside the snapshot-less one (target: under 200 MB);
 *   - per call, warm, on a 200-run store in this process: getRun(id) beside the store's own
 *     readStream of that run, and searchRuns (max 20, answered in memory) beside the same query's
 *     SQL through tracker.sql, DuckDB's bare query (target: under 1 ms each);
 *   - the in-memory search on a store at its limit (IN_MEMORY_MAX_EVENTS) beside the read model's.
 */
import { execFile } from "node:child_process"
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { buildBundle } from "../packages/cli/test/bundle-setup.ts"
import { FsEventLog } from "../packages/store-fs/src/index.ts"
import { LINGER_MS, openTracker } from "../packages/cli/src/index.ts"
import { lazyAnalytics } from "../packages/runtime/src/analytics.ts"
import { IN_MEMORY_MAX_EVENTS, searchInMemory } from "../packages/runtime/src/projection-search.ts"
import { pointBatch } from "./ingest.ts"
import type { OpenResult } from "./open-child.ts"
import type { Result as ReplayResult } from "./replay-child.ts"
import { type BenchOptions, median, nowMs, pairedRatio, type Row, si } from "./report.ts"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const CHILD = fileURLToPath(new URL("./open-child.ts", import.meta.url))
const REPLAY_CHILD = fileURLToPath(new URL("./replay-child.ts", import.meta.url))
const BIN = join(ROOT, "packages/cli/src/bin.ts")
const CLI_DIR = join(ROOT, "packages/cli")
/** Inside the package, so the bundle's one external (DuckDB) resolves as it does from dist/. */
const BUNDLE_DIR = join(CLI_DIR, ".bundle-bench")
/** Bump when the stored shape changes, so a stale cache is not reused. */
const CACHE_FORMAT = 1
const PARALLEL = 64

interface Built {
  readonly dir: string
  readonly runId: string
  readonly runs: number
  readonly logBytes: number
  readonly snapshotBytes: number
}

const buildStore = async (dir: string, runs: number, points: number, log: (line: string) => void): Promise<string> => {
  const tracker = await openTracker({ dir, durability: "os" })
  const t0 = nowMs()
  let last = ""
  try {
    for (let i = 0; i < runs; i += PARALLEL) {
      const ids = await Promise.all(
        Array.from({ length: Math.min(PARALLEL, runs - i) }, async (_, j) => {
          const n = i + j
          const run = await tracker.startRun({ experiment: `exp-${n % 10}`, name: `run-${n}`, tags: { group: String(n % 7) } })
          run.logParams({ lr: 0.001 * (1 + (n % 5)), layers: 1 + (n % 4) })
          run.logBatch({ metrics: pointBatch(0, points) })
          await run.end()
          return run.id
        })
      )
      last = ids[ids.length - 1]
      if ((i / PARALLEL) % 200 === 0 && i > 0) log(`  ${si(i)} runs (${((nowMs() - t0) / 1000).toFixed(0)} s)`)
    }
  } finally {
    await tracker.close()
  }
  return last
}

/** The store for these parameters: from the cache, or built now and cached. */
export const cachedStore = async (runs: number, points: number, log: (line: string) => void): Promise<Built> => {
  const dir = resolve(ROOT, ".tmp/bench-cache", `open-v${CACHE_FORMAT}-${runs}runs-${points}points`)
  const marker = join(dir, "built.json")
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    log(`open: building a store of ${si(runs)} runs x ${si(points)} points through the API (cached in ${dir})`)
    const t0 = nowMs()
    const runId = await buildStore(join(dir, "store"), runs, points, log)
    log(`  built in ${((nowMs() - t0) / 1000).toFixed(1)} s`)
    writeFileSync(marker, JSON.stringify({ runId }))
  } else log(`open: reusing the store in ${dir}`)
  const { runId } = JSON.parse(readFileSync(marker, "utf8")) as { runId: string }
  const store = join(dir, "store")
  // A cached store's snapshot may be of an older layout (ignored on open): written anew, as a writer's repair does.
  const index = await FsEventLog.open({ dir: store })
  try {
    if (index.snapshot.ignored !== null) {
      log(`  ${index.snapshot.ignored}: writing it again`)
      await index.writeSnapshot()
    }
  } finally {
    await index.close()
  }
  const snapshot = join(store, "snapshots", "index.bin")
  return { dir: store, runId, runs, logBytes: statSync(join(store, "events.log")).size, snapshotBytes: existsSync(snapshot) ? statSync(snapshot).size : 0 }
}

/** The same log without a snapshot (a hard link: no copy, and nothing here writes to it). */
const scanOnly = (built: Built): string => {
  const dir = `${built.dir}-scan`
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir)
  linkSync(join(built.dir, "events.log"), join(dir, "events.log"))
  return dir
}

const wall = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Promise<number> =>
  new Promise((resolve, reject) => {
    const t0 = nowMs()
    execFile(process.execPath, args, { env, maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${args.join(" ")} failed: ${stderr || error.message}`))
      else resolve(nowMs() - t0)
    })
  })

/** The published bin, bundled from the current source with the package's own rolldown config. */
const bundleBin = (): Promise<string> => {
  rmSync(BUNDLE_DIR, { recursive: true, force: true })
  mkdirSync(BUNDLE_DIR)
  return buildBundle(BUNDLE_DIR)
}

const child = (dir: string, runId: string): Promise<OpenResult> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD, dir, runId], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`open child failed: ${stderr || error.message}`))
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!) as OpenResult)
    })
  })

/** One measurement of replay-child.ts (a fold of the whole log, or the raw read under it) in a fresh process. */
const replayChild = (mode: "projection" | "raw", dir: string): Promise<ReplayResult> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, [REPLAY_CHILD, mode, dir], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`replay child ${mode} failed: ${stderr || error.message}`))
      else resolve(JSON.parse(stdout.trim().split("\n").pop()!) as ReplayResult)
    })
  })

const MB = (kib: number) => kib / 1024

/** Mean milliseconds per call of `f` over `n` calls, after a warm-up. */
const perCall = async (n: number, f: (i: number) => Promise<unknown>): Promise<number> => {
  for (let i = 0; i < Math.min(n, 50); i++) await f(i)
  const t0 = nowMs()
  for (let i = 0; i < n; i++) await f(i)
  return (nowMs() - t0) / n
}

/** The small-store fast path: per-call costs once warm, each beside the raw read under it. */
const smallStore = async (opts: BenchOptions): Promise<Row[]> => {
  const store = await cachedStore(200, 10, opts.log)
  // A long-lived process that owns the store (as the server does) keeps its read model open between calls.
  const tracker = await openTracker({ dir: store.dir, readModelLingerMs: LINGER_MS })
  const log = await FsEventLog.open({ dir: store.dir })
  try {
    const ids = (await tracker.searchRuns({ maxResults: 200 })).runs.map((r) => r.id)
    const n = opts.quick ? 200 : 2000
    const get: number[] = []
    const raw: number[] = []
    const search: number[] = []
    const sql: number[] = []
    for (let r = 0; r < opts.reps; r++) {
      get.push(await perCall(n, (i) => tracker.getRun(ids[i % ids.length])))
      raw.push(await perCall(n, (i) => log.readStream(`run-${ids[i % ids.length]}`)))
      search.push(await perCall(n / 10, () => tracker.searchRuns({ maxResults: 20 })))
      sql.push(await perCall(n / 10, () => tracker.sql("SELECT run_id FROM runs ORDER BY start_time DESC, run_id LIMIT 20")))
      opts.log(`  200-run store, per call: getRun ${get[r].toFixed(3)} ms (readStream ${raw[r].toFixed(3)} ms); searchRuns ${search[r].toFixed(3)} ms (sql ${sql[r].toFixed(3)} ms)`)
    }
    return [
      { name: "getRun per call, warm (200-run store)", figure: median(get), unit: "ms", ceiling: median(raw), ceilingName: "the log's readStream of the run", ratio: pairedRatio(get, raw), target: "< 1 ms", verdict: median(get) < 1 ? "PASS" : "MISS", samples: get, ceilingSamples: raw },
      { name: "searchRuns (max 20) per call, warm (200-run store)", figure: median(search), unit: "ms", ceiling: median(sql), ceilingName: "tracker.sql of the same 20 ids", ratio: pairedRatio(search, sql), target: "< 1 ms", verdict: median(search) < 1 ? "PASS" : "MISS", samples: search, ceilingSamples: sql }
    ]
  } finally {
    await log.close()
    await tracker.close()
  }
}

/**
 * Where searchRuns stops answering in memory (IN_MEMORY_MAX_EVENTS): on a store of about that
 * many events, the in-memory search beside the read model's own searchRunIds of the same query
 * (DuckDB kept open between calls, as a server keeps it), per call once warm. The limit is right
 * while the ratio is about 1 or below: past it, DuckDB's query is the cheaper one.
 */
const atInMemoryLimit = async (opts: BenchOptions): Promise<Row> => {
  // Each run of the store is four events (start, params, one batch, end).
  const runs = opts.quick ? 1_000 : Math.floor(IN_MEMORY_MAX_EVENTS / 4) - 10
  const store = await cachedStore(runs, 10, opts.log)
  const tracker = await openTracker({ dir: store.dir })
  const log = await FsEventLog.open({ dir: store.dir })
  const analytics = lazyAnalytics(store.dir, { log, lingerMs: 60_000 })
  const query = { maxResults: 20, filter: "metrics.loss > 0.5 and params.layers = '2'", orderBy: ["metrics.loss DESC"] }
  try {
    const n = opts.quick ? 20 : 100
    const memory: number[] = []
    const duck: number[] = []
    for (let r = 0; r < opts.reps; r++) {
      memory.push(await perCall(n, () => searchInMemory(tracker.effect, query, undefined)))
      duck.push(await perCall(n, () => analytics.use((a) => a.searchRunIds(query))))
      opts.log(`  ${si(runs)}-run store, per call: in-memory search ${memory[r].toFixed(3)} ms (the read model's ${duck[r].toFixed(3)} ms)`)
    }
    const ratio = pairedRatio(memory, duck)
    return { name: `searchRuns in memory at its limit (${si(runs)} runs, ${si(runs * 4)} events)`, figure: median(memory), unit: "ms", ceiling: median(duck), ceilingName: "the read model's searchRunIds of the same query", ratio, target: "<= 1x (else lower IN_MEMORY_MAX_EVENTS)", verdict: ratio <= 1 ? "PASS" : "MISS", samples: memory, ceilingSamples: duck }
  } finally {
    await analytics.close()
    await log.close()
    await tracker.close()
  }
}

export const benchOpen = async (opts: BenchOptions): Promise<Row[]> => {
  const runs = opts.quick ? 2_000 : 100_000
  const points = opts.quick ? 10 : 100
  const big = await cachedStore(runs, points, opts.log)
  const small = await cachedStore(100, points, opts.log)
  const scanDir = scanOnly(big)
  opts.log(`  log ${(big.logBytes / 2 ** 20).toFixed(0)} MiB (${si(big.logBytes / big.runs)} B per run); index snapshot ${(big.snapshotBytes / 2 ** 20).toFixed(1)} MiB`)
  try {
    const BUILT = await bundleBin()
    const cli = (dir: string, ...args: string[]) => [BIN, ...args, "--dir", dir]
    const built = (dir: string, ...args: string[]) => [BUILT, ...args, "--dir", dir]
    // One untimed pass of each, so the page cache holds what they read.
    await wall(["-e", "0"])
    await wall(cli(big.dir, "show", big.runId))
    await wall(cli(small.dir, "show", small.runId))
    await wall(built(big.dir, "show", big.runId))
    // `runs --max 20` searches: on the large store, through the read model, caught up here once
    // (untimed), which leaves its run listing: the timed calls read that, without DuckDB.
    await wall(cli(big.dir, "runs", "--max", "20"))
    await wall(cli(small.dir, "runs", "--max", "20"))
    await child(big.dir, big.runId)
    await replayChild("raw", big.dir)
    const e0: number[] = []
    const show: number[] = []
    const showSmall: number[] = []
    const help: number[] = []
    const builtShow: number[] = []
    const builtHelp: number[] = []
    const snap: OpenResult[] = []
    const scan: OpenResult[] = []
    const runsBig: number[] = []
    const runsSmall: number[] = []
    const builtRunsBig: number[] = []
    const builtRunsSmall: number[] = []
    const fold: ReplayResult[] = []
    const raw: ReplayResult[] = []
    // Item 7's small-store commands with the built bin, in total (Node's start included).
    const SMALL_COMMANDS: ReadonlyArray<ReadonlyArray<string>> = [["experiments"], ["verify"], ["runs", "--max", "20"], ["show", small.runId]]
    const smallTotals: number[][] = SMALL_COMMANDS.map(() => [])
    for (const args of SMALL_COMMANDS) await wall(built(small.dir, ...args))
    for (let r = 0; r < opts.reps; r++) {
      e0.push(await wall(["-e", "0"]))
      show.push(await wall(cli(big.dir, "show", big.runId)))
      showSmall.push(await wall(cli(small.dir, "show", small.runId)))
      help.push(await wall([BIN, "--help"]))
      builtShow.push(await wall(built(big.dir, "show", big.runId)))
      builtHelp.push(await wall([BUILT, "--help"]))
      snap.push(await child(big.dir, big.runId))
      scan.push(await child(scanDir, big.runId))
      runsBig.push(await wall(cli(big.dir, "runs", "--max", "20")))
      runsSmall.push(await wall(cli(small.dir, "runs", "--max", "20")))
      builtRunsBig.push(await wall(built(big.dir, "runs", "--max", "20")))
      builtRunsSmall.push(await wall(built(small.dir, "runs", "--max", "20")))
      for (const [i, args] of SMALL_COMMANDS.entries()) smallTotals[i].push(await wall(built(small.dir, ...args)))
      fold.push(await replayChild("projection", big.dir))
      raw.push(await replayChild("raw", big.dir))
      if (fold[r].runs !== big.runs) throw new Error(`the fold found ${fold[r].runs} runs, expected ${big.runs}`)
      opts.log(
        `  rep ${r + 1}: runs --max 20 ${runsBig[r].toFixed(0)} ms (${si(small.runs)}-run store ${runsSmall[r].toFixed(0)} ms); built bin ${builtRunsBig[r].toFixed(0)} ms (${builtRunsSmall[r].toFixed(0)} ms); ` +
          `fold of the log ${fold[r].ms.toFixed(0)} ms (raw read ${raw[r].ms.toFixed(0)} ms)`
      )
      opts.log(
        `  rep ${r + 1}: node -e 0 ${e0[r].toFixed(0)} ms; show ${show[r].toFixed(0)} ms (${si(small.runs)}-run store ${showSmall[r].toFixed(0)} ms); --help ${help[r].toFixed(0)} ms; ` +
          `built bin: show ${builtShow[r].toFixed(0)} ms, --help ${builtHelp[r].toFixed(0)} ms; ` +
          `open+getRun ${snap[r].ms.toFixed(0)} ms (no snapshot ${scan[r].ms.toFixed(0)} ms), peak RSS ${MB(snap[r].peakRssKiB).toFixed(0)} MB (no snapshot ${MB(scan[r].peakRssKiB).toFixed(0)} MB)`
      )
    }
    const beyond = show.map((s, i) => s - e0[i])
    const beyondSmall = showSmall.map((s, i) => s - e0[i])
    const helpBeyond = help.map((s, i) => s - e0[i])
    const builtBeyond = builtShow.map((s, i) => s - e0[i])
    const builtHelpBeyond = builtHelp.map((s, i) => s - e0[i])
    const getMs = snap.map((s) => s.ms)
    const scanMs = scan.map((s) => s.ms)
    const rss = snap.map((s) => MB(s.peakRssKiB))
    const scanRss = scan.map((s) => MB(s.peakRssKiB))
    const size = `${si(runs)} runs x ${si(points)} points`
    const runsBeyond = runsBig.map((s, i) => s - e0[i])
    const runsSmallBeyond = runsSmall.map((s, i) => s - e0[i])
    const builtRunsBeyond = builtRunsBig.map((s, i) => s - e0[i])
    const builtRunsSmallBeyond = builtRunsSmall.map((s, i) => s - e0[i])
    const foldMs = fold.map((f) => f.ms)
    const rawMs = raw.map((f) => f.ms)
    // Before the fold's rework (one zlib stream per record, the Schema's walk over every metric
    // batch, an effect per event) the fold of 100k runs took 45-57 s; the aim is at least 5x under
    // that, per run as many (the quick run's smaller store gets its share).
    const FOLD_TARGET_MS = (9_000 * runs) / 100_000
    /** `runs --max 20` on the large store against the small one, both beyond Node's start (the issue's "done when"). */
    const runsRow = (prefix: string, big: number[], smallStore: number[]): Row => ({
      name: `${prefix}runs --max 20, ${size} vs ${si(small.runs)} runs (both beyond node start)`,
      figure: median(big),
      unit: "ms",
      ceiling: median(smallStore),
      ceilingName: `runs --max 20 on a ${small.runs}-run store`,
      ratio: pairedRatio(big, smallStore),
      target: "<= 2x",
      verdict: pairedRatio(big, smallStore) <= 2 ? "PASS" : "MISS",
      samples: big,
      ceilingSamples: smallStore
    })
    return [
      runsRow("", runsBeyond, runsSmallBeyond),
      runsRow("built bin: ", builtRunsBeyond, builtRunsSmallBeyond),
      {
        name: `fold of the whole log into the projection (${size})`,
        figure: median(foldMs),
        unit: "ms",
        ceiling: median(rawMs),
        ceilingName: "a raw read of the same log (records split, nothing decoded)",
        ratio: pairedRatio(foldMs, rawMs),
        target: `< ${(FOLD_TARGET_MS / 1000).toFixed(1)} s (5x under 45 s per 100k runs before)`,
        verdict: median(foldMs) < FOLD_TARGET_MS ? "PASS" : "MISS",
        samples: foldMs,
        ceilingSamples: rawMs,
        note: `${fold[0]?.events ?? 0} events; open (index) ${median(fold.map((f) => f.openMs ?? 0)).toFixed(0)} ms of it`
      },
      {
        name: `cold CLI show RUN beyond node start (${size})`,
        figure: median(beyond),
        unit: "ms",
        ceiling: median(e0),
        ceilingName: "node -e 0",
        ratio: pairedRatio(beyond, e0),
        target: "< 300 ms beyond node start",
        verdict: median(beyond) < 300 ? "PASS" : "MISS",
        samples: beyond,
        ceilingSamples: e0
      },
      {
        name: `show RUN, ${size} vs ${si(small.runs)} runs (both beyond node start)`,
        figure: median(beyond),
        unit: "ms",
        ceiling: median(beyondSmall),
        ceilingName: `show on a ${small.runs}-run store`,
        ratio: pairedRatio(beyond, beyondSmall),
        target: "<= 2x",
        verdict: pairedRatio(beyond, beyondSmall) <= 2 ? "PASS" : "MISS",
        samples: beyond,
        ceilingSamples: beyondSmall
      },
      {
        name: "cold CLI --help beyond node start",
        figure: median(helpBeyond),
        unit: "ms",
        ceiling: median(e0),
        ceilingName: "node -e 0",
        ratio: pairedRatio(helpBeyond, e0),
        target: "< 250 ms in total",
        verdict: median(help) < 250 ? "PASS" : "MISS",
        samples: helpBeyond,
        ceilingSamples: e0
      },
      {
        name: `built bin: cold show RUN beyond node start (${size})`,
        figure: median(builtBeyond),
        unit: "ms",
        ceiling: median(e0),
        ceilingName: "node -e 0",
        ratio: pairedRatio(builtBeyond, e0),
        target: "< 300 ms beyond node start",
        verdict: median(builtBeyond) < 300 ? "PASS" : "MISS",
        samples: builtBeyond,
        ceilingSamples: e0
      },
      {
        name: "built bin: cold --help beyond node start",
        figure: median(builtHelpBeyond),
        unit: "ms",
        ceiling: median(e0),
        ceilingName: "node -e 0",
        ratio: pairedRatio(builtHelpBeyond, e0),
        target: "< 250 ms in total",
        verdict: median(builtHelp) < 250 ? "PASS" : "MISS",
        samples: builtHelpBeyond,
        ceilingSamples: e0
      },
      {
        // The slowest of the small-store commands: each must stay under the target.
        name: `built bin: small-store commands in total (${si(small.runs)} runs: ${SMALL_COMMANDS.map((a) => a[0]).join(", ")})`,
        figure: Math.max(...smallTotals.map(median)),
        unit: "ms",
        ceiling: median(e0),
        ceilingName: "node -e 0",
        ratio: Math.max(...smallTotals.map((t) => pairedRatio(t, e0))),
        target: "< 250 ms in total",
        verdict: Math.max(...smallTotals.map(median)) < 250 ? "PASS" : "MISS",
        samples: smallTotals[smallTotals.map(median).indexOf(Math.max(...smallTotals.map(median)))],
        ceilingSamples: e0,
        note: `the slowest of them; each, in total: ${SMALL_COMMANDS.map((a, i) => `${a[0]} ${median(smallTotals[i]).toFixed(0)} ms`).join(", ")} (node -e 0: ${median(e0).toFixed(0)} ms)`
      },
      {
        name: `openTracker + getRun (${size})`,
        figure: median(getMs),
        unit: "ms",
        ceiling: median(scanMs),
        ceilingName: "the same without the index snapshot (full scan)",
        ratio: pairedRatio(getMs, scanMs),
        target: "< 100 ms",
        verdict: median(getMs) < 100 ? "PASS" : "MISS",
        samples: getMs,
        ceilingSamples: scanMs,
        note: `log ${(big.logBytes / 2 ** 20).toFixed(0)} MiB, snapshot ${(big.snapshotBytes / 2 ** 20).toFixed(1)} MiB`
      },
      {
        name: `peak RSS of openTracker + getRun (${size})`,
        figure: median(rss),
        unit: "MB",
        ceiling: median(scanRss),
        ceilingName: "the same without the index snapshot (full scan)",
        ratio: pairedRatio(rss, scanRss),
        target: "< 200 MB",
        verdict: median(rss) < 200 ? "PASS" : "MISS",
        samples: rss,
        ceilingSamples: scanRss
      },
      ...(await smallStore(opts)),
      await atInMemoryLimit(opts)
    ]
  } finally {
    rmSync(scanDir, { recursive: true, force: true })
    rmSync(BUNDLE_DIR, { recursive: true, force: true })
  }
}
