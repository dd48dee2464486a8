import { Command, Flag } from "effect/cli"
import { formatNumber, listingJson, table } from "../format.ts"
import { experimentsFlag, out, withAnalytics } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const rank = Command.make(
  "rank",
  {
    metric: Flag.String("metric").pipe(Flag.withAlias("m"), Flag.withDescription("The metric to rank by")),
    goal: Flag.Literals("goal", ["min", "max"]).pipe(Flag.withDescription("Whether lower or higher is better")),
    by: Flag.Literals("by", ["last", "min", "max"]).pipe(Flag.withDescription("Each run's latest value, or its min or max over its history"), Flag.withDefault("last" as const)),
    normalize: Flag.Literals("normalize", ["zscore", "percentile", "minmax"]).pipe(Flag.withDescription("Also a normalized score (higher is better)"), Flag.optional),
    experiment: experimentsFlag,
    top: Flag.Int("top").pipe(Flag.withDescription("Only the best N"), Flag.optional),
    json: jsonFlag
  },
  ({ metric, goal, by, normalize, experiment, top, json }) =>
    withAnalytics(async (tracker) => {
      const ranked = await tracker.rankRuns({
        metric,
        goal,
        by,
        ...(normalize._tag === "Some" ? { normalize: normalize.value } : {}),
        ...(experiment.length > 0 ? { experiments: experiment } : {}),
        ...(top._tag === "Some" ? { limit: top.value } : {})
      })
      if (json) return out(listingJson("runs", ranked))
      if (ranked.length === 0) return out(`No run has a value of ${metric}.`)
      const header = ["RANK", "RUN", "ID", `${metric.toUpperCase()} (${by})`, ...(normalize._tag === "Some" ? [normalize.value.toUpperCase()] : [])]
      out(table(header, ranked.map((r) => [String(r.rank), r.runName, r.runId.slice(0, 12), formatNumber(r.score), ...(normalize._tag === "Some" ? [r.normalized == null ? "-" : formatNumber(r.normalized)] : [])])))
    })
).pipe(Command.withDescription("Rank runs by a metric, best first, optionally with a normalized score"))
