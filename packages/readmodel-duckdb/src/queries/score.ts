/**
 * A run's score on a metric, for ranking and group statistics: its latest value, or the min or max
 * over its effective history (points a resume set aside are not counted; NaN is skipped).
 */
import type { SqlParams } from "@runledger/search-syntax"

export type ScoreBy = "last" | "min" | "max"

export const SCORE_BY: ReadonlyArray<ScoreBy> = ["last", "min", "max"]

/** A SQL expression for run `r`'s score on `metric` (NULL when the run has no such value). */
export const scoreSql = (metric: string, by: ScoreBy, params: SqlParams): string => {
  const key = params.bind(metric)
  if (by === "last") return `(SELECT m.value FROM latest_metrics m WHERE m.run_key = r.run_key AND m.key = ${key})`
  const agg = by === "min" ? "min" : "max"
  return `(SELECT ${agg}(m.value) FROM metrics m WHERE m.run_key = r.run_key AND m.key = ${key} AND NOT m.superseded AND NOT isnan(m.value))`
}

export const checkScoreBy = (by: string): ScoreBy => {
  if (!SCORE_BY.includes(by as ScoreBy)) throw new RangeError(`by must be one of ${SCORE_BY.join(", ")}, not ${JSON.stringify(by)}.`)
  return by as ScoreBy
}
