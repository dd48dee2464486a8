/**
 * Collects bound parameters for DuckDB's positional `$n` placeholders. Every piece of user
 * text (keys and values) goes through `bind`; nothing the user typed is spliced into SQL.
 * Each call adds a new parameter (no reuse), so the numbering is simply sequential from
 * `offset + 1`, which lets a caller place several compiled fragments in one statement.
 */
/** What the compilers bind: keys and string values as text, limits as integers. */
export type SqlParam = string | number

export class SqlParams {
  readonly offset: number
  readonly values: Array<SqlParam> = []

  constructor(offset = 0) {
    this.offset = offset
  }

  /** Adds a parameter and returns its placeholder (`$1`, `$2`, …). */
  bind(value: SqlParam): string {
    this.values.push(value)
    return `$${this.offset + this.values.length}`
  }

  /**
   * Binds a number as a DOUBLE: `CAST($n AS DOUBLE)` with the number's shortest round-tripping
   * decimal text ("NaN" and "Infinity" included) as the value. Binding the JS number itself
   * would make @duckdb/node-api infer INTEGER/BIGINT for integral values and reject e.g. 1e20.
   */
  bindDouble(value: number): string {
    return `CAST(${this.bind(String(value))} AS DOUBLE)`
  }
}
