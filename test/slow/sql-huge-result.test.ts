/**
 * `runledger sql --json` over a result far larger than the child's heap: the rows are streamed to
 * stdout a chunk at a time, so the process finishes with every row printed. Before, the whole
 * result was built in memory (25M rows aborted with "JavaScript heap out of memory" at 6.6 GB);
 * here the child gets a 96 MB heap and 3M rows (about 130 MB of JSON).
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, cli, freshRoot } from "../../packages/cli/test/harness.ts"

describe("sql --json streams a huge result in bounded memory", () => {
  it("3M rows through a 96 MB heap: every row printed once, in order, as one JSON array", async () => {
    const store = join(freshRoot(), "runledger")
    expect((await cli(["demo", "--epochs", "1", "--dir", store])).status).toBe(0)
    const rows = 3_000_000
    const child = spawn(process.execPath, ["--max-old-space-size=96", BIN, "sql", `SELECT x FROM range(${rows}) t(x) ORDER BY x`, "--json", "--timeout", "3600", "--dir", store], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    // Counted as it arrives, never held: the test must not need the memory the child may not use.
    let lineCount = 0
    let next = 0
    let bad: string | undefined
    let first: string | undefined
    let last: string | undefined
    for await (const line of createInterface({ input: child.stdout })) {
      lineCount++
      first ??= line
      last = line
      const m = /^ {4}"x": (\d+)$/.exec(line)
      if (m !== null) {
        if (Number(m[1]) !== next && bad === undefined) bad = line
        next++
      }
    }
    const status = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)))
    expect(stderr).toBe("")
    expect(status).toBe(0)
    expect(bad).toBeUndefined()
    expect(next).toBe(rows)
    expect([first, last]).toEqual(["[", "]"])
    expect(lineCount).toBe(2 + rows * 3) // "[", "]", and "{", the value, "}" per row
  })
})
