/**
 * A standalone SVG line chart comparing runs on one metric: one line per run, an optional light
 * min/max band behind it (what the read model's downsampled history buckets carry), nice ticks, a legend. Produced as a
 * string so the CLI can write a file and a server can return it without a DOM or a charting
 * library.
 *
 * Robustness rules, because the data and labels come from users' training scripts:
 * - non-finite values break the line (a gap) rather than producing NaN coordinates;
 * - on a log scale, values <= 0 cannot be placed, so they are skipped and a note says how many;
 * - every piece of user text is XML-escaped, so a run called `<script>` stays text.
 */
import { logTicks, niceTicks, type Ticks } from "./ticks.ts"
import { escapeXml } from "./xml-text.ts"

export interface ChartPoint {
  readonly step: number
  readonly value: number
  /** Lower and upper envelope (e.g. a downsampled bucket's min/max); drawn only when both are set. */
  readonly min?: number
  readonly max?: number
}

export interface ChartSeries {
  readonly label: string
  /** Points, ideally sorted by step (a sorted copy is made if they are not). */
  readonly points: readonly ChartPoint[]
}

export interface LineChartOptions {
  readonly series: readonly ChartSeries[]
  readonly title?: string
  /** Default "step". */
  readonly xLabel?: string
  readonly yLabel?: string
  /** Log-scale y axis (decade ticks, or finer ones fitted to a narrow range). */
  readonly logScale?: boolean
  /** Pixel size; defaults 800 x 480. */
  readonly width?: number
  readonly height?: number
}

/**
 * Okabe & Ito's colorblind-safe palette, reordered so the most distinguishable colours come
 * first and the yellow (weak on white) last. Series beyond eight reuse colours with a dash
 * pattern, so every series still looks different.
 */
export const CHART_PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442"
]
const DASHES: readonly string[] = ["", "6 3", "2 2", "8 3 2 3"]

const FONT_SIZE = 12
/** Rough glyph width for layout; without a font engine an estimate is the best available. */
const CHAR_WIDTH = 7
const MAX_LEGEND_CHARS = 40
const LEGEND_ROW = 18

interface Vertex {
  readonly x: number
  readonly y: number
}
interface BandVertex {
  readonly x: number
  readonly lo: number
  readonly hi: number
}

interface PreparedSeries {
  readonly label: string
  readonly color: string
  readonly dash: string
  /** Runs of consecutive drawable points; a break between runs is a gap in the line. */
  readonly segments: Vertex[][]
  readonly bands: BandVertex[][]
  readonly drawable: number
  readonly skippedValues: number
  readonly skippedBounds: number
}

const isSortedByStep = (points: readonly ChartPoint[]): boolean => {
  for (let i = 1; i < points.length; i++) if (points[i - 1].step > points[i].step) return false
  return true
}

const prepare = (series: ChartSeries, index: number, logScale: boolean): PreparedSeries => {
  const withStep = series.points.filter((p) => Number.isFinite(p.step))
  const points = isSortedByStep(withStep) ? withStep : [...withStep].sort((p, q) => p.step - q.step)
  const usable = (v: number | undefined): v is number =>
    v !== undefined && Number.isFinite(v) && (!logScale || v > 0)
  const segments: Vertex[][] = []
  const bands: BandVertex[][] = []
  let segment: Vertex[] = []
  let band: BandVertex[] = []
  let drawable = 0
  let skippedValues = 0
  let skippedBounds = 0
  for (const p of points) {
    if (usable(p.value)) {
      segment.push({ x: p.step, y: p.value })
      drawable++
    } else {
      if (logScale && Number.isFinite(p.value) && p.value <= 0) skippedValues++
      if (segment.length > 0) segments.push(segment)
      segment = []
    }
    if (usable(p.min) && usable(p.max)) {
      band.push({ x: p.step, lo: Math.min(p.min, p.max), hi: Math.max(p.min, p.max) })
    } else {
      for (const bound of [p.min, p.max]) {
        if (logScale && bound !== undefined && Number.isFinite(bound) && bound <= 0) skippedBounds++
      }
      if (band.length > 0) bands.push(band)
      band = []
    }
  }
  if (segment.length > 0) segments.push(segment)
  if (band.length > 0) bands.push(band)
  return {
    label: series.label,
    color: CHART_PALETTE[index % CHART_PALETTE.length],
    dash: DASHES[Math.floor(index / CHART_PALETTE.length) % DASHES.length],
    segments,
    bands,
    drawable,
    skippedValues,
    skippedBounds
  }
}

