/**
 * Benchmark 1: durable batched ingest, points/s.
 *
 * Ours: openTracker({ dir }) (durability "fsync"), one run, N points through
 * `run.logBatch({ metrics })` in batches of BATCH points, each batch awaited (one append and one
 * fdatasync per batch), then `run.flush()`.
 *
 * Ceiling: the naive per-line JSONL writer: `JSON.stringify({ key, value, step, timestamp })` per
 * point, joined with LF, one `fs.writeSync` per batch of the same size, and ONE fdatasync at the
 * end (as the issue states it). A variant with one fdatasync per batch (the same durability as
 * ours) is measured once and reported in the note.
 *
 * Both sides get the same pre-built arrays of point objects, so building the input is not timed.
 *
 * Also: `run.logMetrics(record, { step })` un-awaited across every step, then `run.flush()`,
 * against the same JSONL ceiling.
 *
 * And the shape an MLflow client sends (issue 11, item 5): awaited `logBatch` calls of MLFLOW_BATCH
 * point objects `{ key, value, step, timestamp }` each, four keys a step, against the JSONL ceiling
 * run on the same batches in the same run. Target: >= 2x. Beside it, for context: the same calls
 * with the ceiling's own durability (durability "os", one fdatasync of the log at the end), which
 * shows what the row's per-call fdatasync costs.
 */
import { closeSync, fdatasyncSync, openSync, statSync, writeSync } from "node:fs"
import { join } from "node:path"
import { LOG_FILE } from "../packages/store-fs/src/index.ts"
import { openTracker } from "../packages/cli/src/index.ts"
import type { BatchMetric } from "../packages/tracker/src/index.ts"
import { type BenchOptions, median, nowMs, pairedRatio, type Row, settle, si, withTempDir } from "./report.ts"

export const KEYS = ["loss", "accuracy", "learning_rate", "grad_norm"] as const
const T0 = 1_700_000_000_000

/** Points start..start+n-1; point i: key i % 4 at step i / 4, a full-precision double, a timestamp per step. */
export const pointBatch = (start: number, n: number): BatchMetric[] => {
  const batch = new Array<BatchMetric>(n)
  for (let j = 0; j < n; j++) {
    const i = start + j
    const step = i >> 2
    batch[j] = { key: KEYS[i & 3], value: Math.random(), step, timestamp: T0 + step * 10 }
  }
  return batch
}

export const makeBatches = (points: number, batchSize: number): BatchMetric[][] => {
  const batches: BatchMetric[][] = []
  for (let start = 0; start < points; start += batchSize) {
    const n = Math.min(batchSize, points - start)
    const batch = pointBatch(start, n)
    batches.push(batch)
  }
  return batches
}

const writeAll = (fd: number, buf: Buffer): void => {
  let off = 0
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
}

/** The JSONL ceiling. Returns elapsed ms and bytes written. */
const jsonl = (dir: string, batches: ReadonlyArray<ReadonlyArray<BatchMetric>>, fsyncEachBatch: boolean) => {
  const file = join(dir, `metrics-${fsyncEachBatch ? "each" : "once"}.jsonl`)
  const fd = openSync(file, "a")
  const t0 = nowMs()
  for (const batch of batches) {
    const lines = new Array<string>(batch.length)
    for (let i = 0; i < batch.length; i++) lines[i] = JSON.stringify(batch[i])
    writeAll(fd, Buffer.from(lines.join("\n") + "\n"))
    if (fsyncEachBatch) fdatasyncSync(fd)
  }
  if (!fsyncEachBatch) fdatasyncSync(fd)
  const ms = nowMs() - t0
  closeSync(fd)
  return { ms, bytes: statSync(file).size }
}

/**
 * The floor of any store that makes each awaited batch durable on its own, as ours does: `count`
 * writes of `bytes` bytes (what one of our appends writes), each followed by fdatasync, with no
 * encoding at all. Synchronous, so not even a thread-pool hop. Returns elapsed ms.
 */
const writeSyncFloor = (dir: string, bytes: number, count: number): number => {
  const fd = openSync(join(dir, "floor.bin"), "a")
  const buf = Buffer.alloc(bytes, 0x61)
  const t0 = nowMs()
  for (let i = 0; i < count; i++) {
    writeAll(fd, buf)
    fdatasyncSync(fd)
  }
  const ms = nowMs() - t0
  closeSync(fd)
  return ms
}

