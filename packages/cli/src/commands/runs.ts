import { Argument, Command, Flag } from "effect/cli"
import { formatDuration, formatNumber, formatTime, listingJson, table } from "../format.ts"
import type { RunView } from "@runledger/core"
import { asOfFlag, experimentsFlag, out, outExact, parseAsOf, resolveRun, viewFlag, withAnalytics, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

const runArg = Argument.String("run").pipe(Argument.withDescription("Run id, unique id prefix, or name"))

const remove = Command.make("delete", { run: runArg }, ({ run }) =>
  withTracker(async (tracker) => {
    const r = await resolveRun(tracker, run)
    await tracker.deleteRun(r.id)
    out(`Deleted run ${r.id} (${r.name}). It stays in the log; \`runledger runs restore ${r.id.slice(0, 12)}\` brings it back.`)
  })
).pipe(Command.withDescription("Delete a run (a soft delete, recorded as an event)"))

const restore = Command.make("restore", { run: runArg }, ({ run }) =>
  withTracker(async (tracker) => {
    const r = await resolveRun(tracker, run)
    await tracker.restoreRun(r.id)
    out(`Restored run ${r.id} (${r.name}).`)
  })
).pipe(Command.withDescription("Restore a deleted run"))

const toCsv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [header, ...rows].map((r) => r.map((v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(",")).join("\n")

const numberText = (x: number | undefined): string => (x === undefined ? "" : Number.isNaN(x) ? "NaN" : String(x))

export const runs = Command.make(
  "runs",
  {
    experiment: experimentsFlag,
    filter: Flag.String("filter").pipe(Flag.withAlias("f"), Flag.withDescription("MLflow search syntax, plus OR/NOT/parentheses: \"metrics.acc > 0.9 and params.model = 'mlp'\""), Flag.optional),
    orderBy: Flag.String("order-by").pipe(Flag.withDescription("e.g. \"metrics.acc DESC\" (repeatable); missing values sort last"), Flag.atLeast(0)),
    max: Flag.Int("max").pipe(Flag.withDescription("Page size (default 1000 with --filter/--order-by)"), Flag.optional),
    pageToken: Flag.String("page-token").pipe(Flag.withDescription("The next page, from a previous --json listing"), Flag.optional),
    parent: Flag.String("parent").pipe(Flag.withDescription("Only the child runs of this run (id, prefix or name)"), Flag.optional),
    view: viewFlag,
    asOf: asOfFlag,
    json: jsonFlag,
    csv: Flag.Boolean("csv").pipe(Flag.withDescription("Print CSV: attributes, params.*, metrics.* (latest), tags.*"), Flag.withDefault(false))
  },
  ({ experiment, filter, orderBy, max, pageToken, parent, view, asOf, json, csv }) => {
    const searching = filter._tag === "Some" || orderBy.length > 0 || max._tag === "Some" || pageToken._tag === "Some"
    const run = searching ? withAnalytics : withTracker
    return run(async (tracker) => {
      const at = parseAsOf(asOf)
      if (searching && (at || parent._tag === "Some")) throw new RangeError("--as-of and --parent list from the log; they do not combine with --filter, --order-by, --max or --page-token.")
      let list: ReadonlyArray<RunView>
      let nextPageToken: string | null = null
      if (searching) {
        const found = await tracker.searchRuns({
          ...(experiment.length > 0 ? { experiments: experiment } : {}),
          ...(filter._tag === "Some" ? { filter: filter.value } : {}),
          ...(orderBy.length > 0 ? { orderBy } : {}),
          ...(max._tag === "Some" ? { maxResults: max.value } : {}),
          ...(pageToken._tag === "Some" ? { pageToken: pageToken.value } : {}),
          viewType: view
        })
        list = found.runs
        nextPageToken = found.nextPageToken
      } else {
        if (experiment.length > 1) throw new RangeError("Give one --experiment when listing without --filter (or add --filter '' to search several).")
        const parentRunId = parent._tag === "Some" ? (await resolveRun(tracker, parent.value, at)).id : undefined
        list = await tracker.listRuns({
          ...(experiment.length === 1 ? { experiment: experiment[0] } : {}),
          ...(parentRunId ? { parentRunId } : {}),
          viewType: view,
          ...(at ? { asOf: at } : {})
        })
      }
      if (json) return outExact(listingJson("runs", list, { nextPageToken }))
      // CSV is a machine format, exact like --json (a field may hold any text; quoting keeps it whole).
      if (csv) {
        const params = [...new Set(list.flatMap((r) => Object.keys(r.params)))].sort()
        const metrics = [...new Set(list.flatMap((r) => Object.keys(r.metrics)))].sort()
        const tags = [...new Set(list.flatMap((r) => Object.keys(r.tags)))].sort()
        const header = ["run_id", "run_name", "experiment", "status", "start_time", "end_time", ...params.map((k) => `params.${k}`), ...metrics.map((k) => `metrics.${k}`), ...tags.map((k) => `tags.${k}`)]
        return outExact(
          toCsv(
            header,
            list.map((r) => [
              r.id,
              r.name,
              r.experiment,
              r.status,
              String(r.startTime),
              r.endTime === null ? "" : String(r.endTime),
              ...params.map((k) => (k in r.params ? String(r.params[k]) : "")),
              ...metrics.map((k) => numberText(r.metrics[k])),
              ...tags.map((k) => r.tags[k] ?? "")
            ])
          )
        )
      }
      if (list.length === 0) return out("No runs.")
      out(
        table(
          ["ID", "NAME", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "METRICS"],
          list.map((r) => [
            r.id.slice(0, 12),
            r.name,
            r.experiment,
            r.lifecycle === "deleted" ? `${r.status} (deleted)` : r.status,
            formatTime(r.startTime),
            formatDuration(r.endTime === null ? null : r.endTime - r.startTime),
            Object.entries(r.metrics)
              .slice(0, 4)
              .map(([k, v]) => `${k}=${formatNumber(v)}`)
              .join(" ")
          ])
        )
      )
      if (nextPageToken !== null) out(`More runs: add --page-token ${nextPageToken}`)
    })
  }
).pipe(
  Command.withDescription("List or search runs (newest first, or --order-by); `runs delete|restore RUN` manage them"),
  Command.withSubcommands([remove, restore])
)
