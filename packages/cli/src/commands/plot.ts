import { lineChartSvg } from "@runledger/query"
import { Argument, Command, Flag } from "effect/cli"
import { promises as fs } from "node:fs"
import { resolve } from "node:path"
import { out, resolveRun, withAnalytics } from "./common.ts"

export const plot = Command.make(
  "plot",
  {
    runs: Argument.String("run").pipe(Argument.withDescription("Runs to compare (id, prefix or name)"), Argument.atLeast(1)),
    metric: Flag.String("metric").pipe(Flag.withAlias("m"), Flag.withDescription("The metric to chart")),
    out: Flag.String("out").pipe(Flag.withAlias("o"), Flag.withDescription("The SVG file to write"), Flag.withDefault("chart.svg")),
    logScale: Flag.Boolean("log").pipe(Flag.withDescription("Logarithmic y axis"), Flag.withDefault(false)),
    points: Flag.Int("points").pipe(Flag.withDescription("At most this many buckets per run (downsampled on read)"), Flag.withDefault(1000)),
    width: Flag.Int("width").pipe(Flag.withDefault(800)),
    height: Flag.Int("height").pipe(Flag.withDefault(480))
  },
  ({ runs, metric, out: file, logScale, points, width, height }) =>
    withAnalytics(async (tracker) => {
      const resolved = await Promise.all(runs.map((r) => resolveRun(tracker, r)))
      const series = await Promise.all(
        resolved.map(async (r) => ({
          label: `${r.name} (${r.id.slice(0, 8)})`,
          points: (await tracker.downsampledHistory(r.id, metric, { maxPoints: points })).map((b) => ({ step: b.step, value: b.last, min: b.min, max: b.max }))
        }))
      )
      const empty = series.filter((s) => s.points.length === 0).map((s) => s.label)
      if (empty.length === series.length) throw new RangeError(`None of these runs logged ${JSON.stringify(metric)}.`)
      const svg = lineChartSvg({ series, title: metric, yLabel: metric, logScale, width, height })
      const path = resolve(file)
      await fs.writeFile(path, svg)
      out(`Wrote ${path} (${series.length} run(s)${empty.length > 0 ? `; no ${metric} in ${empty.join(", ")}` : ""}).`)
    })
).pipe(Command.withDescription("Draw an SVG line chart of a metric across runs (downsampled, with min/max bands)"))