/**
 * The same floor on a file whose space is written ahead: a durable overwrite skips the file-size
 * update an append makes fdatasync commit, the one way under the floor above. The space is zeros
 * written ahead in steps of an eighth of the file (64 KiB to 8 MiB, as a log would grow it), and
 * writing them is timed too: the disk must take those bytes as well. Returns elapsed ms.
 */
const preallocatedFloor = (dir: string, bytes: number, count: number): number => {
  const fd = openSync(join(dir, "floor-ahead.bin"), "w")
  const buf = Buffer.alloc(bytes, 0x61)
  const zeros = Buffer.alloc(1 << 20)
  let end = 0
  let size = 0
  const t0 = nowMs()
  for (let i = 0; i < count; i++) {
    if (end + bytes > size) {
      const target = end + bytes + Math.min(8 << 20, Math.max(64 << 10, end >> 3))
      while (size < target) size += writeSync(fd, zeros, 0, Math.min(zeros.length, target - size), size)
    }
    let off = 0
    while (off < bytes) off += writeSync(fd, buf, off, bytes - off, end + off)
    end += bytes
    fdatasyncSync(fd)
  }
  const ms = nowMs() - t0
  closeSync(fd)
  return ms
}

/** When our side's points are durable: after every awaited call, or once at the end (the ceiling's way). */
type Durable = "each" | "end"

/**
 * Ours: awaited logBatch per batch. Returns elapsed ms and bytes of the log. `durable`: "each" (the
 * default durability: every awaited call fdatasynced), or "end" (the ceiling's own: durability
 * "os", then one fdatasync of the log at the end, timed).
 */
const oursLogBatch = (batches: ReadonlyArray<ReadonlyArray<BatchMetric>>, durable: Durable = "each") =>
  withTempDir("ingest", async (dir) => {
    const tracker = await openTracker({ dir, durability: durable === "each" ? "fsync" : "os" })
    const run = await tracker.startRun({ experiment: "bench", name: "ingest" })
    const before = statSync(join(dir, LOG_FILE)).size
    const t0 = nowMs()
    for (const metrics of batches) await run.logBatch({ metrics })
    await run.flush()
    if (durable === "end") {
      const fd = openSync(join(dir, LOG_FILE), "r")
      fdatasyncSync(fd)
      closeSync(fd)
    }
    const ms = nowMs() - t0
    const bytes = statSync(join(dir, LOG_FILE)).size - before
    await run.end()
    await tracker.close()
    return { ms, bytes }
  })

/** Ours: un-awaited logMetrics per step (4 keys a step), then one flush. */
const oursLogMetrics = (points: number) =>
  withTempDir("ingest-metrics", async (dir) => {
    const steps = points >> 2
    const values = new Float64Array(points)
    for (let i = 0; i < points; i++) values[i] = Math.random()
    const tracker = await openTracker({ dir })
    const run = await tracker.startRun({ experiment: "bench", name: "ingest-metrics" })
    const t0 = nowMs()
    for (let s = 0; s < steps; s++) {
      const i = s << 2
      void run.logMetrics({ loss: values[i], accuracy: values[i + 1], learning_rate: values[i + 2], grad_norm: values[i + 3] }, { step: s })
    }
    await run.flush()
    const ms = nowMs() - t0
    await run.end()
    await tracker.close()
    return { ms }
  })

/** Points per logBatch call in the MLflow-shaped row: what an MLflow client sends per request (its log_batch limit). */
export const MLFLOW_BATCH = 1000

interface Paired {
  readonly ours: number[]
  readonly ceiling: number[]
  readonly oursBytes: number
  readonly jsonlBytes: number
}

