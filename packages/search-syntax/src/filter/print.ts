/**
 * Prints a filter AST back to filter syntax, canonically: full entity prefixes (`metrics.`,
 * `params.`, `tags.`, `attributes.`), keys bare when possible and otherwise in backticks,
 * strings in single quotes, upper-case keywords, and only the parentheses the tree needs
 * (NOT > AND > OR, AND/OR left-associative). `parseFilter(printFilter(f))` gives back `f`.
 */
import { printTarget } from "../syntax/identifier.ts"
import type { Filter } from "./ast.ts"

/** Single-quoted string literal; a quote inside is doubled. */
export const printString = (value: string): string => `'${value.replaceAll("'", "''")}'`

/**
 * A number literal the parser reads back to the same number (including -0). The filter
 * language has no NaN/Infinity literals, so an AST built by hand with one does not print
 * to a parseable filter (it still compiles to SQL and to a predicate consistently).
 */
export const printNumber = (value: number): string => (Object.is(value, -0) ? "-0" : String(value))

/** Prints a filter; `undefined` (no filter) prints as the empty string. */
export const printFilter = (filter: Filter | undefined): string => (filter === undefined ? "" : print(filter))

const print = (f: Filter): string => {
  switch (f._tag) {
    case "NumericComparison":
      return `${printTarget(f.target)} ${f.op} ${printNumber(f.value)}`
    case "StringComparison":
      return `${printTarget(f.target)} ${f.op} ${printString(f.value)}`
    case "InList":
      return `${printTarget(f.target)} ${f.negated ? "NOT IN" : "IN"} (${f.values.map(printString).join(", ")})`
    case "Not":
      return `NOT ${f.operand._tag === "And" || f.operand._tag === "Or" ? `(${print(f.operand)})` : print(f.operand)}`
    case "And":
      return `${f.left._tag === "Or" ? `(${print(f.left)})` : print(f.left)} AND ${
        f.right._tag === "Or" || f.right._tag === "And" ? `(${print(f.right)})` : print(f.right)
      }`
    case "Or":
      return `${print(f.left)} OR ${f.right._tag === "Or" ? `(${print(f.right)})` : print(f.right)}`
  }
}
