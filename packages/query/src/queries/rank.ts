/**
 * rankRuns: order runs by a metric with window functions, and put every score on a common scale
 * (z-score, percentile or min-max), oriented so that higher is better for the goal.
 */
import { SqlParams } from "../sql/params.ts"
import { type RunScope, SCOPED_FROM, scopeToSql } from "./scope.ts"
import { checkScoreBy, type ScoreBy, scoreSql } from "./score.ts"

export type Goal = "min" | "max"
export type Normalization = "zscore" | "percentile" | "minmax"

export interface RankRunsOptions extends RunScope {
  readonly metric: string
  readonly goal: Goal
  /** Which value of each run: its latest (default), or its min or max over its history. */
  readonly by?: ScoreBy
  readonly normalize?: Normalization
  /** At most this many rows (default: all). */
  readonly limit?: number
}

export interface RankedRun {
  /** 1 is best; runs with equal scores share a rank. */
  readonly rank: number
  readonly runId: string
  readonly runName: string
  readonly experimentId: string
  readonly score: number
  /** With `normalize`: the score on that scale, higher is better for the goal. */
  readonly normalized?: number | null
}

const NORMALIZATIONS: ReadonlyArray<Normalization> = ["zscore", "percentile", "minmax"]

export const rankSql = (options: RankRunsOptions) => {
  if (options.goal !== "min" && options.goal !== "max") throw new RangeError(`goal must be "min" or "max", not ${JSON.stringify(options.goal)}.`)
  if (options.normalize !== undefined && !NORMALIZATIONS.includes(options.normalize)) {
    throw new RangeError(`normalize must be one of ${NORMALIZATIONS.join(", ")}, not ${JSON.stringify(options.normalize)}.`)
  }
  const by = checkScoreBy(options.by ?? "last")
  const params = new SqlParams()
  const inScope = scopeToSql(options, params)
  const score = scoreSql(options.metric, by, params)
  const better = options.goal === "max" ? "DESC" : "ASC"
  // For goal "min" the sign flips, so every normalized value reads "higher is better".
  const sign = options.goal === "max" ? "" : "-"
  const normalized =
    options.normalize === "zscore"
      ? `${sign}(score - avg(score) OVER ()) / nullif(stddev_pop(score) OVER (), 0)`
      : options.normalize === "percentile"
      ? `percent_rank() OVER (ORDER BY score ${options.goal === "max" ? "ASC" : "DESC"})`
      : options.normalize === "minmax"
      ? `${options.goal === "max" ? "(score - min(score) OVER ())" : "(max(score) OVER () - score)"} / nullif(max(score) OVER () - min(score) OVER (), 0)`
      : "NULL"
  let sql = `WITH scored AS (
  SELECT r.run_id, r.run_name, r.experiment_id, r.start_time, ${score} AS score FROM ${SCOPED_FROM} WHERE ${inScope}
), ranked AS (
  SELECT *, rank() OVER (ORDER BY score ${better}) AS rank, ${normalized} AS normalized
  FROM scored WHERE score IS NOT NULL AND NOT isnan(score)
)
SELECT rank, run_id, run_name, experiment_id, score, normalized FROM ranked ORDER BY rank, start_time DESC, run_id`
  if (options.limit !== undefined) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new RangeError(`limit must be a whole number >= 1, got ${options.limit}.`)
    sql += ` LIMIT ${params.bind(options.limit)}`
  }
  return { sql, params: params.values, normalized: options.normalize !== undefined }
}
