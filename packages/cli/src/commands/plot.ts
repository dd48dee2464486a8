import { invalid } from "@runledger/core"
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { promises as fs } from "node:fs"
import { resolve } from "node:path"
import { asOfFlag, err, out, outExact, parseAsOf, resolveRun, withAnalytics } from "./common.ts"

export const plot = Command.make(
  "plot",
  {
    runs: Argument.String("run").pipe(Argument.withDescription("Runs to compare (id, prefix or name)"), Argument.atLeast(1)),
    metric: Flag.String("metric").pipe(Flag.withAlias("m"), Flag.withDescription("The metric to chart")),
    out: Flag.String("out").pipe(
      Flag.withAlias("o"),
      Flag.withDescription("The SVG file to write, or - for stdout; without it the SVG goes to stdout when that is a pipe or a file"),
      Flag.optional
    ),
    logScale: Flag.Boolean("log").pipe(Flag.withDescription("Logarithmic y axis"), Flag.withDefault(false)),
    points: Flag.Int("points").pipe(Flag.withDescription("At most this many buckets per run (downsampled on read)"), Flag.withDefault(1000)),
    width: Flag.Int("width").pipe(Flag.withDescription("Chart width in pixels"), Flag.withDefault(800)),
    height: Flag.Int("height").pipe(Flag.withDescription("Chart height in pixels"), Flag.withDefault(480)),
    asOf: asOfFlag
  },
  ({ runs, metric, out: file, logScale, points, width, height, asOf }) =>
    // Never a chart file nobody asked for (it used to be ./chart.svg), nor SVG markup on a terminal.
    (Option.isNone(file) && process.stdout.isTTY
      ? Effect.fail(invalid("out", "plot writes an SVG chart: give --out FILE.svg, or redirect stdout (runledger plot ... > chart.svg)."))
      : Effect.void).pipe(Effect.andThen(withAnalytics(async (tracker) => {
      const at = parseAsOf(asOf)
      const resolved = await Promise.all(runs.map((r) => resolveRun(tracker, r, at)))
      // One call for every run (at most 100), not one per run.
      const histories = await tracker.downsampledHistories(resolved.map((r) => r.id), metric, { maxPoints: points, ...(at ? { asOf: at } : {}) })
      const series = resolved.map((r, i) => ({
        label: `${r.name} (${r.id.slice(0, 8)})`,
        points: histories[i].buckets.map((b) => ({ step: b.step, value: b.last, min: b.min, max: b.max }))
      }))
      const empty = series.filter((s) => s.points.length === 0).map((s) => s.label)
      if (empty.length === series.length) throw new RangeError(`None of these runs logged ${JSON.stringify(metric)}.`)
      // Imported when the command runs, not at start: a CLI start loads only what the chosen command needs (issue 11).
      const { lineChartSvg } = await import("@runledger/charts")
      const svg = lineChartSvg({ series, title: metric, yLabel: metric, logScale, width, height })
      const missing = empty.length > 0 ? `no ${metric} in ${empty.join(", ")}` : ""
      if (Option.isNone(file) || file.value === "-") {
        outExact(svg)
        if (missing !== "") err(`runledger: ${missing}.`)
        return
      }
      const path = resolve(file.value)
      await fs.writeFile(path, svg)
      out(`Wrote ${path} (${series.length} run(s)${missing !== "" ? `; ${missing}` : ""}).`)
    })))
).pipe(Command.withDescription("Draw an SVG line chart of a metric across runs (downsampled, with min/max bands)"))
