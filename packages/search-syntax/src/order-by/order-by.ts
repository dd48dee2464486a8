/**
 * order_by: MLflow's list of `<identifier> [ASC|DESC]` strings (`metrics.acc DESC`,
 * `attributes.start_time`, `params.\`lr.x\` ASC`). Each string may also hold several
 * comma-separated terms. Direction keywords are case-insensitive; the default is ASC.
 * Identifiers are the filter's (see `syntax/identifier.ts`).
 *
 * Ordering semantics (shared by `to-sql.ts` and `to-comparator.ts`):
 * - a run without the value (missing metric/param/tag, NULL end_time) sorts last, whichever
 *   the direction;
 * - a NaN metric sorts after every number but before missing values, whichever the direction
 *   (as MLflow does), so `metrics.loss ASC` and `metrics.loss DESC` both show real numbers first;
 * - numbers by value (-0 = 0), strings (params included, as strings) by code point —
 *   DuckDB's binary collation;
 * - ties, after all terms, by start_time DESC, then run id ASC (MLflow's default order).
 */
import { Effect, Result } from "effect"
import { OrderByParseError } from "../errors.ts"
import type { Target } from "../filter/ast.ts"
import { parseTarget, printTarget } from "../syntax/identifier.ts"
import { Scanner, SyntaxFailure } from "../syntax/scanner.ts"

export type OrderDirection = "ASC" | "DESC"

export interface OrderByTerm {
  readonly target: Target
  readonly direction: OrderDirection
}

export const orderBy = (target: Target, direction: OrderDirection = "ASC"): OrderByTerm => ({ target, direction })

/** Parses one order_by string or MLflow's list of them; empty strings are ignored. */
export const parseOrderByResult = (
  input: string | ReadonlyArray<string>
): Result.Result<ReadonlyArray<OrderByTerm>, OrderByParseError> => {
  const clauses = typeof input === "string" ? [input] : input
  const terms: Array<OrderByTerm> = []
  for (let i = 0; i < clauses.length; i++) {
    const clause = clauses[i]
    try {
      for (const term of parseClause(clause)) terms.push(term)
    } catch (e) {
      if (!(e instanceof SyntaxFailure)) throw e
      const where = typeof input === "string" ? "order_by" : `order_by[${i}]`
      return Result.fail(
        new OrderByParseError({
          message: `Invalid ${where} at position ${e.position}: ${e.detail}`,
          input: clause,
          position: e.position
        })
      )
    }
  }
  return Result.succeed(terms)
}

/** Parses order_by; fails with `OrderByParseError`. */
export const parseOrderBy = (
  input: string | ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<OrderByTerm>, OrderByParseError> =>
  Effect.suspend(() => Effect.fromResult(parseOrderByResult(input)))

/** Parses order_by, throwing `OrderByParseError` on bad input. */
export const parseOrderBySync = (input: string | ReadonlyArray<string>): ReadonlyArray<OrderByTerm> => {
  const result = parseOrderByResult(input)
  if (Result.isFailure(result)) throw result.failure
  return result.success
}

const parseClause = (clause: string): Array<OrderByTerm> => {
  const s = new Scanner(clause)
  const terms: Array<OrderByTerm> = []
  if (s.atEnd()) return terms
  for (;;) {
    const { target, text } = parseTarget(s, "an identifier such as metrics.acc or attributes.start_time")
    let direction: OrderDirection = "ASC"
    if (s.tryKeyword("DESC")) direction = "DESC"
    else s.tryKeyword("ASC")
    terms.push({ target, direction })
    if (s.atEnd()) return terms
    if (!s.tryText(",")) {
      s.fail(s.pos, `expected ASC, DESC, ',' or end of input after '${text}', found ${s.describeAt(s.pos)}`)
    }
  }
}

/** Canonical MLflow-style order_by strings, one per term: `metrics.acc DESC`. */
export const printOrderBy = (terms: ReadonlyArray<OrderByTerm>): ReadonlyArray<string> =>
  terms.map((t) => `${printTarget(t.target)} ${t.direction}`)
