/**
 * rankRuns: order runs by a metric with window functions, and put every score on a common scale
 * (z-score, percentile or min-max), oriented so that higher is better for the goal. Only FINISHED
 * runs are ranked unless asked otherwise: a run that crashed or was killed stopped early, so its
 * last value is not a result to compare with the others (a diverging run's crash can look best).
 */
import { Result } from "effect"
import { parseFilterResult } from "@runledger/search-syntax"
import { filterToSql } from "@runledger/search-syntax"
import { SqlParams } from "@runledger/search-syntax"
import { JoinedTargets } from "./targets.ts"
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
  /** Only the runs this filter selects (MLflow search syntax, plus OR/NOT/parentheses). */
  readonly filter?: string
  /** Rank runs of every status (RUNNING, FAILED, KILLED too); default: FINISHED runs only. */
  readonly includeAllStatuses?: boolean
}

export interface RankedRun {
  /** 1 is best; runs with equal scores share a rank. */
  readonly rank: number
  readonly runId: string
  readonly runName: string
  readonly experimentId: string
  /** RUNNING, FINISHED, FAILED or KILLED (only FINISHED unless `includeAllStatuses`). */
  readonly status: string
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
  const parsed = parseFilterResult(options.filter ?? "")
  if (Result.isFailure(parsed)) throw parsed.failure
  const params = new SqlParams()
  const joins = new JoinedTargets()
  const inScope = scopeToSql(options, params)
  const filter = filterToSql(parsed.success, { paramOffset: params.values.length, joins })
  for (const p of filter.params) params.values.push(p)
  const statuses = options.includeAllStatuses === true ? "" : " AND r.status = 'FINISHED'"
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
  SELECT r.run_id, r.run_name, r.experiment_id, r.status, r.start_time, ${score} AS score
  FROM ${SCOPED_FROM} ${joins.joins.join(" ")} WHERE ${inScope} AND (${filter.where})${statuses}
), ranked AS (
  SELECT *, rank() OVER (ORDER BY score ${better}) AS rank, ${normalized} AS normalized
  FROM scored WHERE score IS NOT NULL AND NOT isnan(score)
)
SELECT rank, run_id, run_name, experiment_id, status, score, normalized FROM ranked ORDER BY rank, start_time DESC, run_id`
  if (options.limit !== undefined) {
    if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new RangeError(`limit must be a whole number >= 1, got ${options.limit}.`)
    sql += ` LIMIT ${params.bind(options.limit)}`
  }
  return { sql, params: params.values, normalized: options.normalize !== undefined }
}
