/**
 * Recursive-descent parser for filter strings.
 *
 *   filter     := ε | or EOF                     (an empty or blank filter matches every run)
 *   or         := and ("OR" and)*
 *   and        := not ("AND" not)*
 *   not        := "NOT" not | primary            (precedence: NOT > AND > OR, left-assoc)
 *   primary    := "(" or ")" | comparison
 *   comparison := identifier comparator value
 *   comparator := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN   (keywords case-insensitive)
 *   value      := number | 'string' | "string" | "(" string ("," string)* ")"
 *
 * Which comparators and values are allowed depends on the identifier, as in MLflow:
 * - metrics and numeric attributes (start_time, end_time): = != < <= > >= with a number;
 * - params, tags and string attributes (run_id, run_name, status, experiment_id): = != LIKE
 *   ILIKE with a quoted string, and IN / NOT IN with a parenthesised list of quoted strings
 *   (params are strings in MLflow, so `params.lr > 1` and `params.lr = 0.1` are rejected).
 * Numbers: optional minus, decimals, exponents (`-1.5e-3`, `.5`). Strings: single or double
 * quotes, a doubled quote escapes itself ('it''s').
 */
import { Effect, Result } from "effect"
import { FilterParseError } from "../errors.ts"
import { printTarget, parseTarget } from "../syntax/identifier.ts"
import { Scanner, SyntaxFailure } from "../syntax/scanner.ts"
import {
  and,
  compareNumber,
  compareString,
  inList,
  isNumericTarget,
  not,
  numericComparators,
  or,
  stringComparators,
  type Filter,
  type NumericComparator,
  type StringComparator,
  type StringTarget,
  type Target
} from "./ast.ts"

/** Parses a filter; `undefined` for an empty or blank filter (every run matches). */
export const parseFilterResult = (input: string): Result.Result<Filter | undefined, FilterParseError> => {
  try {
    return Result.succeed(parseOrThrow(input))
  } catch (e) {
    if (e instanceof SyntaxFailure) {
      return Result.fail(
        new FilterParseError({ message: `Invalid filter at position ${e.position}: ${e.detail}`, input, position: e.position })
      )
    }
    throw e
  }
}

/** Parses a filter; fails with `FilterParseError`. `undefined` means "no filter". */
export const parseFilter = (input: string): Effect.Effect<Filter | undefined, FilterParseError> =>
  Effect.suspend(() => Effect.fromResult(parseFilterResult(input)))

/** Parses a filter, throwing `FilterParseError` (the same tagged error) on bad input. */
export const parseFilterSync = (input: string): Filter | undefined => {
  const result = parseFilterResult(input)
  if (Result.isFailure(result)) throw result.failure
  return result.success
}

const parseOrThrow = (input: string): Filter | undefined => {
  const s = new Scanner(input)
  if (s.atEnd()) return undefined
  const filter = parseOr(s)
  if (!s.atEnd()) s.fail(s.pos, `expected AND, OR or end of input, found ${s.describeAt(s.pos)}`)
  return filter
}

const parseOr = (s: Scanner): Filter => {
  let left = parseAnd(s)
  while (s.tryKeyword("OR")) left = or(left, parseAnd(s))
  return left
}

const parseAnd = (s: Scanner): Filter => {
  let left = parseNot(s)
  while (s.tryKeyword("AND")) left = and(left, parseNot(s))
  return left
}

const parseNot = (s: Scanner): Filter => (s.tryKeyword("NOT") ? not(parseNot(s)) : parsePrimary(s))

const parsePrimary = (s: Scanner): Filter => {
  s.skipWhitespace()
  const open = s.pos
  if (s.tryText("(")) {
    const inner = parseOr(s)
    if (!s.tryText(")")) {
      s.fail(s.pos, `expected AND, OR or ')' to close the '(' at position ${open}, found ${s.describeAt(s.pos)}`)
    }
    return inner
  }
  return parseComparison(s)
}

type ParsedComparator = NumericComparator | StringComparator | "IN" | "NOT IN"

const describeTargetKind = (target: Target): string => {
  switch (target._tag) {
    case "Metric":
      return "metrics"
    case "Param":
      return "params"
    case "Tag":
      return "tags"
    case "Attribute":
      return isNumericTarget(target) ? `the numeric attribute ${target.key}` : `the string attribute ${target.key}`
  }
}

const allowedComparators = (target: Target): ReadonlyArray<ParsedComparator> =>
  isNumericTarget(target) ? numericComparators : [...stringComparators, "IN", "NOT IN"]

