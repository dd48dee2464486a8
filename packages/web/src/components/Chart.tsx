/**
 * One metric of one or more runs, drawn by uPlot from the server's per-bucket summaries
 * (`POST /api/runledger/metrics/histories`): the last value of each bucket as the line, its min/max as
 * a faint band, and, on zoom, the visible step range fetched again at full detail (uPlot's
 * zoom-fetch recipe: the selection does not rescale by itself, the new data does). No aggregation
 * happens here: the columns go to uPlot as the server sent them, merged on x only when runs differ.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks"
import type uPlot from "uplot"
import { api, type DownsampledHistory, type HistoryField } from "../api/client.ts"
import { time, value } from "../format.ts"
import { cursorTip, type TipLine } from "./cursorTip.ts"
import { useColorScheme } from "./useColorScheme.ts"
import { useUplot } from "./useUplot.ts"

export type XMode = "step" | "wall" | "relative"

export interface ChartProps {
  readonly runIds: ReadonlyArray<string>
  readonly metric: string
  /** The runs' names for the legend; undefined while they load: the histories are fetched, and drawn once the names are in (drawing twice would replace the plot under the user's pointer). */
  readonly names: Readonly<Record<string, string>> | undefined
  readonly xMode: XMode
  readonly logY: boolean
  /** EMA weight in [0, 1): 0 draws the raw values only. */
  readonly smoothing: number
  /** Changes when the runs gained points (the live tail): the chart fetches again. */
  readonly version?: number
  /** Time travel: the histories as they were at this moment (the page's asOf); default now. */
  readonly asOf?: string | undefined
  readonly height?: number
}

/** Distinct hues, far apart (golden angle), readable on light and dark backgrounds. */
export const color = (i: number, alpha = 1): string => `hsla(${(i * 137.508) % 360}, 70%, 50%, ${alpha})`

/** A column as uPlot takes it: the server's doubles as they came, or an array with gaps (null). */
type Column = Float64Array | Array<number | null>

const ema = (ys: Column, weight: number): Array<number | null> => {
  const out: Array<number | null> = new Array(ys.length)
  let acc: number | null = null
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]
    if (y === null || !Number.isFinite(y)) {
      out[i] = acc
      continue
    }
    acc = acc === null ? y : acc * weight + y * (1 - weight)
    out[i] = acc
  }
  return out
}

/**
 * What a chart draws of each run: the last value by step (or by its time); the min/max band only
 * for a few runs. The other columns are not asked for: 100 runs' doubles are 3/8 of all eight.
 */
type Drawn = DownsampledHistory<"last" | "timestamp">
const LINE_FIELDS: ReadonlyArray<HistoryField> = ["step", "last", "timestamp"]
const BAND_FIELDS: ReadonlyArray<HistoryField> = [...LINE_FIELDS, "min", "max"]

interface Columns {
  readonly xs: Float64Array | number[]
  /** Per run: last values, mins, maxs, aligned to xs (null where the run has no bucket). */
  readonly runs: ReadonlyArray<{ readonly runId: string; readonly last: Column; readonly min: Column | undefined; readonly max: Column | undefined }>
  /** x value → the step it stands for (zoom in time modes maps the selection back to steps). */
  readonly stepOf: Map<number, number>
}

/**
 * The series' x values, merged when runs differ (the same steps for every run, the usual case, need no merge).
 * Relative time counts from `origins` (a run's earliest timestamp seen), so a zoomed range keeps its place.
 */
const columns = (series: ReadonlyArray<Drawn>, xMode: XMode, origins: ReadonlyMap<string, number>): Columns => {
  const stepOf = new Map<number, number>()
  const perRun = series.map((s): Float64Array => {
    const origin = origins.get(s.runId) ?? s.timestamp[0]
    const xs = xMode === "step" ? s.step : xMode === "wall" ? s.timestamp.map((t) => t / 1000) : s.timestamp.map((t) => (t - origin) / 1000)
    // Only time modes need the way back from x to step (by step, x is the step).
    if (xMode !== "step") xs.forEach((x, i) => stepOf.set(x, s.step[i]))
    return xs
  })
  let xs: Float64Array | number[]
  const first = perRun[0] ?? new Float64Array(0)
  const same = perRun.every((p) => p.length === first.length && p.every((x, i) => x === first[i]))
  if (same) xs = first.slice()
  else {
    const all = new Set<number>()
    for (const p of perRun) for (const x of p) all.add(x)
    xs = Array.from(all).sort((a, b) => a - b)
  }
  const index = same ? null : new Map(Array.from(xs, (x, i) => [x, i]))
  const runs = series.map((s, r) => {
    const { last, min, max } = s
    // The same x values as every other run: the columns as the server sent them.
    if (index === null) return { runId: s.runId, last, min, max }
    const spread = (col: Float64Array) => {
      const out: Array<number | null> = new Array(xs.length).fill(null)
      perRun[r].forEach((x, i) => (out[index.get(x)!] = col[i]))
      return out
    }
    return { runId: s.runId, last: spread(last), min: min && spread(min), max: max && spread(max) }
  })
  return { xs, runs, stepOf }
}

