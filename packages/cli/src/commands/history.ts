import { NotFound } from "@runledger/core"
import { Argument, Command, Flag } from "effect/cli"
import { formatNumber, formatTime, listingJson, table } from "../format.ts"
import { out, outExact, resolveRun, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const history = Command.make(
  "history",
  {
    run: Argument.String("run").pipe(Argument.withDescription("Run id, unique id prefix, or name")),
    key: Argument.String("key").pipe(Argument.withDescription("Metric key")),
    all: Flag.Boolean("all").pipe(Flag.withDescription("Also the points a resume set aside (marked superseded)"), Flag.withDefault(false)),
    json: jsonFlag
  },
  ({ run, key, all, json }) =>
    withTracker(async (tracker) => {
      const r = await resolveRun(tracker, run)
      const points = await tracker.metricHistory(r.id, key, { all })
      if (points.length === 0 && !(key in r.metrics)) {
        const known = Object.keys(r.metrics)
        throw new NotFound({
          kind: "metric",
          id: key,
          message: `Run ${r.id} has no metric ${JSON.stringify(key)}${known.length > 0 ? `; it has ${known.join(", ")}` : ""}.`
        })
      }
      if (json) return outExact(listingJson("points", points))
      const header = all ? ["STEP", "VALUE", "TIME", "SUPERSEDED"] : ["STEP", "VALUE", "TIME"]
      out(table(header, points.map((p) => [String(p.step), formatNumber(p.value), formatTime(p.timestamp), ...(all ? [p.superseded ? "yes" : "-"] : [])])))
    })
).pipe(Command.withDescription("Print every logged point of one metric of a run, by step"))
