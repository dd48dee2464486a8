/**
 * Compiles a filter to a parameterized DuckDB boolean expression over the columns `joins` names
 * (see `sql/columns.ts`). Keys and values are always bound as `$n` parameters.
 *
 * Semantics (identical to `to-predicate.ts`, which the tests check on random runs and filters):
 * - a missing metric/param/tag (or a NULL end_time) is NULL, so its comparison is NULL and the
 *   run is not selected; NOT NULL is NULL (three-valued logic, as SQL does natively);
 * - numbers compare as DOUBLE: NaN = NaN and NaN > every number. A number literal is bound as
 *   its shortest round-tripping decimal text and cast in SQL (`CAST($n AS DOUBLE)`), because
 *   @duckdb/node-api infers INTEGER/BIGINT for integral JS numbers and rejects e.g. 1e20;
 *   DuckDB parses the text back to exactly the same double;
 * - strings compare with DuckDB's default binary collation; LIKE is case-sensitive, ILIKE is
 *   not; neither has an escape character.
 */
import { SqlParams, type SqlParam } from "../sql/params.ts"
import type { TargetColumns } from "../sql/columns.ts"
import type { Filter, NumericComparator, StringComparator } from "./ast.ts"

// Comparators come from a closed set; map them explicitly so an AST built at runtime with
// anything else cannot put text into the SQL.
const sqlOperators: Readonly<Record<NumericComparator | StringComparator, string>> = {
  "=": "=",
  "!=": "!=",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
  LIKE: "LIKE",
  ILIKE: "ILIKE"
}

const sqlOperator = (op: NumericComparator | StringComparator): string => {
  if (!Object.hasOwn(sqlOperators, op)) throw new Error(`unknown comparator ${String(op)}`)
  return sqlOperators[op]
}

export interface SqlFragment {
  /** A boolean SQL expression (no `WHERE` keyword); `TRUE` for no filter. */
  readonly where: string
  /** Values for `$(offset+1)…$(offset+n)`, in order. */
  readonly params: Array<SqlParam>
}

export interface ToSqlOptions {
  /** Number the placeholders from `$(paramOffset + 1)`; default 0. */
  readonly paramOffset?: number
  /** Where each target is read: the read model's columns (DuckDB's JoinedTargets: the caller adds `joins.joins` to FROM). */
  readonly joins: TargetColumns
}

/** Compiles a filter to `{ where, params }` for `SELECT … FROM runs r <joins.joins> WHERE <where>`. */
export const filterToSql = (filter: Filter | undefined, options: ToSqlOptions): SqlFragment => {
  const params = new SqlParams(options.paramOffset ?? 0)
  const where = filter === undefined ? "TRUE" : compile(filter, params, options.joins)
  return { where, params: params.values }
}

const compile = (f: Filter, params: SqlParams, joins: TargetColumns): string => {
  switch (f._tag) {
    case "NumericComparison":
      return `(${joins.targetSql(f.target, params)} ${sqlOperator(f.op)} ${params.bindDouble(f.value)})`
    case "StringComparison":
      return `(${joins.targetSql(f.target, params)} ${sqlOperator(f.op)} ${params.bind(f.value)})`
    case "InList": {
      const column = joins.targetSql(f.target, params)
      const list = f.values.map((v) => params.bind(v)).join(", ")
      return `(${column} ${f.negated ? "NOT IN" : "IN"} (${list}))`
    }
    case "Not":
      return `(NOT ${compile(f.operand, params, joins)})`
    case "And":
      return `(${compile(f.left, params, joins)} AND ${compile(f.right, params, joins)})`
    case "Or":
      return `(${compile(f.left, params, joins)} OR ${compile(f.right, params, joins)})`
  }
}
