/**
 * Compiles order_by terms to a comparator over `RunView` that sorts exactly like the SQL of
 * `to-sql.ts` (semantics in `order-by.ts`).
 */
import type { RunView } from "../run-view.ts"
import { valueOf } from "../run-view.ts"
import { compareNumbers, compareStrings } from "../value-order.ts"
import type { OrderByTerm } from "./order-by.ts"

// 0: a value, 1: NaN, 2: missing
const rank = (v: number | string | undefined): number =>
  v === undefined ? 2 : typeof v === "number" && Number.isNaN(v) ? 1 : 0

const compareValues = (a: number | string | undefined, b: number | string | undefined, sign: number): number => {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (ra !== 0) return 0
  const c = typeof a === "number" ? compareNumbers(a, b as number) : compareStrings(a as string, b as string)
  return sign * c
}

/** A comparator for `Array#sort`: the order_by terms, then start_time DESC, then run id ASC. */
export const toComparator = (terms: ReadonlyArray<OrderByTerm>): ((a: RunView, b: RunView) => number) => {
  const keys = terms.map((t) => ({ target: t.target, sign: t.direction === "DESC" ? -1 : 1 }))
  return (a, b) => {
    for (const { target, sign } of keys) {
      const c = compareValues(valueOf(a, target), valueOf(b, target), sign)
      if (c !== 0) return c
    }
    return compareValues(a.startTime ?? undefined, b.startTime ?? undefined, -1) || compareStrings(a.id, b.id)
  }
}
