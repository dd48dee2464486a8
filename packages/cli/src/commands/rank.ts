import { NotFound } from "@runledger/core"
import { Command, Flag } from "effect/cli"
import { formatNumber, listingJson, table } from "../format.ts"
import { experimentsFlag, out, outExact, withAnalytics } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const rank = Command.make(
  "rank",
  {
    metric: Flag.String("metric").pipe(Flag.withAlias("m"), Flag.withDescription("The metric to rank by")),
    goal: Flag.Literals("goal", ["min", "max"]).pipe(Flag.withDescription("Whether lower or higher is better")),
    by: Flag.Literals("by", ["last", "min", "max"]).pipe(Flag.withDescription("Each run's latest value, or its min or max over its history"), Flag.withDefault("last" as const)),
    normalize: Flag.Literals("normalize", ["zscore", "percentile", "minmax"]).pipe(Flag.withDescription("Also a normalized score (higher is better)"), Flag.optional),
    filter: Flag.String("filter").pipe(Flag.withAlias("f"), Flag.withDescription("Only the runs this filter selects (MLflow search syntax, plus OR/NOT/parentheses)"), Flag.optional),
    allStatuses: Flag.Boolean("all-statuses").pipe(
      Flag.withDescription("Also rank RUNNING, FAILED and KILLED runs (default: FINISHED runs only)"),
      Flag.withDefault(false)
    ),
    experiment: experimentsFlag,
    top: Flag.Int("top").pipe(Flag.withDescription("Only the best N"), Flag.optional),
    json: jsonFlag
  },
  ({ metric, goal, by, normalize, filter, allStatuses, experiment, top, json }) =>
    withAnalytics(async (tracker) => {
      const scope = {
        metric,
        goal,
        by,
        ...(filter._tag === "Some" ? { filter: filter.value } : {}),
        ...(experiment.length > 0 ? { experiments: experiment } : {})
      }
      const ranked = await tracker.rankRuns({
        ...scope,
        includeAllStatuses: allStatuses,
        ...(normalize._tag === "Some" ? { normalize: normalize.value } : {}),
        ...(top._tag === "Some" ? { limit: top.value } : {})
      })
      // What the FINISHED-only default left out, by status, so the table can say so.
      const leftOut: Record<string, number> = {}
      if (!allStatuses) {
        for (const r of await tracker.rankRuns({ ...scope, includeAllStatuses: true })) {
          if (r.status !== "FINISHED") leftOut[r.status] = (leftOut[r.status] ?? 0) + 1
        }
      }
      if (ranked.length === 0 && Object.keys(leftOut).length === 0) {
        // A metric no run in these experiments has is an unknown name (exit 2), like `history RUN nope`.
        const anywhere = await tracker.rankRuns({ metric, goal, ...(experiment.length > 0 ? { experiments: experiment } : {}), includeAllStatuses: true, limit: 1 })
        if (anywhere.length === 0) {
          throw new NotFound({ kind: "metric", id: metric, message: `No run${experiment.length > 0 ? ` in ${experiment.join(", ")}` : ""} has a metric ${JSON.stringify(metric)}; \`runledger show RUN\` lists a run's metrics.` })
        }
      }
      if (json) return outExact(listingJson("runs", ranked, { extra: { statuses: allStatuses ? "all" : "FINISHED", leftOut } }))
      const leftOutText = Object.entries(leftOut).map(([status, n]) => `${n} ${status}`).join(", ")
      const note = allStatuses
        ? "Runs of every status are ranked."
        : `Only FINISHED runs are ranked${leftOutText === "" ? "" : `; left out: ${leftOutText}`} (--all-statuses includes them).`
      if (ranked.length === 0) {
        return out(`No ${allStatuses ? "" : "FINISHED "}run${filter._tag === "Some" ? " the filter selects" : ""} has a value of ${metric}.\n${note}`)
      }
      const header = ["RANK", "RUN", "ID", ...(allStatuses ? ["STATUS"] : []), `${metric.toUpperCase()} (${by})`, ...(normalize._tag === "Some" ? [normalize.value.toUpperCase()] : [])]
      out(
        table(
          header,
          ranked.map((r) => [
            String(r.rank),
            r.runName,
            r.runId.slice(0, 12),
            ...(allStatuses ? [r.status] : []),
            formatNumber(r.score),
            ...(normalize._tag === "Some" ? [r.normalized == null ? "-" : formatNumber(r.normalized)] : [])
          ])
        )
      )
      out(note)
    })
).pipe(Command.withDescription("Rank FINISHED runs by a metric, best first, optionally with a normalized score (--all-statuses: every run)"))
