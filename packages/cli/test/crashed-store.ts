/**
 * A store as a crash leaves it, for the tests of what commands do to a store: a finished run
 * ("baseline"), a run whose process was SIGKILLed (still RUNNING in the log), and a torn tail.
 * Also the list of read-only commands and a snapshot of a directory's bytes.
 */
import { spawn } from "node:child_process"
import { appendFileSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { expect } from "vitest"
import { chainAfter, encodeFrame, sha256 } from "../../store-fs/src/index.ts"
import { openTracker } from "../src/index.ts"
import { cli, type CliResult, repoRoot } from "./harness.ts"

/** Start the crash test's writer, SIGKILL it after a few acknowledged points; its run id. */
const killedWriter = (dir: string) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "test/fixtures/crash-writer.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] })
    let text = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      text += s
      if ((text.match(/^ack /gm) ?? []).length >= 3) child.kill("SIGKILL")
    })
    child.on("error", reject)
    child.on("exit", () => resolve(/^run (\S+)$/m.exec(text)![1]))
  })

/** Make the store in `dir`; returns the id of the run whose process is gone. */
export const makeCrashedStore = async (dir: string): Promise<string> => {
  const tracker = await openTracker({ dir })
  try {
    await tracker.withRun({ experiment: "exp", name: "baseline" }, async (run) => {
      await run.logParams({ lr: 0.1 })
      for (let step = 0; step < 5; step++) await run.logMetric("loss", 1 / (step + 1), { step })
    })
  } finally {
    await tracker.close()
  }
  const deadRunId = await killedWriter(dir)
  // A torn tail: the first half of a record, as a crash mid-append leaves it.
  const json = JSON.stringify({ torn: true })
  const frame = encodeFrame("run-x", "torn", json, sha256(json), chainAfter("", sha256(json)))
  appendFileSync(join(dir, "events.log"), frame.slice(0, frame.length >> 1))
  return deadRunId
}

/** Every file of a directory, recursively, with its bytes' hash (the whole store, as a value). */
export const snapshot = (dir: string): Map<string, string> => {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.set(p.slice(dir.length), sha256(readFileSync(p)))
    }
  }
  walk(dir)
  return out
}

/** The read-only commands, and the exit status each gives on the crashed store (verify reports the tail). */
const reads = (dir: string, deadRunId: string): Array<[string[], number]> => [
  [["runs", "--dir", dir], 0],
  [["runs", "--json", "--dir", dir], 0],
  [["show", deadRunId, "--dir", dir], 0],
  [["show", "baseline", "--json", "--dir", dir], 0],
  [["experiments", "--dir", dir], 0],
  [["events", "--dir", dir], 0],
  [["log", deadRunId, "--dir", dir], 0],
  [["history", "baseline", "loss", "--dir", dir], 0],
  [["models", "--dir", dir], 0],
  [["anchor", "--dir", dir], 0],
  [["verify", "--dir", dir], 1]
]

/**
 * Run every read command on `dir` and check its exit status; the results in the order above.
 * Three at a time: the machine is small, and all at once some would take longer than cli's limit.
 */
export const runReads = async (dir: string, deadRunId: string): Promise<CliResult[]> => {
  const todo = reads(dir, deadRunId)
  const results: CliResult[] = []
  for (let i = 0; i < todo.length; i += 3) results.push(...(await Promise.all(todo.slice(i, i + 3).map(([args]) => cli(args)))))
  results.forEach((r, i) => expect(r.status, `${todo[i][0].join(" ")}: ${r.stderr}`).toBe(todo[i][1]))
  return results
}
