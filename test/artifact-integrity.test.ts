/**
 * Artifact reads check the bytes against their sha256: an altered blob (damage or tampering) is
 * refused with a StoreCorrupted naming the artifact, never served, and `downloadArtifacts` writes
 * nothing when any file it would write is altered. Real directory stores, real files.
 */
import fc from "fast-check"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { FsArtifactStore } from "../packages/store-fs/src/index.ts"
import { openTracker, StoreCorrupted, type Tracker } from "../packages/cli/src/index.ts"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "runledger-integrity-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex")

describe("FsArtifactStore.get", () => {
  it("serves a blob only while its bytes hash to its name: any change of content or length is refused", async () => {
    const store = new FsArtifactStore(dir, false)
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.oneof(
          // one byte changed, anywhere
          fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
          // the tail cut off, or bytes appended
          fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
          fc.record({ kind: fc.constant("append" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 10 }) })
        ),
        async (bytes, change) => {
          const { sha256: name } = await store.put(bytes)
          expect(Buffer.from(await store.get(name)).equals(Buffer.from(bytes))).toBe(true)
          const file = store.pathOf(name)
          const altered = Buffer.from(bytes)
          const tampered =
            change.kind === "flip"
              ? (altered[change.at % altered.length] ^= change.mask, altered)
              : change.kind === "truncate"
                ? altered.subarray(0, change.at % altered.length)
                : Buffer.concat([altered, change.extra])
          writeFileSync(file, tampered)
          const error = await store.get(name).then(() => null, (e: unknown) => e)
          expect(error).toBeInstanceOf(StoreCorrupted)
          expect((error as StoreCorrupted).file).toBe(file)
          expect((error as StoreCorrupted).message).toContain(`Artifact blob ${name} was altered`)
          expect((error as StoreCorrupted).message).toContain(`its bytes hash to ${sha256(tampered)}`)
          expect((error as StoreCorrupted).message).toContain("runledger verify")
          // Put the genuine bytes back: the next case may store the same content.
          writeFileSync(file, bytes)
        }
      ),
      { numRuns: 60 }
    )
  })
})

describe("reading an altered artifact through the tracker", () => {
  let tracker: Tracker
  let runId: string
  let weights: string
  const store = () => join(dir, "store")

  beforeEach(async () => {
    tracker = await openTracker({ dir: store(), durability: "os" })
    runId = await tracker.withRun({ experiment: "churn", name: "best" }, async (run) => {
      await run.logJson({ weights: [0.1, 0.2, 0.3] }, "model/weights.json")
      await run.logText("lr=0.1\n", "model/config.txt")
      return run.id
    })
    await tracker.registerModel("clf")
    const { version } = await tracker.createModelVersion("clf", { runId, artifactPath: "model" })
    await tracker.transitionStage("clf", version, "Production")
    const view = await tracker.getRun(runId)
    weights = view.artifacts.find((a) => a.path === "model/weights.json")!.sha256
  })
  afterEach(() => tracker.close())

  const tamper = () => {
    const file = new FsArtifactStore(store()).pathOf(weights)
    const bytes = readFileSync(file)
    bytes[bytes.indexOf("0.2")] = "9".charCodeAt(0) // a plausible edit: a weight changed, same size
    writeFileSync(file, bytes)
    return file
  }

  it("readArtifact fails with StoreCorrupted naming the run, the path and the blob, and saying to run verify", async () => {
    expect(JSON.parse(Buffer.from(await tracker.readArtifact(runId, "model/weights.json")).toString())).toEqual({ weights: [0.1, 0.2, 0.3] })
    const file = tamper()
    const error = await tracker.readArtifact(runId, "model/weights.json").then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(StoreCorrupted)
    const { message } = error as StoreCorrupted
    expect(message).toMatch(new RegExp(`^Artifact "model/weights.json" of run ${runId}: Artifact blob ${weights} was altered`))
    expect(message).toContain("runledger verify")
    expect((error as StoreCorrupted).file).toBe(file)
    // The untouched artifact of the same run is still served.
    expect(Buffer.from(await tracker.readArtifact(runId, "model/config.txt")).toString()).toBe("lr=0.1\n")
  })

  it("downloadArtifacts of models:/clf/Production fails and writes nothing, not even its intact files", async () => {
    tamper()
    const fresh = join(dir, "deploy")
    const error = await tracker.downloadArtifacts("models:/clf/Production", `${fresh}/`).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(StoreCorrupted)
    expect((error as StoreCorrupted).message).toContain(`Artifact blob ${weights} was altered`)
    expect(existsSync(fresh) ? readdirSync(fresh, { recursive: true }) : []).toEqual([])
  })

  it("a download over an earlier good copy keeps the good copy when the stored blob was altered", async () => {
    const deploy = join(dir, "deploy")
    mkdirSync(deploy)
    expect(await tracker.downloadArtifacts("models:/clf/Production", deploy)).toEqual([join(deploy, "config.txt"), join(deploy, "weights.json")])
    const good = readFileSync(join(deploy, "weights.json"))
    tamper()
    await expect(tracker.downloadArtifacts("models:/clf/Production", deploy)).rejects.toBeInstanceOf(StoreCorrupted)
    await expect(tracker.downloadArtifacts(`runs:/${runId}/model/weights.json`, join(deploy, "weights.json"))).rejects.toBeInstanceOf(StoreCorrupted)
    expect(readFileSync(join(deploy, "weights.json")).equals(good)).toBe(true)
  })
})
