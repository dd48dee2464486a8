/**
 * Several processes log and ask analytics questions of one store at the same time. Each holds the
 * shared read model only while it answers, so none falls back to a private copy (no notice on
 * stderr), every answer is right (each process sees its own runs as soon as it has logged them,
 * and at the end every process sees all of them), and nobody folds the log again: a catch-up folds
 * only what was appended since the last one, whichever process made it.
 */
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cli, freshRoot, lines, repoRoot } from "../../packages/cli/test/harness.ts"

const PROCESSES = 4
const ROUNDS = 12

describe("the read model shared by several processes", () => {
  it(`${PROCESSES} processes x ${ROUNDS} rounds of log-then-search: right answers, no notice, no refold`, async () => {
    const root = freshRoot()
    const store = join(root, "runledger")
    const script = join(root, "worker.ts")
    writeFileSync(
      script,
      `import { openTracker } from ${JSON.stringify(join(repoRoot, "packages/cli/src/index.ts"))}
const [dir, me, rounds, all] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])]
const tracker = await openTracker({ dir })
const folded = []
for (let i = 0; i < rounds; i++) {
  const run = await tracker.startRun({ experiment: "shared", name: me + "-" + i })
  await run.logMetric("loss", i, { step: 0 })
  await run.end()
  folded.push((await tracker.catchUpReadModel()).events)
  // Asked of the read model (sql), not searchRuns: a store this small is searched in memory.
  const mine = (await tracker.sql("SELECT count(*) AS n FROM runs WHERE run_name LIKE ?", [me + "-%"]))[0].n
  if (mine !== i + 1) throw new Error(me + " round " + i + ": found " + mine + " of its runs, expected " + (i + 1))
}
// Everyone's runs, once all have finished logging (polled: the others may still be at it).
for (let n = 0; ; await new Promise((r) => setTimeout(r, 100))) {
  n = (await tracker.sql("SELECT count(*) AS n FROM runs"))[0].n
  if (n === all) break
}
console.log(JSON.stringify({ folded }))
await tracker.close()
`
    )
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [script, store, `p${p}`, String(ROUNDS), String(PROCESSES * ROUNDS)], { stdio: ["ignore", "pipe", "pipe"] })
          let stdout = ""
          let stderr = ""
          child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
          child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
          child.on("exit", (code) => resolve({ code, stdout, stderr }))
        })
      )
    )
    let foldedInAll = 0
    for (const r of results) {
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      const { folded } = JSON.parse(r.stdout) as { folded: number[] }
      foldedInAll += folded.reduce((a, b) => a + b, 0)
    }
    // Each event is folded once, by whichever process catches up first: all catch-ups together
    // fold no more events than the log holds (3 per run, and the experiment's creation).
    expect(foldedInAll).toBeGreaterThan(0)
    expect(foldedInAll).toBeLessThanOrEqual(3 * PROCESSES * ROUNDS + 1)
    const counted = await cli(["sql", "SELECT count(*) AS n FROM runs", "--dir", store])
    expect(counted.stderr).toBe("")
    expect(lines(counted.stdout).map((l) => l.trim())).toEqual(["n", String(PROCESSES * ROUNDS), "(1 row)"])
  })
})
