/**
 * Shared bench helpers: options, timing, temp dirs, and the final table.
 *
 * Every figure is printed beside a ceiling measured in the same run on the same machine, as a
 * ratio. Verdicts compare against the stated targets but never fail the process: shared machines
 * are noisy, so a timing is evidence, not an assertion.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { cpus, tmpdir, totalmem } from "node:os"
import { join } from "node:path"

export interface BenchOptions {
  readonly quick: boolean
  readonly json: boolean
  /** Repetitions for the cheap measurements (the median is reported). */
  readonly reps: number
  /** Progress lines on stderr. */
  readonly log: (line: string) => void
}

export type Verdict = "PASS" | "MISS" | "info"

export interface Row {
  readonly name: string
  /** Our figure. */
  readonly figure: number
  readonly unit: string
  /** The ceiling measured in the same run (same unit as `figure`). */
  readonly ceiling: number
  readonly ceilingName: string
  /** figure / ceiling, as the median of per-repetition ratios when both sides were repeated in pairs. */
  readonly ratio: number
  /** Human text of the target, e.g. ">= 2x ceiling" or ">= 200k/s". */
  readonly target: string
  readonly verdict: Verdict
  /** Every repetition, for the JSON output. */
  readonly samples?: ReadonlyArray<number>
  readonly ceilingSamples?: ReadonlyArray<number>
  readonly note?: string
}

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return NaN
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/** The median of per-repetition ratios a[i] / b[i]: pairs measured back to back share the machine's load. */
export const pairedRatio = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number =>
  median(a.map((x, i) => x / b[i]))

export const nowMs = (): number => performance.now()

/** A fresh directory under the OS temp dir; `use` runs with it and it is removed afterwards. */
export const withTempDir = async <A>(label: string, use: (dir: string) => Promise<A>): Promise<A> => {
  const dir = mkdtempSync(join(tmpdir(), `runledger-bench-${label}-`))
  try {
    return await use(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Give the collector a chance between measurements when --expose-gc is on (not required). */
export const settle = async (): Promise<void> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) gc()
  await new Promise((r) => setTimeout(r, 20))
}

export const machine = () => {
  const list = cpus()
  return {
    cpu: list[0]?.model ?? "unknown",
    cores: list.length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    tmpdir: tmpdir()
  }
}

/** 1234567 -> "1.23M", 45678 -> "45.7k". */
export const si = (x: number): string => {
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)}G`
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)}k`
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2)
}

const formatValue = (x: number, unit: string): string => (unit === "MB" ? `${x.toFixed(0)} MB` : `${si(x)} ${unit}`)

export const formatTable = (rows: ReadonlyArray<Row>): string => {
  const header = ["benchmark", "figure", "ceiling", "ratio", "target", "verdict"]
  const body = rows.map((r) => [
    r.name,
    formatValue(r.figure, r.unit),
    `${formatValue(r.ceiling, r.unit)} (${r.ceilingName})`,
    `${r.ratio.toFixed(r.ratio < 0.1 ? 3 : 2)}x`,
    r.target,
    r.verdict
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i])).join(" | ")
  const sep = widths.map((w) => "-".repeat(w)).join("-|-")
  const notes = rows.filter((r) => r.note).map((r) => `  * ${r.name}: ${r.note}`)
  return [line(header), sep, ...body.map(line), ...(notes.length ? ["", "notes:", ...notes] : [])].join("\n")
}

/** Each of `reps` calls of `f`, timed (ms). */
export const timeIt = async (reps: number, f: () => Promise<unknown>): Promise<number[]> => {
  const out: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = nowMs()
    await f()
    out.push(nowMs() - t)
  }
  return out
}

/**
 * A row of milliseconds (lower is better) beside the ceiling's: PASS/MISS against `limitMs` when the
 * row has a target, "info" when it is context. The note says which way the ratio reads.
 */
export const msRow = (name: string, ours: ReadonlyArray<number>, ceiling: ReadonlyArray<number>, ceilingName: string, limitMs: number | undefined, target: string, note: string): Row => ({
  name,
  figure: median(ours),
  unit: "ms",
  ceiling: median(ceiling),
  ceilingName,
  ratio: median(ours) / median(ceiling),
  target,
  verdict: limitMs === undefined ? "info" : median(ours) < limitMs ? "PASS" : "MISS",
  samples: ours,
  ceilingSamples: ceiling,
  note: `${note}ratio > 1 means slower than the ceiling`
})
