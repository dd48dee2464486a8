import { Command, Flag } from "effect/cli"
import { formatNumber, toJson } from "../format.ts"
import { experimentsFlag, out, withAnalytics } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const stats = Command.make(
  "stats",
  {
    a: Flag.String("a").pipe(Flag.withDescription("Filter selecting group A (e.g. \"params.model = 'logreg'\")")),
    b: Flag.String("b").pipe(Flag.withDescription("Filter selecting group B")),
    metric: Flag.String("metric").pipe(Flag.withAlias("m"), Flag.withDescription("The metric to compare")),
    by: Flag.Literals("by", ["last", "min", "max"]).pipe(Flag.withDescription("Each run's latest value, or its min or max"), Flag.withDefault("last" as const)),
    confidence: Flag.Finite("confidence").pipe(Flag.withDescription("Of the bootstrap interval"), Flag.withDefault(0.95)),
    resamples: Flag.Int("resamples").pipe(Flag.withDescription("Bootstrap resamples"), Flag.withDefault(10_000)),
    seed: Flag.Int("seed").pipe(Flag.withDescription("Bootstrap seed (the same seed gives the same interval)"), Flag.optional),
    experiment: experimentsFlag,
    json: jsonFlag
  },
  ({ a, b, metric, by, confidence, resamples, seed, experiment, json }) =>
    withAnalytics(async (tracker) => {
      const r = await tracker.compareGroups({
        a,
        b,
        metric,
        by,
        confidence,
        resamples,
        ...(seed._tag === "Some" ? { seed: seed.value } : {}),
        ...(experiment.length > 0 ? { experiments: experiment } : {})
      })
      if (json) return out(toJson(r))
      const pct = `${Math.round(r.bootstrap.confidence * 100)}%`
      const verdict = r.welch.pValue < 1 - r.bootstrap.confidence ? "the difference is significant" : "no significant difference"
      out(
        [
          `${metric} (${by}) — A: ${r.a.filter}`,
          `  A: ${r.a.runs} runs, mean ${formatNumber(r.a.mean)}`,
          `  B: ${r.b.runs} runs, mean ${formatNumber(r.b.mean)}   (B: ${r.b.filter})`,
          `  B - A = ${formatNumber(r.welch.difference)}; ${pct} bootstrap interval [${formatNumber(r.bootstrap.lower)}, ${formatNumber(r.bootstrap.upper)}] (${r.bootstrap.resamples} resamples)`,
          `  Welch's t = ${formatNumber(r.welch.t)}, df = ${formatNumber(r.welch.df)}, p = ${formatNumber(r.welch.pValue)}: ${verdict} at the ${pct} level`
        ].join("\n")
      )
    })
).pipe(Command.withDescription("Is group B different from group A on a metric? Welch's t-test and a bootstrap confidence interval"))
