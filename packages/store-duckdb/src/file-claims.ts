/**
 * One handle per database file per process. DuckDB locks a file against other processes, but two
 * instances opened on one file inside the same process are not kept apart: each would keep its own
 * idea of the log's head and stream versions and they would corrupt each other. So a second open
 * in this process is refused until the first handle is closed.
 */
import { resolve } from "node:path"

const claimed = new Set<string>()

/** Claim `file` for this handle; false when another handle in this process holds it. */
export const claimFile = (file: string): boolean => {
  if (file === ":memory:") return true
  const key = resolve(file)
  if (claimed.has(key)) return false
  claimed.add(key)
  return true
}

export const releaseFile = (file: string): void => {
  if (file !== ":memory:") claimed.delete(resolve(file))
}