const parseComparison = (s: Scanner): Filter => {
  const { target, text } = parseTarget(s, "a comparison such as metrics.acc > 0.9, NOT or '('")
  const allowed = allowedComparators(target)
  s.skipWhitespace()
  const opPos = s.pos
  const op = readComparator(s, text, allowed)

  if (!allowed.includes(op)) {
    const kind = describeTargetKind(target)
    const why = target._tag === "Param" || target._tag === "Tag"
      ? `${kind} are compared as strings, as in MLflow; use ${allowed.join(", ")}`
      : op === "IN" || op === "NOT IN"
      ? `IN / NOT IN compares strings (params, tags and the attributes run_id, run_name, status, experiment_id); ${describeTargetKind(target)} ${target._tag === "Metric" ? "are" : "is"} compared as numbers: use ${allowed.join(", ")}`
      : `${kind} ${target._tag === "Metric" ? "are" : "is"} compared as ${isNumericTarget(target) ? "numbers" : "strings"}; use ${allowed.join(", ")}`
    s.fail(opPos, `comparator ${op} is not supported for ${text}: ${why}`)
  }
  const before = `${text} ${op}`

  if (op === "IN" || op === "NOT IN") {
    // Only string targets allow IN (checked above).
    const values = readStringList(s, before)
    return inList(target as StringTarget, values, op === "NOT IN")
  }
  s.skipWhitespace()
  const valuePos = s.pos
  if (isNumericTarget(target)) {
    const value = s.readNumber()
    if (value === undefined) {
      const quoted = s.peek() === "'" || s.peek() === "\""
      s.fail(
        valuePos,
        `expected a number after '${before}', found ${s.describeAt(valuePos)}` +
          (quoted ? ` (${describeTargetKind(target)} ${target._tag === "Metric" ? "are" : "is"} compared as numbers: drop the quotes)` : "")
      )
    }
    return compareNumber(target, op as NumericComparator, value)
  }
  const c = s.peek()
  if (c !== "'" && c !== "\"") {
    const numeric = /^-?[0-9.]/.test(s.input.slice(valuePos))
    s.fail(
      valuePos,
      `expected a quoted string after '${before}', found ${s.describeAt(valuePos)}` +
        (numeric
          ? ` (${describeTargetKind(target)} ${target._tag === "Attribute" ? "is" : "are"} compared as strings, as in MLflow: write ${printTarget(target)} ${op} '${s.input.slice(valuePos).match(/^[-0-9.eE+]+/)?.[0] ?? ""}')`
          : "")
    )
  }
  return compareString(target as StringTarget, op as StringComparator, s.readQuoted("string"))
}

const readComparator = (s: Scanner, text: string, allowed: ReadonlyArray<ParsedComparator>): ParsedComparator => {
  const opPos = s.pos
  if (s.input.startsWith("==", opPos)) {
    s.fail(opPos, `expected a comparator (${allowed.join(", ")}) after '${text}', found '==' (use = for equality)`)
  }
  for (const sym of ["!=", "<=", ">=", "=", "<", ">"] as const) {
    if (s.tryText(sym)) return sym
  }
  for (const word of ["LIKE", "ILIKE", "IN"] as const) {
    if (s.tryKeyword(word)) return word
  }
  if (s.tryKeyword("NOT")) {
    if (s.tryKeyword("IN")) return "NOT IN"
    s.fail(s.pos, `expected IN after '${text} NOT', found ${s.describeAt(s.pos)}`)
  }
  const adjacent = s.pos > 0 && !/\s/.test(s.input.charAt(opPos - 1)) && /[^\s=!<>]/.test(s.peek())
  s.fail(
    opPos,
    `expected a comparator (${allowed.join(", ")}) after '${text}', found ${s.describeAt(opPos)}` +
      (adjacent ? ` (quote keys containing special characters, e.g. metrics.\`f1-score\`)` : "")
  )
}

const readStringList = (s: Scanner, before: string): readonly [string, ...Array<string>] => {
  s.skipWhitespace()
  if (!s.tryText("(")) {
    s.fail(s.pos, `expected '(' and a list of quoted strings after '${before}', found ${s.describeAt(s.pos)}`)
  }
  const values: Array<string> = []
  for (;;) {
    s.skipWhitespace()
    const c = s.peek()
    if (c !== "'" && c !== "\"") {
      s.fail(s.pos, `expected a quoted string in the list after '${before}', found ${s.describeAt(s.pos)}`)
    }
    values.push(s.readQuoted("string"))
    if (s.tryText(",")) continue
    if (s.tryText(")")) break
    s.fail(s.pos, `expected ',' or ')' in the list after '${before}', found ${s.describeAt(s.pos)}`)
  }
  return values as unknown as readonly [string, ...Array<string>]
}
