/**
 * SQL LIKE / ILIKE in memory, matching DuckDB: `%` matches any run of characters (newlines
 * included), `_` exactly one character (a Unicode code point, not a UTF-16 unit), everything
 * else matches itself. There is no escape character: a backslash is an ordinary character,
 * as in DuckDB's LIKE without an ESCAPE clause. LIKE is case-sensitive.
 *
 * ILIKE lower-cases the value and the pattern first (DuckDB: lower(); here:
 * String#toLowerCase). The two agree on ASCII and on ordinary accented letters, but may
 * differ on the few characters whose lower case is context-dependent or changes length
 * (U+0130 'İ', the Greek final sigma).
 *
 * Matching is the usual greedy wildcard algorithm with backtracking to the last `%`
 * (worst case O(|value|·|pattern|)), not a regular expression, so patterns such as
 * '%a%a%a%a%b' cannot blow up.
 */

const matches = (value: ReadonlyArray<string>, pattern: ReadonlyArray<string>): boolean => {
  let i = 0
  let j = 0
  let star = -1
  let mark = 0
  while (i < value.length) {
    if (j < pattern.length && pattern[j] !== "%" && (pattern[j] === "_" || pattern[j] === value[i])) {
      i++
      j++
    } else if (j < pattern.length && pattern[j] === "%") {
      star = j++
      mark = i
    } else if (star >= 0) {
      j = star + 1
      i = ++mark
    } else {
      return false
    }
  }
  while (j < pattern.length && pattern[j] === "%") j++
  return j === pattern.length
}

/** A matcher for `value LIKE pattern` (case-sensitive) or `value ILIKE pattern`. */
export const likeMatcher = (pattern: string, caseInsensitive: boolean): ((value: string) => boolean) => {
  if (caseInsensitive) {
    const p = Array.from(pattern.toLowerCase())
    return (value) => matches(Array.from(value.toLowerCase()), p)
  }
  const p = Array.from(pattern)
  return (value) => matches(Array.from(value), p)
}
