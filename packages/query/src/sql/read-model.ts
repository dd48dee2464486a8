/**
 * The SQL read model the compilers target (built elsewhere; these are the only names used):
 *
 *   runs(run_id VARCHAR, experiment_id VARCHAR, run_name VARCHAR, status VARCHAR,
 *        start_time BIGINT, end_time BIGINT NULL, …)            -- aliased `r` in queries
 *   params(run_id VARCHAR, key VARCHAR, value VARCHAR)          -- one row per (run_id, key)
 *   tags(run_id VARCHAR, key VARCHAR, value VARCHAR)            -- one row per (run_id, key)
 *   latest_metrics(run_id VARCHAR, key VARCHAR, value DOUBLE, step BIGINT, timestamp BIGINT)
 *                                                               -- one row per (run_id, key)
 *
 * A metric/param/tag is read with a correlated scalar subquery, which is NULL when the run
 * does not have the key; that NULL is what gives comparisons SQL's three-valued semantics.
 * DuckDB raises "More than one row returned by a subquery" if (run_id, key) is not unique.
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

/** A SQL expression for a target's value for the current run `r` (NULL when missing). */
export const targetSql = (target: Target, params: SqlParams): string => {
  switch (target._tag) {
    case "Metric":
      return `(SELECT m.value FROM latest_metrics m WHERE m.run_id = ${RUNS_ALIAS}.run_id AND m.key = ${params.bind(target.key)})`
    case "Param":
      return `(SELECT p.value FROM params p WHERE p.run_id = ${RUNS_ALIAS}.run_id AND p.key = ${params.bind(target.key)})`
    case "Tag":
      return `(SELECT t.value FROM tags t WHERE t.run_id = ${RUNS_ALIAS}.run_id AND t.key = ${params.bind(target.key)})`
    case "Attribute": {
      // A fixed column name from the table above, never user text.
      if (!Object.hasOwn(attributeColumns, target.key)) throw new Error(`unknown attribute ${String(target.key)}`)
      return `${RUNS_ALIAS}.${attributeColumns[target.key]}`
    }
  }
}
