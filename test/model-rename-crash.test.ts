/**
 * A rename SIGKILLed between its two appends (a real child process on a real directory store):
 * the registry reads consistently (the model under its old name, the new name invisible and
 * reserved), the CLI's `repair` abandons the rename, and the model can then be renamed.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { expect, it } from "vitest"
import { verifyStore } from "../packages/store-fs/src/index.ts"
import { openTracker } from "../packages/cli/src/index.ts"
import { cli, freshRoot } from "../packages/cli/test/harness.ts"

const crasher = join(import.meta.dirname, "fixtures", "rename-crasher.ts")

const renameAndKill = (dir: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [crasher, dir], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes("claimed\n")) child.kill("SIGKILL")
    })
    child.on("error", reject)
    child.on("exit", (_code, signal) => {
      clearTimeout(timer)
      if (signal === "SIGKILL" && out.includes("claimed\n")) resolve()
      else reject(new Error(`the renaming process was not killed between its appends (${signal}; printed ${JSON.stringify(out)})`))
    })
  })

it("a rename killed between its two appends reads consistently, and repair abandons it", async () => {
  const dir = `${freshRoot()}/store`
  const setup = await openTracker({ dir })
  try {
    const run = await setup.startRun({ experiment: "e" })
    await run.logText("w", "model/w.txt")
    await run.end()
    await setup.createModelVersion("clf", { runId: run.id, artifactPath: "model", register: {} })
    await setup.transitionStage("clf", 1, "Production")
    await setup.setAlias("clf", "champion", 1)
  } finally {
    await setup.close()
  }

  await renameAndKill(dir)

  const after = await openTracker({ dir })
  try {
    expect((await after.listModels()).map((m) => [m.name, m.versions, m.aliases])).toEqual([["clf", 1, { champion: 1 }]])
    expect(await after.getModelVersion("new", { version: 1 }).then(() => undefined, (e: unknown) => e)).toMatchObject({ _tag: "NotFound" })
    expect(await after.registerModel("new").then(() => undefined, (e: unknown) => e)).toMatchObject({ _tag: "InvalidInput", message: expect.stringContaining("runledger repair") })
    expect((await after.streamEvents("model-new")).map((e) => e.type)).toEqual(["ModelRenameClaimed"])
  } finally {
    await after.close()
  }
  // The read model agrees: no row under the claimed name.
  const sql = await cli(["sql", "SELECT name FROM models ORDER BY name", "--json", "--dir", dir])
  expect(sql.status, sql.stderr).toBe(0)
  expect(JSON.parse(sql.stdout)).toEqual([{ name: "clf" }])

  const repaired = await cli(["repair", "--json", "--dir", dir])
  expect(repaired.status, repaired.stderr).toBe(0)
  expect(JSON.parse(repaired.stdout).abandonedRenames).toEqual([expect.objectContaining({ model: "clf", to: "new" })])
  const again = await cli(["repair", "--json", "--dir", dir])
  expect(JSON.parse(again.stdout).abandonedRenames).toEqual([])

  const renamed = await cli(["models", "rename", "clf", "new", "--dir", dir])
  expect(renamed.status, renamed.stderr).toBe(0)
  expect(renamed.stdout).toContain("Renamed model clf to new")
  const list = await cli(["models", "--json", "--dir", dir])
  expect(JSON.parse(list.stdout).models).toEqual([expect.objectContaining({ name: "new", versions: 1, aliases: { champion: 1 } })])
  const rows = await cli(["sql", "SELECT name, version, stage FROM model_versions", "--json", "--dir", dir])
  expect(JSON.parse(rows.stdout)).toEqual([{ name: "new", version: 1, stage: "Production" }])
  expect((await verifyStore(dir)).findings).toEqual([])
})
