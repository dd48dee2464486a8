import { Command, Flag } from "effect/cli"
import { formatDuration, formatNumber, formatTime, table, toJson } from "../format.ts"
import { out, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const runs = Command.make(
  "runs",
  {
    experiment: Flag.String("experiment").pipe(Flag.withAlias("e"), Flag.withDescription("Only runs of this experiment (name or id)"), Flag.optional),
    json: jsonFlag
  },
  ({ experiment, json }) =>
    withTracker(async (tracker) => {
      const list = await tracker.listRuns(experiment._tag === "Some" ? { experiment: experiment.value } : {})
      if (json) return out(toJson(list))
      if (list.length === 0) return out("No runs yet.")
      out(
        table(
          ["ID", "NAME", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "METRICS"],
          list.map((r) => [
            r.id.slice(0, 12),
            r.name,
            r.experiment,
            r.status,
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
).pipe(Command.withDescription("List runs, newest first"))