/** Coordinates rounded to 0.01 px; anything non-finite (cannot happen by construction) is 0. */
const num = (v: number): string => {
  if (!Number.isFinite(v)) return "0"
  const r = Math.round(v * 100) / 100
  return String(r === 0 ? 0 : r)
}

const truncate = (label: string): string => {
  const chars = [...label] // by code point, so an emoji is never cut in half
  return chars.length <= MAX_LEGEND_CHARS ? label : `${chars.slice(0, MAX_LEGEND_CHARS - 1).join("")}…`
}

const textWidth = (text: string): number => [...text].length * CHAR_WIDTH

const checkSize = (name: string, v: number): number => {
  if (!Number.isFinite(v) || v <= 0) {
    throw new RangeError(`lineChartSvg: ${name} must be a positive number of pixels, got ${v}`)
  }
  return v
}

/** Map [lo, hi] onto [0, 1]; halving first keeps extreme-but-finite domains from overflowing. */
const unit = (v: number, lo: number, hi: number): number => {
  const span = hi / 2 - lo / 2
  return span > 0 ? (v / 2 - lo / 2) / span : 0.5
}

/**
 * Render the chart as a complete SVG document (with xmlns, so it opens standalone in a browser
 * or embeds as <img>). Throws RangeError only for a non-positive width/height; any data,
 * including none at all, produces a chart (an empty one says why in its body).
 */
