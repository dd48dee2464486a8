import { Command, Flag } from "effect/cli"
import { columns, formatNumber, indent, table, toJson } from "../format.ts"
import { experimentsFlag, out, outExact, withAnalytics } from "./common.ts"
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
      if (json) return outExact(toJson(r))
      const pct = `${formatNumber(r.bootstrap.confidence * 100)}%`
      const level = `${formatNumber(r.verdict.alpha * 100)}%`
      const v = r.verdict
      const groups = table(
        ["GROUP", "RUNS", "MEAN", "FILTER"],
        [
          ["A", String(r.a.runs), formatNumber(r.a.mean), r.a.filter],
          ["B", String(r.b.runs), formatNumber(r.b.mean), r.b.filter]
        ]
      )
      const excluded = r.a.excluded + r.b.excluded
      const lines = [
        `${metric} (${by === "last" ? "each run's latest value" : `each run's ${by}`}): B - A = ${formatNumber(r.welch.difference)}`,
        "",
        indent(groups),
        ...(excluded > 0 ? [`  (left out: ${r.a.excluded} run(s) of A and ${r.b.excluded} of B with NaN or Infinity)`] : []),
        "",
        indent(columns(
          [
            [
              "Welch's t-test",
              `t = ${formatNumber(r.welch.t)}, df = ${formatNumber(r.welch.df)}, p = ${formatNumber(r.welch.pValue)}:`,
              v.welchSignificant ? `significant at the ${level} level (p < ${formatNumber(v.alpha)})` : `not significant at the ${level} level (p >= ${formatNumber(v.alpha)})`
            ],
            [
              `${pct} bootstrap interval`,
              `[${formatNumber(r.bootstrap.lower)}, ${formatNumber(r.bootstrap.upper)}] of B - A (${r.bootstrap.resamples} resamples):`,
              v.intervalExcludesZero ? "excludes 0: B differs from A" : "includes 0: no difference shown"
            ]
          ]
        )),
        ...(v.agree
          ? []
          : [
            "",
            "  The two disagree. Welch's test allows for not knowing each group's true spread (the t distribution widens for",
            "  few runs); the percentile bootstrap only resamples the values seen, so with few runs its interval is too narrow.",
            "  Neither settles it: log more runs per group."
          ]),
        ...r.warnings.map((w) => `\nWarning: ${w}`)
      ]
      out(lines.join("\n"))
    })
).pipe(Command.withDescription("Is group B different from group A on a metric? Welch's t-test and a bootstrap confidence interval"))
