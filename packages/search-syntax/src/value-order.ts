/**
 * Value comparisons that behave exactly like DuckDB's, so the in-memory predicate and
 * comparator agree with the SQL compilation.
 */

/**
 * DuckDB's DOUBLE order: NaN is larger than every number (including +Infinity) and equal to
 * itself; -0 equals 0. Returns -1, 0 or 1.
 */
export const compareNumbers = (a: number, b: number): number => {
  const aNaN = Number.isNaN(a)
  const bNaN = Number.isNaN(b)
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * DuckDB's default (binary) VARCHAR order: by UTF-8 bytes, which is Unicode code point order.
 * JavaScript's `<` compares UTF-16 code units, which differs for astral characters versus
 * U+E000–U+FFFF; the fix-up below maps code units so that their order is code point order.
 */
export const compareStrings = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x !== y) {
      x = x >= 0xd800 ? (x <= 0xdfff ? x + 0x2000 : x - 0x800) : x
      y = y >= 0xd800 ? (y <= 0xdfff ? y + 0x2000 : y - 0x800) : y
      return x < y ? -1 : 1
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}
