/**
 * One task at a time, in the order they were given, whatever the outcome of the one before: for
 * a resource async callers would otherwise interleave on (a DuckDB connection runs one statement
 * at a time; a file log's index is caught up by one reader or writer at a time).
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve()

  run<A>(task: () => Promise<A>): Promise<A> {
    const result = this.tail.then(task)
    // The next task waits for this one whatever its outcome; the caller still sees the outcome.
    this.tail = result.then(() => undefined, () => undefined)
    return result
  }
}
