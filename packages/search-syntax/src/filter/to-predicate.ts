/**
 * Compiles a filter to an in-memory predicate over `RunView`, with the same semantics as the
 * SQL compilation (`to-sql.ts`), i.e. SQL's three-valued logic:
 *
 * - a comparison on a value the run does not have (a missing metric, param or tag, or a null
 *   end_time) is UNKNOWN, not false — so `metrics.x != 1` does not match a run without
 *   metric x (as in SQL, where NULL != 1 is not true, and as in MLflow);
 * - NOT UNKNOWN is UNKNOWN: `NOT metrics.x > 1` does not match a run without metric x either;
 * - AND / OR follow Kleene logic (FALSE AND UNKNOWN = FALSE, TRUE OR UNKNOWN = TRUE);
 * - a run matches when the whole filter is TRUE.
 *
 * Numbers compare as DuckDB DOUBLEs: NaN equals NaN and is larger than every number, so a NaN
 * metric matches `> x`, `>= x` and `!= x` for any number x. Params are compared as
 * `String(value)`. Strings compare by code point (DuckDB's binary collation). LIKE/ILIKE: see
 * `like.ts`.
 */
import type { RunView } from "../run-view.ts"
import { valueOf } from "../run-view.ts"
import { compareNumbers } from "../value-order.ts"
import type { Filter, NumericComparator } from "./ast.ts"
import { likeMatcher } from "./like.ts"

/** TRUE, FALSE or UNKNOWN (null). */
export type Truth = boolean | null

type Evaluate = (run: RunView) => Truth

const numericTest = (op: NumericComparator): ((c: number) => boolean) => {
  switch (op) {
    case "=":
      return (c) => c === 0
    case "!=":
      return (c) => c !== 0
    case "<":
      return (c) => c < 0
    case "<=":
      return (c) => c <= 0
    case ">":
      return (c) => c > 0
    case ">=":
      return (c) => c >= 0
  }
}

const compile = (f: Filter): Evaluate => {
  switch (f._tag) {
    case "NumericComparison": {
      const { target, value } = f
      const test = numericTest(f.op)
      return (run) => {
        const v = valueOf(run, target)
        return v === undefined ? null : test(compareNumbers(v, value))
      }
    }
    case "StringComparison": {
      const { target, value } = f
      const test: (v: string) => boolean = f.op === "="
        ? (v) => v === value
        : f.op === "!="
        ? (v) => v !== value
        : likeMatcher(value, f.op === "ILIKE")
      return (run) => {
        const v = valueOf(run, target)
        return v === undefined ? null : test(v)
      }
    }
    case "InList": {
      const { target, negated } = f
      const values = new Set(f.values)
      return (run) => {
        const v = valueOf(run, target)
        return v === undefined ? null : values.has(v) !== negated
      }
    }
    case "Not": {
      const operand = compile(f.operand)
      return (run) => {
        const t = operand(run)
        return t === null ? null : !t
      }
    }
    case "And": {
      const left = compile(f.left)
      const right = compile(f.right)
      return (run) => {
        const l = left(run)
        if (l === false) return false
        const r = right(run)
        return r === false ? false : l === null || r === null ? null : true
      }
    }
    case "Or": {
      const left = compile(f.left)
      const right = compile(f.right)
      return (run) => {
        const l = left(run)
        if (l === true) return true
        const r = right(run)
        return r === true ? true : l === null || r === null ? null : false
      }
    }
  }
}

/** The three-valued truth of the filter for each run (what SQL's WHERE expression evaluates to). */
export const toTruthFunction = (filter: Filter | undefined): ((run: RunView) => Truth) =>
  filter === undefined ? () => true : compile(filter)

/** A predicate accepting exactly the runs the SQL compilation selects. `undefined` accepts every run. */
export const toPredicate = (filter: Filter | undefined): ((run: RunView) => boolean) => {
  const truth = toTruthFunction(filter)
  return (run) => truth(run) === true
}
