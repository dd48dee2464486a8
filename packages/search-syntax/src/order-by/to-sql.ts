/**
 * Compiles order_by terms to a DuckDB ORDER BY list over the columns `options.joins` names (semantics in
 * `order-by.ts`); metric/param/tag keys are bound as `$n` parameters.
 */
import type { ToSqlOptions } from "../filter/to-sql.ts"
import { SqlParams, type SqlParam } from "../sql/params.ts"
import type { OrderByTerm } from "./order-by.ts"

export interface OrderBySql {
  /** The ORDER BY list, without the `ORDER BY` keywords; never empty (it ends with the tie-breakers). */
  readonly orderBy: string
  readonly params: Array<SqlParam>
}

export const orderByToSql = (terms: ReadonlyArray<OrderByTerm>, options: ToSqlOptions): OrderBySql => {
  const params = new SqlParams(options.paramOffset ?? 0)
  const parts: Array<string> = []
  for (const term of terms) {
    const direction = term.direction === "DESC" ? "DESC" : "ASC"
    if (term.target._tag === "Metric") {
      // numbers, then NaN, then missing — whatever the direction
      parts.push(`isnan(${options.joins.targetSql(term.target, params)}) ASC NULLS LAST`)
    }
    parts.push(`${options.joins.targetSql(term.target, params)} ${direction} NULLS LAST`)
  }
  parts.push(
    `${options.joins.targetSql({ _tag: "Attribute", key: "start_time" }, params)} DESC NULLS LAST`,
    `${options.joins.targetSql({ _tag: "Attribute", key: "run_id" }, params)} ASC`
  )
  return { orderBy: parts.join(", "), params: params.values }
}
