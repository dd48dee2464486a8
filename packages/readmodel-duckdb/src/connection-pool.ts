/**
 * The read model's reading connections. A DuckDB connection runs one statement at a time, so with
 * one of them a chart's histories and the comparison drawn beside it (or a long SQL query and any
 * chart) were read one behind the other; with a few, they are read at once, DuckDB sharing its
 * threads between them. A read takes a free connection, or waits for the next one to come free,
 * in the order the reads asked.
 */
import type { DuckDBConnection } from "@duckdb/node-api"

export class ConnectionPool {
  private readonly all: ReadonlyArray<DuckDBConnection>
  private readonly free: DuckDBConnection[]
  private readonly waiting: Array<(conn: DuckDBConnection) => void> = []
  private closing = false

  constructor(connections: ReadonlyArray<DuckDBConnection>) {
    if (connections.length === 0) throw new RangeError("A connection pool needs at least one connection.")
    this.all = connections
    this.free = [...connections]
  }

  /** Run `f` on a connection of its own. Refused once `close` has begun. */
  async use<A>(f: (conn: DuckDBConnection) => Promise<A>): Promise<A> {
    if (this.closing) throw new Error("The connection pool is closed.")
    const conn = await this.take()
    try {
      return await f(conn)
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next(conn)
      else this.free.push(conn)
    }
  }

  /** Close every connection once the reads asked for before this have finished (each is taken in turn, after them). */
  async close(): Promise<void> {
    this.closing = true
    const taken = await Promise.all(this.all.map(() => this.take()))
    for (const conn of taken) conn.closeSync()
  }

  private take(): Promise<DuckDBConnection> {
    const conn = this.free.pop()
    return conn !== undefined ? Promise.resolve(conn) : new Promise((resolve) => this.waiting.push(resolve))
  }
}
