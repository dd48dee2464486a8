import { Command, Flag } from "effect/cli"
import { experimentsFlag, out, viewFlag, withAnalytics } from "./common.ts"

export const exportRuns = Command.make(
  "export",
  {
    format: Flag.Literals("format", ["parquet", "arrow", "csv"]).pipe(Flag.withDescription("File format"), Flag.withDefault("parquet" as const)),
    out: Flag.String("out").pipe(Flag.withAlias("o"), Flag.withDescription("The file to write")),
    filter: Flag.String("filter").pipe(Flag.withAlias("f"), Flag.withDescription("Only the runs this filter selects (MLflow search syntax)"), Flag.optional),
    orderBy: Flag.String("order-by").pipe(Flag.withDescription("Row order, e.g. \"metrics.acc DESC\" (repeatable)"), Flag.atLeast(0)),
    experiment: experimentsFlag,
    view: viewFlag
  },
  ({ format, out: file, filter, orderBy, experiment, view }) =>
    withAnalytics(async (tracker) => {
      const started = Date.now()
      const r = await tracker.exportRuns({
        format,
        out: file,
        viewType: view,
        ...(filter._tag === "Some" ? { filter: filter.value } : {}),
        ...(orderBy.length > 0 ? { orderBy } : {}),
        ...(experiment.length > 0 ? { experiments: experiment } : {})
      })
      out(`Wrote ${r.rows} run(s) x ${r.columns} column(s) to ${r.path} (${format}) in ${Date.now() - started} ms.`)
    })
).pipe(Command.withDescription("Export runs (attributes, params.*, metrics.* latest, tags.*) as Parquet, Arrow or CSV"))
