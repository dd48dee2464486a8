/**
 * Prepared statements with declared parameter types, cached by their SQL text. Types are given
 * rather than inferred: the node-api infers a whole JS number as INTEGER or BIGINT, which would
 * overflow on 1e300 and lose -0, and a bigint as HUGEINT.
 */
import type { DuckDBConnection, DuckDBPreparedStatement, DuckDBType, DuckDBValue } from "@duckdb/node-api"

export class Statements {
  private readonly conn: DuckDBConnection
  private readonly cache = new Map<string, DuckDBPreparedStatement>()

  constructor(conn: DuckDBConnection) {
    this.conn = conn
  }

  private async prepared(sql: string, types: ReadonlyArray<DuckDBType>, values: ReadonlyArray<DuckDBValue>): Promise<DuckDBPreparedStatement> {
    let ps = this.cache.get(sql)
    if (ps === undefined) {
      ps = await this.conn.prepare(sql)
      this.cache.set(sql, ps)
    }
    ps.clearBindings()
    ps.bind(values as DuckDBValue[], types as DuckDBType[])
    return ps
  }

  async run(sql: string, types: ReadonlyArray<DuckDBType>, values: ReadonlyArray<DuckDBValue>): Promise<void> {
    await (await this.prepared(sql, types, values)).run()
  }

  async rows(sql: string, types: ReadonlyArray<DuckDBType>, values: ReadonlyArray<DuckDBValue>): Promise<DuckDBValue[][]> {
    return (await (await this.prepared(sql, types, values)).runAndReadAll()).getRows()
  }

  close(): void {
    for (const ps of this.cache.values()) ps.destroySync()
    this.cache.clear()
  }
}
