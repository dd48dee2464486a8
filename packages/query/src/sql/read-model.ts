/**
 * The SQL read model the compilers target (built elsewhere; these are the only names used):
 *
 *   runs(run_id VARCHAR, run_key INTEGER, experiment_id VARCHAR, run_name VARCHAR, status VARCHAR,
 *        start_time BIGINT, end_time BIGINT NULL, …)            -- aliased `r` in queries
 *   params(run_id VARCHAR, run_key INTEGER, key VARCHAR, value VARCHAR)  -- one row per (run, key)
 *   tags(run_id VARCHAR, run_key INTEGER, key VARCHAR, value VARCHAR)    -- one row per (run, key)
 *   latest_metrics(run_id VARCHAR, run_key INTEGER, key VARCHAR, value DOUBLE, step BIGINT, timestamp BIGINT)
 *                                                               -- one row per (run, key)
 *
 * run_key is a run's integer number in the read model: the tables join on it, about twice as
 * fast as on the run id's text.
 *
 * A metric/param/tag is read with a correlated scalar subquery, which is NULL when the run
 * does not have the key; that NULL is what gives comparisons SQL's three-valued semantics.
 * DuckDB raises "More than one row returned by a subquery" if (run, key) is not unique.
 */
import type { AttributeKey, Target } from "../filter/ast.ts"
import type { SqlParams } from "./params.ts"

/** The alias the compiled fragments use for the runs table: `FROM runs r`. */
export const RUNS_ALIAS = "r"

const attributeColumns: Readonly<Record<AttributeKey, string>> = {
  run_id: "run_id",
  run_name: "run_name",
  status: "status",
  experiment_id: "experiment_id",
  start_time: "start_time",
  end_time: "end_time"
}

/**
 * Metric, param and tag values as LEFT JOINs instead of correlated subqueries: one join per
 * distinct (entity, key), shared by the filter and the order. (run, key) is unique in each
 * table, so a join adds at most one row per run and a missing key is NULL, exactly like the
 * subquery: the semantics are the same, and DuckDB runs a handful of hash joins instead of a
 * subquery per reference (about 3x faster over 100k runs).
 */
export class JoinedTargets {
  private readonly aliases = new Map<string, string>()
  readonly joins: string[] = []

  /** The column for `target`, joining its table on first use (keys bound through `params`). */
  column(target: Exclude<Target, { _tag: "Attribute" }>, params: SqlParams): string {
    const id = `${target._tag}\u0000${target.key}`
    let alias = this.aliases.get(id)
    if (alias === undefined) {
      alias = `j${this.aliases.size + 1}`
      const table = target._tag === "Metric" ? "latest_metrics" : target._tag === "Param" ? "params" : "tags"
      this.joins.push(`LEFT JOIN ${table} ${alias} ON ${alias}.run_key = ${RUNS_ALIAS}.run_key AND ${alias}.key = ${params.bind(target.key)}`)
      this.aliases.set(id, alias)
    }
    return `${alias}.value`
  }
}

/** A SQL expression for a target's value for the current run `r` (NULL when missing). */
export const targetSql = (target: Target, params: SqlParams, joins?: JoinedTargets): string => {
  if (joins !== undefined && target._tag !== "Attribute") return joins.column(target, params)
  switch (target._tag) {
    case "Metric":
      return `(SELECT m.value FROM latest_metrics m WHERE m.run_key = ${RUNS_ALIAS}.run_key AND m.key = ${params.bind(target.key)})`
    case "Param":
      return `(SELECT p.value FROM params p WHERE p.run_key = ${RUNS_ALIAS}.run_key AND p.key = ${params.bind(target.key)})`
    case "Tag":
      return `(SELECT t.value FROM tags t WHERE t.run_key = ${RUNS_ALIAS}.run_key AND t.key = ${params.bind(target.key)})`
    case "Attribute": {
      // A fixed column name from the table above, never user text.
      if (!Object.hasOwn(attributeColumns, target.key)) throw new Error(`unknown attribute ${String(target.key)}`)
      return `${RUNS_ALIAS}.${attributeColumns[target.key]}`
    }
  }
}
