/**
 * @runledger/search-syntax — MLflow's search-runs filter language (plus OR, NOT and parentheses)
 * and order_by, parsed to an AST and compiled either to parameterized SQL fragments over the
 * columns a read model names (TargetColumns) or to an in-memory predicate / comparator with the
 * same semantics; opaque page tokens.
 */
export * from "./filter/ast.ts"
export { parseFilter, parseFilterResult, parseFilterSync } from "./filter/parse.ts"
export { printFilter, printNumber, printString } from "./filter/print.ts"
export { filterToSql, type SqlFragment, type ToSqlOptions } from "./filter/to-sql.ts"
export { toPredicate, toTruthFunction, type Truth } from "./filter/to-predicate.ts"
export { likeMatcher } from "./filter/like.ts"
export {
  orderBy,
  parseOrderBy,
  parseOrderByResult,
  parseOrderBySync,
  printOrderBy,
  type OrderByTerm,
  type OrderDirection
} from "./order-by/order-by.ts"
export { orderByToSql, type OrderBySql } from "./order-by/to-sql.ts"
export { toComparator } from "./order-by/to-comparator.ts"
export {
  decodePageToken,
  decodePageTokenResult,
  encodePageToken,
  queryFingerprint,
  type QueryIdentity
} from "./page-token.ts"
export { printKey, printTarget, RUN_NAME_TAG } from "./syntax/identifier.ts"
export { SqlParams, type SqlParam } from "./sql/params.ts"
export type { TargetColumns } from "./sql/columns.ts"
export { valueOf, type RunView } from "./run-view.ts"
export { compareNumbers, compareStrings } from "./value-order.ts"
export { FilterParseError, OrderByParseError, PageTokenError } from "./errors.ts"
