/**
 * Where the SQL compilers read each target's value: the read model that runs the SQL names its own
 * tables and columns (e.g. @runledger/readmodel-duckdb's JoinedTargets), so this package holds no
 * schema.
 */
import type { Target } from "../filter/ast.ts"
import type { SqlParams } from "./params.ts"

export interface TargetColumns {
  /**
   * A SQL expression for `target`'s value in the current row, NULL when the row lacks it; any
   * user text (keys) is bound through `params`, never spliced in.
   */
  targetSql(target: Target, params: SqlParams): string
}
