/**
 * Disk full during an artifact upload: the upload fails with a StorageError, and its temporary file
 * is removed, so the disk is exactly as full as before the attempt (a failed 500 KB upload must not
 * keep 500 KB). Once space is freed, the same upload succeeds and the store verifies clean.
 * A real small tmpfs (needs root and mount), real files.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { verifyStore } from "../../packages/store-fs/src/index.ts"
import { openTracker, StorageError } from "../../packages/cli/src/index.ts"

const KB = 1024
let mount: string
let local: string

beforeAll(() => {
  mount = mkdtempSync(join(tmpdir(), "runledger-full-"))
  local = mkdtempSync(join(tmpdir(), "runledger-full-src-"))
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount])
})
afterAll(() => {
  try {
    execFileSync("umount", [mount])
  } finally {
    rmSync(mount, { recursive: true, force: true })
    rmSync(local, { recursive: true, force: true })
  }
})

const free = (): number => {
  const s = statfsSync(mount)
  return s.bavail * s.bsize
}

/** Fill the tmpfs until only `leave` bytes are free; returns the filler's path. */
const fillLeaving = (leave: number): string => {
  const filler = join(mount, "filler")
  writeFileSync(filler, Buffer.alloc(free() - leave))
  return filler
}

describe("an artifact upload on a full disk", () => {
  it("fails, leaves no temporary file and no used space, and succeeds once there is room", async () => {
    const dir = join(mount, "store")
    const tracker = await openTracker({ dir, durability: "os" })
    try {
      const run = await tracker.startRun({ experiment: "disk", name: "full" })
      await run.logParam("lr", 0.1)
      const big = join(local, "model.bin")
      writeFileSync(big, Buffer.alloc(500 * KB, 7))
      const text = "x".repeat(500 * KB)

      // The log's lock, kept across closely following appends, holds a page of this tmpfs until the
      // writer lets it go (idle 2 ms): measure the space once it has, so only the uploads count.
      await expect.poll(() => existsSync(join(dir, "events.lock")), { timeout: 5_000, interval: 5 }).toBe(false)
      const filler = fillLeaving(200 * KB)
      const before = free()
      // Bytes in memory (put) and a local file copied in streaming (putFile): both paths of an upload.
      for (const upload of [() => run.logText(text, "notes.txt"), () => run.logArtifact(big, { path: "model.bin" })]) {
        const error = await upload().then(() => null, (e: unknown) => e)
        expect(error).toBeInstanceOf(StorageError)
        expect((error as StorageError).message).toMatch(/ENOSPC/)
        expect(readdirSync(join(dir, "artifacts", "tmp"))).toEqual([])
        // No blob either: a short write must not be stored under the full content's digest.
        expect(readdirSync(join(dir, "artifacts"))).toEqual(["tmp"])
        expect(free()).toBe(before)
      }

      rmSync(filler)
      await run.logText(text, "notes.txt")
      await run.logArtifact(big, { path: "model.bin" })
      await run.end()
      expect((await tracker.getRun(run.id)).artifacts.map((a) => [a.path, a.size]).sort()).toEqual([["model.bin", 500 * KB], ["notes.txt", 500 * KB]])
    } finally {
      await tracker.close()
    }
    expect((await verifyStore(dir)).findings).toEqual([])
  })
})
