/**
 * The whole search statement: the run ids that match a filter, in order_by order, one page at
 * a time. Built from `filterToSql` and `orderByToSql` with one parameter list.
 */
import type { Filter } from "./filter/ast.ts"
import { filterToSql } from "./filter/to-sql.ts"
import type { OrderByTerm } from "./order-by/order-by.ts"
import { orderByToSql } from "./order-by/to-sql.ts"
import type { SqlParam } from "./sql/params.ts"
import { RUNS_ALIAS } from "./sql/read-model.ts"

export interface SearchRunsQuery {
  readonly filter?: Filter | undefined
  readonly orderBy?: ReadonlyArray<OrderByTerm> | undefined
  /** Page size; no LIMIT when absent. */
  readonly limit?: number | undefined
  /** Rows to skip (from a decoded page token); default 0. */
  readonly offset?: number | undefined
}

export interface SqlStatement {
  readonly sql: string
  /** Pass as is: `conn.runAndReadAll(sql, params)`. */
  readonly params: Array<SqlParam>
}

const checkCount = (name: string, n: number): number => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`)
  return n
}

/** `SELECT r.run_id FROM runs r WHERE … ORDER BY … [LIMIT $n] [OFFSET $m]`. */
export const searchRunsSql = (query: SearchRunsQuery): SqlStatement => {
  const where = filterToSql(query.filter)
  const order = orderByToSql(query.orderBy ?? [], { paramOffset: where.params.length })
  const params: Array<SqlParam> = [...where.params, ...order.params]
  let sql = `SELECT ${RUNS_ALIAS}.run_id FROM runs ${RUNS_ALIAS} WHERE ${where.where} ORDER BY ${order.orderBy}`
  if (query.limit !== undefined) {
    params.push(checkCount("limit", query.limit))
    sql += ` LIMIT $${params.length}`
  }
  if (query.offset !== undefined && query.offset !== 0) {
    params.push(checkCount("offset", query.offset))
    sql += ` OFFSET $${params.length}`
  }
  return { sql, params }
}
