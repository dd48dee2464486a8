/**
 * @runledger/query — MLflow's search-runs filter language (plus OR, NOT and parentheses) and
 * order_by, parsed to an AST and compiled either to parameterized DuckDB SQL or to an
 * in-memory predicate / comparator with the same semantics; opaque page tokens.
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
export type { SqlParam } from "./sql/params.ts"
export { JoinedTargets } from "./sql/read-model.ts"
export { valueOf, type RunView } from "./run-view.ts"
export { compareNumbers, compareStrings } from "./value-order.ts"
export { FilterParseError, NotEnoughRuns, OrderByParseError, PageTokenError } from "./errors.ts"
export {
  bootstrapDifferenceCI,
  MIN_RUNS_PER_GROUP,
  significanceVerdict,
  type SignificanceVerdict,
  welchTTest,
  type BootstrapOptions,
  type BootstrapResult,
  type WelchTTestResult
} from "./analysis/significance.ts"
export { studentTCdf, studentTTwoSidedPValue } from "./analysis/student-t.ts"
export { mulberry32, type Random } from "./analysis/prng.ts"
export {
  CHART_PALETTE,
  lineChartSvg,
  type ChartPoint,
  type ChartSeries,
  type LineChartOptions
} from "./analysis/svg-chart.ts"
export { logTicks, niceTicks, type LogTicks, type Ticks } from "./analysis/ticks.ts"
export { escapeXml } from "./analysis/xml-text.ts"
export * from "./queries/index.ts"
