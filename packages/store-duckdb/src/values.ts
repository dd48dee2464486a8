/** Converting DuckDB's JS values to plain ones, and numbers to DuckDB's integer columns. */

/**
 * BIGINT and friends come back as bigint, which JSON.stringify rejects and arithmetic with numbers
 * refuses: a number when it is exactly representable, else its decimal text (never a rounded number).
 */
export const fromBigInt = (x: bigint): number | string =>
  x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()

/** A value read back from DuckDB, with every bigint inside it converted by `fromBigInt`. */
export const toPlain = (value: unknown): unknown => {
  if (typeof value === "bigint") return fromBigInt(value)
  if (value === null || typeof value !== "object") return value
  if (Array.isArray(value)) return value.map(toPlain)
  if (value instanceof Date || value instanceof Uint8Array) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = toPlain(v)
  return out
}

/** A number read from an integer column that we wrote ourselves (always in the safe range). */
export const toNumber = (value: unknown): number => (typeof value === "bigint" ? Number(value) : (value as number))

/**
 * Epoch milliseconds and steps as stored in BIGINT columns: whole numbers. Core allows fractional
 * timestamps; the read model keeps whole milliseconds (floor), and judges "latest" on those.
 */
export const wholeMs = (ms: number): number => Math.floor(ms)