/** Ours and the JSONL ceiling on the same batches, `reps` times in alternating order; rates in points/s. */
const paired = async (opts: BenchOptions, label: string, batches: ReadonlyArray<ReadonlyArray<BatchMetric>>, points: number, durable: Durable = "each"): Promise<Paired> => {
  const ours: number[] = []
  const ceiling: number[] = []
  let oursBytes = 0
  let jsonlBytes = 0
  for (let r = 0; r < opts.reps; r++) {
    // Alternate the order so drift on a shared machine hits both sides.
    const runCeiling = () =>
      withTempDir("ingest-jsonl", async (dir) => {
        const c = jsonl(dir, batches, false)
        jsonlBytes = c.bytes
        ceiling.push(points / (c.ms / 1000))
        opts.log(`  ${label} ceiling rep ${r + 1}: ${si(points / (c.ms / 1000))} points/s (${c.ms.toFixed(0)} ms)`)
      })
    const runOurs = async () => {
      const o = await oursLogBatch(batches, durable)
      oursBytes = o.bytes
      ours.push(points / (o.ms / 1000))
      opts.log(`  ${label} ours    rep ${r + 1}: ${si(points / (o.ms / 1000))} points/s (${o.ms.toFixed(0)} ms)`)
    }
    if (r % 2 === 0) {
      await runOurs()
      await settle()
      await runCeiling()
    } else {
      await runCeiling()
      await settle()
      await runOurs()
    }
    await settle()
  }
  return { ours, ceiling, oursBytes, jsonlBytes }
}

