import { NotFound } from "@runledger/core"
import { Argument, Command } from "effect/cli"
import { formatNumber, formatTime, table, toJson } from "../format.ts"
import { out, resolveRun, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const history = Command.make(
  "history",
  {
    run: Argument.String("run").pipe(Argument.withDescription("Run id, unique id prefix, or name")),
    key: Argument.String("key").pipe(Argument.withDescription("Metric key")),
    json: jsonFlag
  },
  ({ run, key, json }) =>
    withTracker(async (tracker) => {
      const r = await resolveRun(tracker, run)
      const points = await tracker.metricHistory(r.id, key)
      if (points.length === 0 && !(key in r.metrics)) {
        const known = Object.keys(r.metrics)
        throw new NotFound({
          kind: "metric",
          id: key,
          message: `Run ${r.id} has no metric ${JSON.stringify(key)}${known.length > 0 ? `; it has ${known.join(", ")}` : ""}.`
        })
      }
      if (json) return out(toJson(points))
      out(table(["STEP", "VALUE", "TIME"], points.map((p) => [String(p.step), formatNumber(p.value), formatTime(p.timestamp)])))
    })
).pipe(Command.withDescription("Print every logged point of one metric of a run, by step"))