export const lineChartSvg = (options: LineChartOptions): string => {
  const width = checkSize("width", options.width ?? 800)
  const height = checkSize("height", options.height ?? 480)
  const xLabel = options.xLabel ?? "step"
  const yLabel = options.yLabel
  const title = options.title
  const logScale = options.logScale === true
  const prepared = options.series.map((s, i) => prepare(s, i, logScale))

  let xMin = Infinity
  let xMax = -Infinity
  let yMin = Infinity
  let yMax = -Infinity
  /** Widen the extent to a point at x spanning lo..hi (a line point: lo = hi = y; a band point: its min and max). */
  const include = (x: number, lo: number, hi: number) => {
    if (x < xMin) xMin = x
    if (x > xMax) xMax = x
    if (lo < yMin) yMin = lo
    if (hi > yMax) yMax = hi
  }
  for (const s of prepared) {
    for (const seg of s.segments) for (const v of seg) include(v.x, v.y, v.y)
    for (const band of s.bands) for (const v of band) include(v.x, v.lo, v.hi)
  }
  const hasData = xMin <= xMax
  const skippedValues = prepared.reduce((n, s) => n + s.skippedValues, 0)
  const skippedBounds = prepared.reduce((n, s) => n + s.skippedBounds, 0)

  // Legend layout first: its height decides how tall the plot can be.
  const legendItems = prepared.map((s) => {
    const text = truncate(s.label) + (s.drawable === 0 && s.bands.length === 0 ? " (no data)" : "")
    return { s, text, w: 28 + textWidth(text) + 16 }
  })
  const legendLeft = 16
  const legendMaxWidth = Math.max(1, width - 2 * legendLeft)
  const legendPositions: Array<{ x: number; row: number }> = []
  let row = 0
  let cursor = 0
  for (const item of legendItems) {
    if (cursor > 0 && cursor + item.w > legendMaxWidth) {
      row++
      cursor = 0
    }
    legendPositions.push({ x: legendLeft + cursor, row })
    cursor += item.w
  }
  const legendRows = legendItems.length === 0 ? 0 : row + 1

  const notes: string[] = []
  if (logScale && (skippedValues > 0 || skippedBounds > 0)) {
    const parts: string[] = []
    if (skippedValues > 0) parts.push(`${skippedValues} value${skippedValues === 1 ? "" : "s"}`)
    if (skippedBounds > 0) parts.push(`${skippedBounds} min/max bound${skippedBounds === 1 ? "" : "s"}`)
    notes.push(`Log scale: ${parts.join(" and ")} ≤ 0 not shown.`)
  }

  const xTicks: Ticks | undefined = hasData ? niceTicks(xMin, xMax, Math.max(2, Math.floor(width / 110))) : undefined
  const yLog = hasData && logScale ? logTicks(yMin, yMax, Math.max(2, Math.floor(height / 60))) : undefined
  const yTicks: Ticks | undefined = hasData ? (yLog ?? niceTicks(yMin, yMax, Math.max(2, Math.floor(height / 60)))) : undefined

  const yTickWidth = yTicks ? yTicks.labels.reduce((w, l) => Math.max(w, textWidth(l)), 0) : 0
  const top = title !== undefined ? 40 : 16
  const left = Math.max(48, yTickWidth + 14) + (yLabel !== undefined ? 22 : 0)
  const right = 24
  const bottom = 46 + legendRows * LEGEND_ROW + notes.length * 16 + 6
  const plotW = Math.max(20, width - left - right)
  const plotH = Math.max(20, height - top - bottom)
  const plotBottom = top + plotH

  const px = (x: number): number => (xTicks ? left + unit(x, xTicks.lo, xTicks.hi) * plotW : left)
  const py = (y: number): number => {
    if (yLog) {
      const e = Math.log10(y)
      return plotBottom - ((e - yLog.loExponent) / (yLog.hiExponent - yLog.loExponent)) * plotH
    }
    return yTicks ? plotBottom - unit(y, yTicks.lo, yTicks.hi) * plotH : plotBottom
  }

  const out: string[] = []
  const accessibleName = title ?? `Line chart of ${yLabel ?? "metric"} by ${xLabel}`
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" ` +
      `viewBox="0 0 ${num(width)} ${num(height)}" role="img" aria-label="${escapeXml(accessibleName)}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="${FONT_SIZE}">`
  )
  out.push(`<title>${escapeXml(accessibleName)}</title>`)
  out.push(`<rect width="${num(width)}" height="${num(height)}" fill="#ffffff"/>`)
  if (title !== undefined) {
    out.push(
      `<text class="title" x="${num(width / 2)}" y="24" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(title)}</text>`
    )
  }

  if (xTicks && yTicks) {
    out.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`)
    for (const v of yTicks.values) {
      out.push(`<line x1="${num(left)}" x2="${num(left + plotW)}" y1="${num(py(v))}" y2="${num(py(v))}"/>`)
    }
    for (const v of xTicks.values) {
      out.push(`<line x1="${num(px(v))}" x2="${num(px(v))}" y1="${num(top)}" y2="${num(plotBottom)}"/>`)
    }
    out.push(`</g>`)

    out.push(`<g class="axis x-axis" stroke="#444444">`)
    out.push(`<line x1="${num(left)}" x2="${num(left + plotW)}" y1="${num(plotBottom)}" y2="${num(plotBottom)}"/>`)
    xTicks.values.forEach((v, i) => {
      const x = num(px(v))
      out.push(
        `<g class="tick" data-value="${v}"><line x1="${x}" x2="${x}" y1="${num(plotBottom)}" y2="${num(plotBottom + 5)}"/>` +
          `<text x="${x}" y="${num(plotBottom + 18)}" text-anchor="middle" stroke="none" fill="#333333">${escapeXml(xTicks.labels[i])}</text></g>`
      )
    })
    out.push(`</g>`)

    out.push(`<g class="axis y-axis${yLog ? " log" : ""}" stroke="#444444">`)
    out.push(`<line x1="${num(left)}" x2="${num(left)}" y1="${num(top)}" y2="${num(plotBottom)}"/>`)
    yTicks.values.forEach((v, i) => {
      const y = num(py(v))
      out.push(
        `<g class="tick" data-value="${v}"><line x1="${num(left - 5)}" x2="${num(left)}" y1="${y}" y2="${y}"/>` +
          `<text x="${num(left - 8)}" y="${y}" dy="0.32em" text-anchor="end" stroke="none" fill="#333333">${escapeXml(yTicks.labels[i])}</text></g>`
      )
    })
    out.push(`</g>`)

    // All bands before all lines, so no series' band covers another series' line.
    out.push(`<g class="bands" stroke="none">`)
    for (const s of prepared) {
      for (const band of s.bands) {
        const upper = band.map((v) => `${num(px(v.x))},${num(py(v.hi))}`)
        const lower = band.map((v) => `${num(px(v.x))},${num(py(v.lo))}`).reverse()
        out.push(`<polygon fill="${s.color}" fill-opacity="0.18" points="${[...upper, ...lower].join(" ")}"/>`)
      }
    }
    out.push(`</g>`)

    out.push(`<g class="lines" fill="none" stroke-width="1.75" stroke-linejoin="round" stroke-linecap="round">`)
    for (const s of prepared) {
      const dash = s.dash === "" ? "" : ` stroke-dasharray="${s.dash}"`
      for (const seg of s.segments) {
        if (seg.length === 1) {
          // A lone point between gaps would be an invisible zero-length line; show it as a dot.
          out.push(`<circle cx="${num(px(seg[0].x))}" cy="${num(py(seg[0].y))}" r="2.5" fill="${s.color}" stroke="none"/>`)
        } else {
          const pts = seg.map((v) => `${num(px(v.x))},${num(py(v.y))}`).join(" ")
          out.push(`<polyline stroke="${s.color}"${dash} points="${pts}"/>`)
        }
      }
    }
    out.push(`</g>`)
  } else {
    const message =
      prepared.length === 0
        ? "No series to plot."
        : logScale && skippedValues + skippedBounds > 0
          ? "No positive values to plot on a log scale."
          : "No finite values to plot."
    out.push(
      `<rect class="empty" x="${num(left)}" y="${num(top)}" width="${num(plotW)}" height="${num(plotH)}" fill="none" stroke="#cccccc"/>`
    )
    out.push(
      `<text class="message" x="${num(left + plotW / 2)}" y="${num(top + plotH / 2)}" text-anchor="middle" fill="#666666">${message}</text>`
    )
  }

  out.push(
    `<text class="x-label" x="${num(left + plotW / 2)}" y="${num(plotBottom + 38)}" text-anchor="middle" fill="#222222">${escapeXml(xLabel)}</text>`
  )
  if (yLabel !== undefined) {
    const cx = 16
    const cy = top + plotH / 2
    out.push(
      `<text class="y-label" x="${num(cx)}" y="${num(cy)}" transform="rotate(-90 ${num(cx)} ${num(cy)})" text-anchor="middle" dy="0.32em" fill="#222222">${escapeXml(yLabel)}</text>`
    )
  }

  if (legendItems.length > 0) {
    const legendTop = plotBottom + 52
    out.push(`<g class="legend">`)
    legendItems.forEach((item, i) => {
      const { x, row: r } = legendPositions[i]
      const y = legendTop + r * LEGEND_ROW
      const dash = item.s.dash === "" ? "" : ` stroke-dasharray="${item.s.dash}"`
      out.push(
        `<g class="legend-item"><title>${escapeXml(item.s.label)}</title>` +
          `<line x1="${num(x)}" x2="${num(x + 22)}" y1="${num(y)}" y2="${num(y)}" stroke="${item.s.color}" stroke-width="3"${dash}/>` +
          `<text x="${num(x + 28)}" y="${num(y)}" dy="0.32em" fill="#222222">${escapeXml(item.text)}</text></g>`
      )
    })
    out.push(`</g>`)
  }

  notes.forEach((note, i) => {
    const y = height - 8 - (notes.length - 1 - i) * 16
    out.push(`<text class="note" x="${num(width - 8)}" y="${num(y)}" text-anchor="end" font-size="11" fill="#666666">${escapeXml(note)}</text>`)
  })

  out.push(`</svg>`)
  return out.join("\n")
}