export const benchIngest = async (opts: BenchOptions): Promise<Row[]> => {
  const points = opts.quick ? 200_000 : 2_000_000
  const batchSize = 10_000
  opts.log(`ingest: building ${si(points)} points in batches of ${si(batchSize)}`)
  // Dropped (`= []`) once its rows are measured: the MLflow row's input is as large, and a heap
  // holding both made every garbage collection in that row mark twice the objects, on either side.
  let batches = makeBatches(points, batchSize)
  const batchCount = batches.length

  // Warm both paths once (JIT, page cache, module init) on a small slice.
  const warm = batches.slice(0, Math.min(5, batches.length))
  await oursLogBatch(warm)
  await withTempDir("ingest-jsonl", async (dir) => jsonl(dir, warm, false))

  const { ours, ceiling, oursBytes, jsonlBytes } = await paired(opts, "10k/batch", batches, points)
  const each = await withTempDir("ingest-jsonl-each", async (dir) => jsonl(dir, batches, true))
  const eachRate = points / (each.ms / 1000)
  batches = []
  opts.log(`  ceiling with one fdatasync per batch: ${si(eachRate)} points/s`)

  // Half the points: a rate, compared per point with the same ceiling.
  const metricsPoints = points >> 1
  const metricsRates: number[] = []
  for (let r = 0; r < opts.reps; r++) {
    await settle()
    const m = await oursLogMetrics(metricsPoints)
    metricsRates.push(metricsPoints / (m.ms / 1000))
    opts.log(`  logMetrics un-awaited rep ${r + 1}: ${si(metricsPoints / (m.ms / 1000))} points/s (${m.ms.toFixed(0)} ms)`)
  }

  // MLflow's shape: many small awaited batches, so the per-append cost (lock, stamp, frame, fsync) shows.
  opts.log(`ingest: ${si(points)} points as MLflow-shaped logBatch calls of ${MLFLOW_BATCH} point objects`)
  const small = makeBatches(points, MLFLOW_BATCH)
  await oursLogBatch(small.slice(0, 20))
  const mlflow = await paired(opts, `${MLFLOW_BATCH}/batch`, small, points)
  // The same durability as ours (one fdatasync per batch): how much of a small batch's time is the disk's.
  const smallEach = await withTempDir("ingest-jsonl-each", async (dir) => jsonl(dir, small, true))
  const smallEachRate = points / (smallEach.ms / 1000)
  opts.log(`  ${MLFLOW_BATCH}/batch ceiling with one fdatasync per batch: ${si(smallEachRate)} points/s`)
  // The floor under the target: our bytes per append, written and fdatasynced per batch, nothing else.
  const appendBytes = Math.round(mlflow.oursBytes / small.length)
  const floorMs = await withTempDir("ingest-floor", async (dir) => writeSyncFloor(dir, appendBytes, small.length))
  const floorRate = points / (floorMs / 1000)
  opts.log(`  ${MLFLOW_BATCH}/batch floor (write ${appendBytes} B + fdatasync per batch, no encoding): ${si(floorRate)} points/s, ${(floorMs * 1000 / small.length).toFixed(0)} us per batch`)
  const aheadMs = await withTempDir("ingest-floor-ahead", async (dir) => preallocatedFloor(dir, appendBytes, small.length))
  const aheadRate = points / (aheadMs / 1000)
  opts.log(`  ${MLFLOW_BATCH}/batch floor on space written ahead (zeros written in the loop): ${si(aheadRate)} points/s, ${(aheadMs * 1000 / small.length).toFixed(0)} us per batch`)
  const figS = median(mlflow.ours)
  const ratioS = pairedRatio(mlflow.ours, mlflow.ceiling)
  // The same calls with the ceiling's own durability: how fast the object path is when the disk's
  // per-call fdatasync is not in it.
  const atEnd = await paired(opts, `${MLFLOW_BATCH}/batch, fsync at the end`, small, points, "end")

  const ceil = median(ceiling)
  const fig = median(ours)
  const ratio = pairedRatio(ours, ceiling)
  const figM = median(metricsRates)
  return [
    {
      name: `ingest logBatch awaited (${si(points)} pts, ${si(batchSize)}/batch, fsync each)`,
      figure: fig,
      unit: "points/s",
      ceiling: ceil,
      ceilingName: "JSONL, 1 fsync total",
      ratio,
      target: ">= 2x ceiling",
      verdict: ratio >= 2 ? "PASS" : "MISS",
      samples: ours,
      ceilingSamples: ceiling,
      note:
        `${batchCount} fdatasyncs on our side vs 1 for the ceiling; JSONL with one fdatasync per batch: ${si(eachRate)} points/s ` +
        `(ours ${(fig / eachRate).toFixed(2)}x that). Bytes per point: ours ${(oursBytes / points).toFixed(1)}, JSONL ${(jsonlBytes / points).toFixed(1)}.`
    },
    {
      name: `ingest logBatch awaited, MLflow shape (${si(points)} pts, ${MLFLOW_BATCH} {key,value,step,timestamp}/batch, fsync each)`,
      figure: figS,
      unit: "points/s",
      ceiling: median(mlflow.ceiling),
      ceilingName: `JSONL, ${MLFLOW_BATCH}/write, 1 fsync total`,
      ratio: ratioS,
      target: ">= 2x ceiling",
      verdict: ratioS >= 2 ? "PASS" : "MISS",
      samples: mlflow.ours,
      ceilingSamples: mlflow.ceiling,
      note: `${small.length} appends (each: checking, stamping, framing, one fdatasync; the store's lock kept across them) vs 1 fdatasync for the ceiling; ` +
        `JSONL with one fdatasync per batch: ${si(smallEachRate)} points/s (ours ${(figS / smallEachRate).toFixed(2)}x that). ` +
        `Floor, a write of our ${appendBytes} B + fdatasync per batch and no encoding: ${si(floorRate)} points/s = ${(floorRate / median(mlflow.ceiling)).toFixed(2)}x the ceiling ` +
        `(ours ${(figS / floorRate).toFixed(2)}x the floor; 2x the ceiling needs ${((1e6 * MLFLOW_BATCH) / (2 * median(mlflow.ceiling))).toFixed(0)} us per batch, the floor takes ${(floorMs * 1000 / small.length).toFixed(0)}). ` +
        `The floor on space written ahead (overwrites, the zeros' writing counted): ${si(aheadRate)} points/s = ${(aheadRate / median(mlflow.ceiling)).toFixed(2)}x the ceiling, ${(aheadMs * 1000 / small.length).toFixed(0)} us per batch. ` +
        `Bytes per point: ours ${(mlflow.oursBytes / points).toFixed(1)}, JSONL ${(mlflow.jsonlBytes / points).toFixed(1)}.`
    },
    {
      name: `ingest logBatch awaited, MLflow shape, the ceiling's durability (durability "os", one fdatasync at the end)`,
      figure: median(atEnd.ours),
      unit: "points/s",
      ceiling: median(atEnd.ceiling),
      ceilingName: `JSONL, ${MLFLOW_BATCH}/write, 1 fsync total`,
      ratio: pairedRatio(atEnd.ours, atEnd.ceiling),
      target: "none (context: the row above without its per-call fdatasync)",
      verdict: "info",
      samples: atEnd.ours,
      ceilingSamples: atEnd.ceiling
    },
    {
      name: `ingest logMetrics un-awaited (${si(metricsPoints >> 2)} steps x 4 keys)`,
      figure: figM,
      unit: "points/s",
      ceiling: ceil,
      ceilingName: "JSONL, 1 fsync total",
      ratio: figM / ceil,
      target: "none (context)",
      verdict: "info",
      samples: metricsRates,
      ceilingSamples: ceiling
    }
  ]
}
