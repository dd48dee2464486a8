/**
 * A tooltip at the chart's cursor, as a uPlot plugin (uPlot draws none of its own): the x under the
 * cursor and each run's value there. Up to TIP_RUNS runs, every one; with more, the TIP_RUNS whose
 * lines pass nearest the cursor, and how many others the legend below lists. Written as text
 * (run names are the users'), never as markup.
 */
import type uPlot from "uplot"

export const TIP_RUNS = 10

/** A run's line: its series in the plot, its name and its colour. */
export interface TipLine {
  readonly series: number
  readonly name: string
  readonly color: string
}

export const cursorTip = (lines: ReadonlyArray<TipLine>, formatX: (x: number) => string, formatY: (y: number) => string): uPlot.Plugin => {
  const tip = document.createElement("div")
  tip.className = "chart-tip"
  tip.setAttribute("role", "tooltip")
  tip.hidden = true
  const row = (swatch: string | null, text: string): HTMLDivElement => {
    const div = document.createElement("div")
    if (swatch !== null) {
      const mark = document.createElement("span")
      mark.className = "swatch"
      mark.style.background = swatch
      div.append(mark)
    }
    div.append(text)
    return div
  }
  return {
    hooks: {
      init: (u) => void u.over.append(tip),
      setCursor: (u) => {
        const { left, top, idx } = u.cursor
        if (idx === null || idx === undefined || left === undefined || top === undefined || left < 0 || top < 0) {
          tip.hidden = true
          return
        }
        const at = (l: TipLine) => u.data[l.series][idx]
        let shown = lines.filter((l) => at(l) !== null && at(l) !== undefined)
        const others = Math.max(0, shown.length - TIP_RUNS)
        if (others > 0) {
          // The lines nearest the cursor, in pixels (so on a log axis too), top to bottom.
          const distance = (l: TipLine) => Math.abs(u.valToPos(at(l)!, "y") - top)
          shown = [...shown].sort((a, b) => distance(a) - distance(b)).slice(0, TIP_RUNS).sort((a, b) => at(b)! - at(a)!)
        }
        tip.replaceChildren(row(null, formatX(u.data[0][idx])), ...shown.map((l) => row(l.color, `${l.name}: ${formatY(at(l)!)}`)))
        if (others > 0) tip.append(row(null, `and ${others} more in the legend`))
        tip.hidden = false
        // Beside the cursor, on whichever side it fits.
        const width = tip.offsetWidth
        const height = tip.offsetHeight
        tip.style.left = `${left + 12 + width > u.over.clientWidth ? Math.max(0, left - 12 - width) : left + 12}px`
        tip.style.top = `${top + 12 + height > u.over.clientHeight ? Math.max(0, top - 12 - height) : top + 12}px`
      }
    }
  }
}
