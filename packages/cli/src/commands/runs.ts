import { Argument, Command, Flag } from "effect/cli"
import { formatDuration, formatNumber, formatTime, table, toJson } from "../format.ts"
import { asOfFlag, out, parseAsOf, resolveRun, viewFlag, withTracker } from "./common.ts"
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

export const runs = Command.make(
  "runs",
  {
    experiment: Flag.String("experiment").pipe(Flag.withAlias("e"), Flag.withDescription("Only runs of this experiment (name or id)"), Flag.optional),
    parent: Flag.String("parent").pipe(Flag.withDescription("Only the child runs of this run (id, prefix or name)"), Flag.optional),
    view: viewFlag,
    asOf: asOfFlag,
    json: jsonFlag
  },
  ({ experiment, parent, view, asOf, json }) =>
    withTracker(async (tracker) => {
      const at = parseAsOf(asOf)
      const parentRunId = parent._tag === "Some" ? (await resolveRun(tracker, parent.value, at)).id : undefined
      const list = await tracker.listRuns({
        ...(experiment._tag === "Some" ? { experiment: experiment.value } : {}),
        ...(parentRunId ? { parentRunId } : {}),
        viewType: view,
        ...(at ? { asOf: at } : {})
      })
      if (json) return out(toJson(list))
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
    })
).pipe(
  Command.withDescription("List runs, newest first; `runs delete|restore RUN` manage them"),
  Command.withSubcommands([remove, restore])
)
