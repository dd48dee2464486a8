/**
 * The README's TypeScript snippets run as written. The quick start runs alone; the registry and
 * analytics snippets are fragments (they name `tracker`, `runId`, `a`, `b`), so each runs after a
 * short prelude that opens a store and logs four runs for them to work on. Each runs in its own
 * Node process, in a fresh directory, with `runledger` resolved to this checkout.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { freshRoot, repoRoot } from "../packages/cli/test/harness.ts"

const readme = readFileSync(join(repoRoot, "README.md"), "utf8")
const library = readme.slice(readme.indexOf("## Quick start (library)"), readme.indexOf("## CLI"))
const snippets = [...library.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
const entry = pathToFileURL(join(repoRoot, "packages/cli/src/index.ts")).href

const prelude = `import { openTracker } from "runledger"
const tracker = await openTracker({ dir: "runledger" })
const ids: string[] = []
for (const [i, opt] of ["sgd", "adam", "sgd", "adam"].entries()) {
  await tracker.withRun({ experiment: "mnist", name: "run" + i }, async (run) => {
    await run.logParams({ opt, model: "mlp" })
    for (let step = 0; step < 3; step++) await run.logMetrics({ acc: 0.9 + i / 100 + step / 1000, val_loss: 1 / (i + step + 1), loss: 1 / (step + 1) }, { step })
    await run.logJson({ weights: [i] }, "model/weights.json")
    ids.push(run.id)
  })
}
const runId = ids[0]
const [a, b] = ids
`

/** Run a script in a fresh directory; its stdout. */
const runScript = (source: string): { dir: string; stdout: string } => {
  const dir = freshRoot()
  const file = join(dir, "snippet.ts")
  writeFileSync(file, source.replaceAll(`from "runledger"`, `from ${JSON.stringify(entry)}`))
  const stdout = execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  return { dir, stdout }
}

describe("the README's snippets", () => {
  it("has the quick start, the registry and the analytics snippets", () => {
    expect(snippets).toHaveLength(3)
  })

  it("the quick start runs as written and lists its run", () => {
    const { dir, stdout } = runScript(snippets[0])
    expect(stdout).toContain("baseline")
    expect(existsSync(join(dir, "runledger", "events.log"))).toBe(true)
  })

  it("the registry snippet runs after the prelude and downloads the model", () => {
    const { dir } = runScript(`${prelude}${snippets[1]}\nawait tracker.close()\n`)
    expect(JSON.parse(readFileSync(join(dir, "deploy", "weights.json"), "utf8"))).toEqual({ weights: [0] })
  })

  it("the analytics snippet runs after the prelude and exports the runs", () => {
    const { dir } = runScript(`${prelude}${snippets[2]}\nawait tracker.close()\n`)
    expect(existsSync(join(dir, "runs.parquet"))).toBe(true)
  })
})
