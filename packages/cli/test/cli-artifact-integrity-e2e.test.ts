/**
 * `runledger models download` refuses an altered artifact blob: exit 1, one line on stderr naming
 * the blob and saying to run `runledger verify`, and nothing written. The store is made in-process
 * with the Promise API; the CLI runs as a child process against it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { FsArtifactStore } from "../../store-fs/src/index.ts"
import { openTracker } from "../src/index.ts"
import { cli, expectOk, freshRoot, lines } from "./harness.ts"

describe("models download of a tampered model", () => {
  let root: string
  let store: string
  let runId: string
  let blob: string

  beforeAll(async () => {
    root = freshRoot()
    store = join(root, "store")
    const tracker = await openTracker({ dir: store, durability: "os" })
    try {
      runId = await tracker.withRun({ experiment: "churn", name: "best" }, async (run) => {
        await run.logJson({ weights: [0.1, 0.2, 0.3] }, "model/weights.json")
        await run.logText("lr=0.1\n", "model/config.txt")
        return run.id
      })
      await tracker.registerModel("clf")
      await tracker.createModelVersion("clf", { runId, artifactPath: "model" })
      await tracker.transitionStage("clf", 1, "Production")
      blob = (await tracker.getRun(runId)).artifacts.find((a) => a.path === "model/weights.json")!.sha256
    } finally {
      await tracker.close()
    }
  })

  it("downloads the genuine model, then refuses it once a blob is altered, writing nothing", async () => {
    const good = await cli(["models", "download", "models:/clf/Production", "--out", `${root}/good/`, "--dir", store])
    expectOk(good)
    expect(good.stdout).toBe(`${root}/good/config.txt\n${root}/good/weights.json\n`)

    const file = new FsArtifactStore(store).pathOf(blob)
    const bytes = readFileSync(file)
    bytes[bytes.indexOf("0.2")] = "9".charCodeAt(0)
    writeFileSync(file, bytes)

    const [model, single, verify] = await Promise.all([
      cli(["models", "download", "models:/clf/Production", "--out", `${root}/deploy/`, "--dir", store]),
      cli(["models", "download", `runs:/${runId}/model/weights.json`, "--out", `${root}/one/weights.json`, "--dir", store]),
      cli(["verify", "--dir", store])
    ])
    for (const r of [model, single]) {
      expect(r.status, r.stderr).toBe(1)
      expect(r.stdout).toBe("")
      expect(lines(r.stderr), r.stderr).toHaveLength(1)
      expect(r.stderr).toContain(`runledger: `)
      expect(r.stderr).toContain(`Artifact blob ${blob} was altered`)
      expect(r.stderr).toContain("Run `runledger verify`")
    }
    expect(existsSync(`${root}/deploy`) ? readdirSync(`${root}/deploy`) : []).toEqual([])
    expect(existsSync(`${root}/one/weights.json`)).toBe(false)
    // verify names the same blob.
    expect(verify.status).toBe(1)
    expect(verify.stderr).toContain(`artifact ${file} was altered`)
  })
})
