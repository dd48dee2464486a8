/**
 * One task at a time. A DuckDB connection runs one statement at a time, and async callers (a
 * readAll generator between pages, a readStream, a sql() call) would otherwise interleave on it.
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