/**
 * A run's value under the cursor, as the tables write values: uPlot's default (Intl's, three
 * decimals) read a loss of 0.0071 as 0.007 and one of 0.0004 as 0, and runs 1e-4 apart alike.
 */
const legendValue = (_u: uPlot, v: number | null): string => (v === null ? "--" : value(v))

/** Up to this many runs a chart draws each run's min/max band; more would be a smear. */
const BAND_RUNS = 8

const cssVar = (name: string, fallback: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback

export function Chart(props: ChartProps) {
  const { runIds, metric, names, xMode, logY, smoothing, version = 0, height = 260, asOf } = props
  const host = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const lib = useUplot()
  const scheme = useColorScheme()
  const [range, setRange] = useState<{ start: number; end: number } | null>(null)
  const [state, setState] = useState<{ series: ReadonlyArray<Drawn>; error: string | null; loading: boolean }>({ series: [], error: null, loading: true })
  const requested = useRef(0)
  const runKey = runIds.join(",")
  /**
   * Per run, the earliest timestamp of this metric seen in any answer: where relative time starts.
   * The first answer is the whole history, so a zoomed answer (which starts mid-run) is measured
   * from the run's start, not from the zoom's; a zoom into the start only moves it earlier (to the
   * first point itself, where the whole history's first bucket stood for it).
   */
  const origins = useRef<{ metric: string; at: Map<string, number> }>({ metric, at: new Map() })

  // Fetch: the whole history at about one bucket per pixel (a line cannot show more; a bucket's
  // min and max make the band), or the zoomed step range at full detail. Two per pixel was twice
  // the bytes for a compare chart of 100 runs. Per device pixel while the bands are drawn (they
  // show each pixel column's extremes); per CSS pixel for more runs, whose 1.5-pixel lines overlap
  // anyway: a quarter of the buckets on a 2x screen.
  // A layout effect: the request leaves as the page is put in place, not after its first paint.
  useLayoutEffect(() => {
    const ctl = new AbortController()
    const bands = runIds.length <= BAND_RUNS
    const width = (host.current?.clientWidth ?? 800) * (bands ? window.devicePixelRatio || 1 : 1)
    const t0 = performance.now()
    api
      .histories({ runIds, key: metric, fields: bands ? BAND_FIELDS : LINE_FIELDS, maxPoints: Math.max(200, Math.min(4000, Math.round(width))), ...(range ? { startStep: Math.floor(range.start), endStep: Math.ceil(range.end) } : {}), ...(asOf === undefined ? {} : { asOf }) }, ctl.signal)
      .then((series) => {
        requested.current = performance.now() - t0
        if (origins.current.metric !== metric) origins.current = { metric, at: new Map() }
        for (const s of series) {
          if (s.timestamp.length === 0) continue
          const seen = origins.current.at.get(s.runId)
          if (seen === undefined || s.timestamp[0] < seen) origins.current.at.set(s.runId, s.timestamp[0])
        }
        if (host.current) {
          host.current.dataset[range ? "requeryMs" : "fetchMs"] = requested.current.toFixed(1)
          // When the answer was read (the page's clock): the scale test splits the wait by it.
          host.current.dataset.fetchedAt = performance.now().toFixed(1)
        }
        setState({ series, error: null, loading: false })
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return
        setState({ series: [], error: e instanceof Error ? e.message : String(e), loading: false })
      })
    return () => ctl.abort()
  }, [runKey, metric, range?.start, range?.end, version, asOf])

  // Draw (again) when the data or the view options change.
  useEffect(() => {
    const el = host.current
    if (!el) return
    plot.current?.destroy()
    plot.current = null
    const UPlot = lib.uPlot
    if (state.series.length === 0 || names === undefined || UPlot === undefined) return
    const t0 = performance.now()
    const cols = columns(state.series, xMode, origins.current.at)
    const tColumns = performance.now()
    const fg = cssVar("--fg", "#111")
    const grid = cssVar("--grid", "rgba(128,128,128,0.2)")
    const bands: uPlot.Band[] = []
    // Wall time under the cursor to the second, as the pages write times (uPlot's default stops at minutes).
    const xLabel = xMode === "step" ? "step" : xMode === "wall" ? "time" : "seconds"
    const xText = (x: number): string => (xMode === "wall" ? time(x * 1000) : value(x))
    const series: uPlot.Series[] = [xMode === "wall" ? { label: xLabel, value: (_u, v) => (v === null ? "--" : xText(v)) } : { label: xLabel }]
    const data: Array<Column> = [cols.xs]
    // min/max bands only where they stay readable: a few runs.
    const withBands = cols.runs.length <= BAND_RUNS
    // The band's edges are series to uPlot, but not lines to a reader: kept out of the legend.
    const edges: number[] = []
    // Each run's line (its smoothed one when smoothing), for the tooltip.
    const lines: TipLine[] = []
    cols.runs.forEach((r, i) => {
      const name = names[r.runId] ?? r.runId.slice(0, 8)
      if (withBands && r.min !== undefined && r.max !== undefined) {
        const base = data.length
        edges.push(base, base + 1)
        data.push(r.max, r.min)
        series.push({ label: `${name} max`, stroke: "transparent", show: true, points: { show: false }, spanGaps: true }, { label: `${name} min`, stroke: "transparent", points: { show: false }, spanGaps: true })
        bands.push({ series: [base, base + 1], fill: color(i, 0.12) })
      }
      if (smoothing > 0) {
        data.push(r.last)
        series.push({ label: `${name} raw`, stroke: color(i, 0.25), width: 1, points: { show: false }, spanGaps: true, value: legendValue })
        data.push(ema(r.last, smoothing))
        series.push({ label: name, stroke: color(i), width: 1.5, points: { show: false }, spanGaps: true, value: legendValue })
      } else {
        data.push(r.last)
        series.push({ label: name, stroke: color(i), width: 1.5, points: { show: false }, spanGaps: true, value: legendValue })
      }
      lines.push({ series: series.length - 1, name, color: color(i) })
    })
    const opts: uPlot.Options = {
      title: metric,
      width: Math.max(300, el.clientWidth),
      height,
      series,
      bands,
      scales: { x: { time: xMode === "wall" }, y: logY ? { distr: 3 } : {} },
      axes: [
        { label: xLabel, stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } },
        { label: metric, stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } }
      ],
      legend: { live: true },
      plugins: [cursorTip(lines, (x) => `${xLabel} ${xText(x)}`, value)],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 2) return
            const lo = u.posToVal(u.select.left, "x")
            const hi = u.posToVal(u.select.left + u.select.width, "x")
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
            // The selection in x becomes a step range: direct by step, through the buckets' steps in time modes.
            let start = lo
            let end = hi
            if (xMode !== "step") {
              const inside = Array.from(cols.xs).filter((x) => x >= lo && x <= hi).map((x) => cols.stepOf.get(x)!)
              if (inside.length === 0) return
              start = inside.reduce((a, b) => Math.min(a, b), Infinity)
              end = inside.reduce((a, b) => Math.max(a, b), -Infinity)
            }
            setRange({ start, end })
          }
        ]
      }
    }
    // Log scales need positive values: non-positive ones are gaps there, not errors.
    const drawn = logY ? data.map((col, k) => (k === 0 ? col : Array.from(col, (v) => (v !== null && v > 0 ? v : null)))) : data
    plot.current = new UPlot(opts, drawn as uPlot.AlignedData, el)
    const rows = plot.current.root.querySelectorAll<HTMLElement>(".u-legend .u-series")
    for (const i of edges) if (rows[i]) rows[i].style.display = "none"
    const t1 = performance.now()
    el.dataset.drawMs = (t1 - t0).toFixed(1)
    el.dataset.columnsMs = (tColumns - t0).toFixed(1)
    el.dataset.drawnAt = t1.toFixed(1)
    el.dataset.series = String(cols.runs.length)
    el.dataset.points = String(cols.xs.length)
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(300, el.clientWidth), height }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.current?.destroy()
      plot.current = null
    }
  }, [state.series, xMode, logY, smoothing, height, names, lib.uPlot, scheme])

  return (
    <figure class="chart" aria-label={`Chart of ${metric}`}>
      <div class="chart-bar">
        {range ? (
          <button type="button" onClick={() => setRange(null)}>
            Reset zoom (steps {Math.floor(range.start)}–{Math.ceil(range.end)})
          </button>
        ) : (
          <span class="hint">Drag across the chart to zoom; the range is fetched again at full detail.</span>
        )}
        {state.loading ? <span class="hint"> loading…</span> : null}
      </div>
      {state.error ?? lib.error ? <p class="error" role="alert">{state.error ?? lib.error}</p> : null}
      {!state.loading && !state.error && state.series.every((s) => s.step.length === 0) ? <p class="hint">No points for {metric}.</p> : null}
      <div ref={host} class="chart-host" data-metric={metric} />
    </figure>
  )
}

/** The controls every chart group shares: x axis, log y, smoothing. */
export function ChartControls(props: {
  readonly xMode: XMode
  readonly logY: boolean
  readonly smoothing: number
  readonly onChange: (next: { xMode: XMode; logY: boolean; smoothing: number }) => void
}) {
  const { xMode, logY, smoothing, onChange } = props
  return (
    <div class="controls" role="group" aria-label="Chart options">
      <label>
        x axis{" "}
        <select value={xMode} onChange={(e) => onChange({ xMode: (e.currentTarget as HTMLSelectElement).value as XMode, logY, smoothing })}>
          <option value="step">step</option>
          <option value="wall">wall time</option>
          <option value="relative">relative time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={logY} onChange={(e) => onChange({ xMode, logY: (e.currentTarget as HTMLInputElement).checked, smoothing })} /> log y
      </label>
      <label>
        smoothing{" "}
        <input type="range" min="0" max="0.99" step="0.01" value={smoothing} onInput={(e) => onChange({ xMode, logY, smoothing: Number((e.currentTarget as HTMLInputElement).value) })} /> {smoothing.toFixed(2)}
      </label>
    </div>
  )
}
