/**
 * Compare 2 to 100 runs: overlaid charts (one request per metric for every run), the params side by
 * side with differing ones marked, a scatter of a param against a metric (uPlot, points only),
 * parallel coordinates (a small SVG of lines: uPlot has no parallel axes), and the stats of two
 * filter-defined groups (`POST /api/runledger/stats`).
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks"
import type uPlot from "uplot"
import { api, type GroupComparison, num, type RunComparison } from "../api/client.ts"
import { useLoad } from "../api/useLoad.ts"
import { Chart, ChartControls, color, type XMode } from "../components/Chart.tsx"
import { useColorScheme } from "../components/useColorScheme.ts"
import { useUplot } from "../components/useUplot.ts"
import { value } from "../format.ts"
import { href, type Location, navigate } from "../router.ts"

export function Compare({ loc }: { readonly loc: Location }) {
  const ids = (loc.query.get("runs") ?? "").split(",").filter((s) => s !== "")
  const [view, setView] = useState<{ xMode: XMode; logY: boolean; smoothing: number }>({ xMode: "step", logY: false, smoothing: 0 })
  const metricParam = loc.query.get("metric")
  const { value: cmp, error } = useLoad(ids.length < 2 || ids.length > 100 ? null : (signal) => api.compare(ids, signal), [ids.join(",")])
  const names = useMemo(() => (cmp ? Object.fromEntries(cmp.runs.map((r) => [r.runId, r.runName])) : undefined), [cmp])
  if (ids.length < 2 || ids.length > 100) return <p class="error" role="alert">Compare takes 2 to 100 runs (got {ids.length}): select them in the runs table.</p>
  if (error) return <p class="error" role="alert">{error}</p>
  // A metric named in the URL is fetched while the comparison loads (its histories and the
  // comparison side by side, not one after the other); it is drawn once the run names are in.
  if (!cmp && !metricParam) return <p class="hint">Loading…</p>
  const metricKeys = cmp ? cmp.metrics.map((m) => m.key) : []
  const shown = metricParam && (!cmp || metricKeys.includes(metricParam)) ? [metricParam] : metricKeys.slice(0, 4)
  const setMetric = (m: string | undefined) => navigate(href("/compare", { runs: ids.join(","), metric: m }), true)
  return (
    <section>
      <h1>Compare {ids.length} runs</h1>
      {cmp ? (
        <ul class="legend" aria-label="Runs">
          {cmp.runs.map((r, i) => (
            <li key={r.runId + i}>
              <span class="swatch" style={{ background: color(i) }} /> <a href={`/runs/${encodeURIComponent(r.runId)}`}>{r.runName}</a> <span class="hint">{r.status}</span>
            </li>
          ))}
        </ul>
      ) : <p class="hint">Loading…</p>}
      <h2>Charts</h2>
      <div class="controls">
        <label>
          metric{" "}
          <select value={metricParam ?? ""} onChange={(e) => setMetric((e.currentTarget as HTMLSelectElement).value || undefined)}>
            <option value="">first {Math.min(4, metricKeys.length)}</option>
            {metricKeys.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <ChartControls {...view} onChange={setView} />
      </div>
      <div class="charts">
        {shown.map((m) => (
          <Chart key={m} runIds={ids} metric={m} names={names} {...view} />
        ))}
      </div>
      {cmp ? <CompareTables cmp={cmp} metricKeys={metricKeys} /> : null}
    </section>
  )
}

/** The params side by side, a param against a metric, and the group statistics. */
function CompareTables({ cmp, metricKeys }: { readonly cmp: RunComparison; readonly metricKeys: ReadonlyArray<string> }) {
  return (
    <>
      <h2>Params</h2>
      {/* A column a run: with many runs the table scrolls sideways in its own box, not the page. */}
      <div class="wide" role="region" aria-label="Params, scrolls sideways" tabIndex={0}>
        <table class="grid" aria-label="Params side by side">
          <thead>
            <tr>
              <th scope="col">param</th>
              {cmp.runs.map((r, i) => <th key={i} scope="col">{r.runName}</th>)}
            </tr>
          </thead>
          <tbody>
            {cmp.params.map((p) => (
              <tr key={p.key} class={p.differs ? "differs" : ""}>
                <th scope="row">{p.key}{p.differs ? <span class="badge"> differs</span> : null}</th>
                {p.values.map((v, i) => <td key={i}>{v ?? "—"}</td>)}
              </tr>
            ))}
            {cmp.metrics.map((m) => (
              <tr key={`m:${m.key}`}>
                <th scope="row">{m.key} <span class="hint">(last)</span></th>
                {m.values.map((v, i) => <td key={i} class="num">{v ? value(num(v.last)) : "—"}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ParamsVsMetric cmp={cmp} />
      <Stats experiments={[...new Set(cmp.runs.map((r) => r.experimentId))]} metrics={metricKeys} />
    </>
  )
}

/** A param's values on an axis: numbers as they are, anything else by its rank among the distinct values. */
const axisOf = (values: ReadonlyArray<string | null>) => {
  const numeric = values.every((v) => v === null || (v.trim() !== "" && Number.isFinite(Number(v))))
  if (numeric) return { at: (v: string | null) => (v === null ? null : Number(v)), labels: null as string[] | null }
  const labels = [...new Set(values.filter((v): v is string => v !== null))].sort()
  return { at: (v: string | null) => (v === null ? null : labels.indexOf(v)), labels }
}

function ParamsVsMetric({ cmp }: { readonly cmp: RunComparison }) {
  const [param, setParam] = useState(cmp.params.find((p) => p.differs)?.key ?? cmp.params[0]?.key ?? "")
  const [metric, setMetric] = useState(cmp.metrics[0]?.key ?? "")
  const scatter = useRef<HTMLDivElement>(null)
  const lib = useUplot()
  const scheme = useColorScheme()
  /** The point under (nearest to) the cursor: its run is named below the chart and in the plot's title. */
  const [hovered, setHovered] = useState<{ readonly x: number; readonly y: number; readonly i: number } | null>(null)
  const p = cmp.params.find((x) => x.key === param)
  const m = cmp.metrics.find((x) => x.key === metric)
  const points = useMemo(() => {
    if (!p || !m) return null
    const ax = axisOf(p.values)
    const pts = cmp.runs.map((_, i) => ({ x: ax.at(p.values[i]), y: m.values[i] ? num(m.values[i]!.last) : null, i })).filter((q) => q.x !== null && q.y !== null) as Array<{ x: number; y: number; i: number }>
    pts.sort((a, b) => a.x - b.x)
    return { pts, labels: ax.labels }
  }, [param, metric, cmp])

  useEffect(() => {
    const el = scatter.current
    setHovered(null)
    const UPlot = lib.uPlot
    if (!el || !points || points.pts.length === 0 || UPlot === undefined) return
    const pts = points.pts
    const fg = getComputedStyle(document.documentElement).getPropertyValue("--fg").trim() || "#111"
    const u = new UPlot(
      {
        title: `${metric} by ${param}`,
        width: Math.max(300, el.clientWidth),
        height: 260,
        scales: { x: { time: false } },
        series: [{ label: param }, { label: metric, stroke: color(0), paths: () => null, points: { show: true, size: 8, fill: color(0, 0.6) } }],
        axes: [
          { label: param, stroke: fg, ...(points.labels ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => (Number.isInteger(t) ? (points.labels![t] ?? "") : "")) } : {}) },
          { label: metric, stroke: fg }
        ],
        hooks: {
          // uPlot's cursor snaps to an x index, which is ambiguous when runs share a param value:
          // the run is the point nearest the cursor in pixels.
          setCursor: [
            (u) => {
              const { left, top } = u.cursor
              if (left === undefined || top === undefined || left < 0 || top < 0) return setHovered(null)
              let nearest = pts[0]
              let best = Infinity
              for (const q of pts) {
                const d = (u.valToPos(q.x, "x") - left) ** 2 + (u.valToPos(q.y, "y") - top) ** 2
                if (d < best) {
                  best = d
                  nearest = q
                }
              }
              setHovered(nearest)
            }
          ]
        }
      },
      [points.pts.map((q) => q.x), points.pts.map((q) => q.y)],
      el
    )
    return () => u.destroy()
  }, [points, lib.uPlot, scheme])

  // Set on the plot's cursor layer, so the browser's own tooltip names the run too.
  const hoverText = hovered && p && m
    ? `${cmp.runs[hovered.i].runName}: ${param} = ${p.values[hovered.i] ?? "—"}, ${metric} = ${value(hovered.y)}`
    : null
  useEffect(() => {
    const over = scatter.current?.querySelector<HTMLElement>(".u-over")
    if (over) over.title = hoverText ?? ""
  }, [hoverText])

  if (cmp.params.length === 0 || cmp.metrics.length === 0) return null
  return (
    <section>
      <h2>A param against a metric</h2>
      <div class="controls">
        <label>
          param{" "}
          <select value={param} onChange={(e) => setParam((e.currentTarget as HTMLSelectElement).value)}>
            {cmp.params.map((q) => <option key={q.key} value={q.key}>{q.key}</option>)}
          </select>
        </label>
        <label>
          metric{" "}
          <select value={metric} onChange={(e) => setMetric((e.currentTarget as HTMLSelectElement).value)}>
            {cmp.metrics.map((q) => <option key={q.key} value={q.key}>{q.key}</option>)}
          </select>
        </label>
      </div>
      {lib.error ? <p class="error" role="alert">{lib.error}</p> : null}
      <div ref={scatter} class="chart-host" aria-label={`Scatter of ${metric} against ${param}`} />
      <p class="hint scatter-point" data-testid="scatter-point" aria-live="polite">{hoverText ?? "Point at a dot to name its run."}</p>
      <h3>Parallel coordinates</h3>
      <Parallel cmp={cmp} metric={metric} />
    </section>
  )
}

/** A tick's label, cut to fit between two axes (the whole text stays in its tooltip). */
const tickText = (s: string): string => (s.length > 12 ? `${s.slice(0, 11)}…` : s)

/**
 * An axis's ticks: its min, middle and max. A numeric axis labels the values there; a categorical
 * one (ranks of the sorted distinct values) labels its first, middle and last category at their
 * own positions. One distinct value is one tick, in the middle.
 */
const ticksOf = (lo: number, hi: number, labels: ReadonlyArray<string> | null): ReadonlyArray<{ readonly at: number; readonly text: string }> => {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return []
  if (labels !== null) {
    const ranks = [...new Set([lo, Math.round((lo + hi) / 2), hi])]
    return ranks.map((r) => ({ at: r, text: labels[r] ?? "" }))
  }
  if (hi === lo) return [{ at: lo, text: value(lo) }]
  return [lo, (lo + hi) / 2, hi].map((v) => ({ at: v, text: value(v) }))
}

/**
 * Every param as a vertical axis and the chosen metric last; one line per run (SVG: uPlot has no
 * parallel axes). Each axis is labelled with its min, middle and max to its left, so a line's
 * height reads as a value; the metric's axis is named as the metric's last value.
 */
function Parallel({ cmp, metric }: { readonly cmp: RunComparison; readonly metric: string }) {
  const m = cmp.metrics.find((x) => x.key === metric)
  if (!m) return null
  const axes = [
    ...cmp.params.map((p) => ({ label: p.key, metric: false, ...axisOf(p.values), values: p.values as ReadonlyArray<string | null> })),
    { label: `${metric} (last)`, metric: true, at: (v: string | null) => (v === null ? null : Number(v)), labels: null, values: m.values.map((v) => (v ? String(num(v.last)) : null)) }
  ]
  // Room on the left of each axis for its tick labels (the first axis's too), and at either end for
  // half of the first and last axis names, which are centred under their axes (about 6.5 px a character).
  const halfName = (label: string) => Math.ceil(label.length * 3.3) + 4
  const left = Math.max(80, halfName(axes[0].label))
  const right = Math.max(24, halfName(axes[axes.length - 1].label))
  const W = Math.max(320, left + right + (axes.length - 1) * 130)
  const H = 240
  const pad = 24
  const xOf = (k: number) => left + (k * (W - left - right)) / Math.max(1, axes.length - 1)
  const scales = axes.map((a) => {
    const finite = a.values.map((v) => a.at(v)).filter((v): v is number => v !== null && Number.isFinite(v))
    const lo = finite.reduce((x, y) => Math.min(x, y), Infinity)
    const hi = finite.reduce((x, y) => Math.max(x, y), -Infinity)
    const y = (v: number) => (hi === lo ? H / 2 : H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad))
    return { y, ticks: ticksOf(lo, hi, a.labels) }
  })
  const scaled = axes.map((a, k) => a.values.map((v) => a.at(v)).map((v) => (v === null || !Number.isFinite(v) ? null : scales[k].y(v))))
  return (
    <svg class="parallel" width={W} height={H + 20} viewBox={`0 0 ${W} ${H + 20}`} role="img" aria-label={`Parallel coordinates of the params and ${metric}`}>
      {axes.map((a, k) => (
        <g key={a.label}>
          <line x1={xOf(k)} x2={xOf(k)} y1={pad} y2={H - pad} class="axis" />
          <text x={xOf(k)} y={H + 12} text-anchor="middle" class={a.metric ? "axis-label metric" : "axis-label"}>{a.label}</text>
        </g>
      ))}
      {cmp.runs.map((r, i) => {
        const pts = axes.map((_, k) => (scaled[k][i] === null ? null : `${xOf(k)},${scaled[k][i]}`)).filter((s) => s !== null)
        return <polyline key={r.runId + i} points={pts.join(" ")} fill="none" stroke={color(i)} stroke-width="1.5"><title>{r.runName}</title></polyline>
      })}
      {/* The ticks last, over the lines: each label has a halo of the background, so it stays readable where lines cross it. */}
      {axes.map((a, k) => (
        <g key={a.label} class="ticks" data-axis={a.label}>
          {scales[k].ticks.map((t) => (
            <g key={t.at}>
              <line x1={xOf(k) - 4} x2={xOf(k)} y1={scales[k].y(t.at)} y2={scales[k].y(t.at)} class="axis" />
              <text x={xOf(k) - 6} y={scales[k].y(t.at)} dy="0.32em" text-anchor="end" class="tick">
                {tickText(t.text)}
                {tickText(t.text) === t.text ? null : <title>{t.text}</title>}
              </text>
            </g>
          ))}
        </g>
      ))}
    </svg>
  )
}

function Stats({ experiments, metrics }: { readonly experiments: ReadonlyArray<string>; readonly metrics: ReadonlyArray<string> }) {
  const [a, setA] = useState("")
  const [b, setB] = useState("")
  const [metric, setMetric] = useState(metrics[0] ?? "")
  const [result, setResult] = useState<GroupComparison | null>(null)
  const [error, setError] = useState<string | null>(null)
  return (
    <section>
      <h2>Two groups: is the difference real?</h2>
      <form
        class="stats"
        onSubmit={(e) => {
          e.preventDefault()
          setError(null)
          setResult(null)
          api.stats({ experiments, a, b, metric }).then(setResult, (x: Error) => setError(x.message))
        }}
      >
        <label>Group A filter <input name="a" value={a} onInput={(e) => setA((e.currentTarget as HTMLInputElement).value)} placeholder={`params.lr = "0.01"`} /></label>
        <label>Group B filter <input name="b" value={b} onInput={(e) => setB((e.currentTarget as HTMLInputElement).value)} placeholder={`params.lr = "0.1"`} /></label>
        <label>
          metric{" "}
          <select value={metric} onChange={(e) => setMetric((e.currentTarget as HTMLSelectElement).value)}>
            {metrics.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <button type="submit">Compare groups</button>
      </form>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {result ? (
        <div class="stats-result" aria-live="polite">
          <p>
            A: {result.a.runs} runs, mean {value(num(result.a.mean))}{result.a.excluded ? ` (${result.a.excluded} excluded: not finite)` : ""}; B: {result.b.runs} runs, mean {value(num(result.b.mean))}
            {result.b.excluded ? ` (${result.b.excluded} excluded)` : ""}.
          </p>
          <p>
            Difference of means {value(num(result.bootstrap.difference))}, {Math.round(result.bootstrap.confidence * 100)}% interval [{value(num(result.bootstrap.lower))}, {value(num(result.bootstrap.upper))}];
            Welch's t-test p = {value(num(result.welch.pValue))}.
          </p>
          <p>
            <strong>
              {result.verdict.welchSignificant && result.verdict.intervalExcludesZero
                ? `Significant at alpha = ${value(result.verdict.alpha)}: both methods agree.`
                : !result.verdict.welchSignificant && !result.verdict.intervalExcludesZero
                  ? `Not significant at alpha = ${value(result.verdict.alpha)}: both methods agree.`
                  : `The methods disagree at alpha = ${value(result.verdict.alpha)}: treat it as inconclusive.`}
            </strong>
          </p>
          {result.warnings.map((w) => <p key={w} class="warning" role="note">⚠ {w}</p>)}
        </div>
      ) : null}
    </section>
  )
}
