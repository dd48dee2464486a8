import { invalid } from "@runledger/core"
import type { ExportFormat } from "@runledger/readmodel-duckdb"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { extname } from "node:path"
import { experimentsFlag, out, viewFlag, withAnalytics } from "./common.ts"

/** The extensions each format is known by (`.feather` is Feather v2, which is the Arrow IPC file format we write). */
const EXTENSIONS: ReadonlyArray<readonly [string, ExportFormat]> = [
  [".parquet", "parquet"],
  [".arrow", "arrow"],
  [".feather", "arrow"],
  [".csv", "csv"]
]
const KNOWN = EXTENSIONS.map(([ext]) => ext).join(", ")

/**
 * The format to write `file` in: the one its extension names. `--format` may say it too, or name
 * the format of a file whose extension we do not know; a `--format` that contradicts the extension
 * is refused, and so is an unknown extension without `--format`, so a file's name never lies
 * about its bytes (x.csv holding Parquet).
 */
export const exportFormatFor = (file: string, format: Option.Option<ExportFormat>): ExportFormat => {
  const ext = extname(file).toLowerCase()
  const implied = EXTENSIONS.find(([e]) => e === ext)?.[1]
  if (Option.isSome(format)) {
    if (implied !== undefined && implied !== format.value) {
      throw invalid("format", `--out ${JSON.stringify(file)} has the extension ${ext} (${implied}) but --format is ${format.value}; give a file name ending in the format's extension, or drop --format.`)
    }
    return format.value
  }
  if (implied === undefined) {
    throw invalid(
      "format",
      `Cannot tell the format of --out ${JSON.stringify(file)} from its ${ext === "" ? "missing extension" : `extension ${ext}`}; name the file with one of ${KNOWN}, or add --format parquet|arrow|csv.`
    )
  }
  return implied
}

export const exportRuns = Command.make(
  "export",
  {
    format: Flag.Literals("format", ["parquet", "arrow", "csv"]).pipe(
      Flag.withDescription(`File format; default: the one --out's extension names (${KNOWN})`),
      Flag.optional
    ),
    out: Flag.String("out").pipe(Flag.withAlias("o"), Flag.withDescription("The file to write (its extension sets the format)")),
    filter: Flag.String("filter").pipe(Flag.withAlias("f"), Flag.withDescription("Only the runs this filter selects (MLflow search syntax)"), Flag.optional),
    orderBy: Flag.String("order-by").pipe(Flag.withDescription("Row order, e.g. \"metrics.acc DESC\" (repeatable)"), Flag.atLeast(0)),
    experiment: experimentsFlag,
    view: viewFlag
  },
  ({ format: given, out: file, filter, orderBy, experiment, view }) =>
    // Decided before the store is opened: a refused export reads and writes nothing.
    Effect.try({ try: () => exportFormatFor(file, given), catch: (e) => e }).pipe(
      Effect.andThen((format) =>
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
      )
    )
).pipe(Command.withDescription("Export runs (attributes, params.*, metrics.* latest, tags.*) as Parquet, Arrow or CSV, by --out's extension"))
