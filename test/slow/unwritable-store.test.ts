/**
 * Stores that cannot be written: read-only (a read-only bind mount, as for an audit or a backup on
 * read-only media) and on a full disk (a 2 MB tmpfs filled to the last byte). Every read command
 * works and changes nothing; a write is refused with the reason and leaves nothing behind (no
 * empty events.lock, no temp file). Needs root for mount; skipped elsewhere.
 */
import { execFileSync } from "node:child_process"
import { appendFileSync, cpSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeCrashedStore, runReads, snapshot } from "../../packages/cli/test/crashed-store.ts"
import { cli, freshRoot, lines } from "../../packages/cli/test/harness.ts"
import { parseListing, type RunJson } from "../../packages/cli/test/formats.ts"

let root: string
let store: string
let deadRunId: string
const mounts: string[] = []

const canMount = (() => {
  if (process.getuid?.() !== 0) return false
  try {
    execFileSync("mount", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

beforeAll(async () => {
  root = freshRoot()
  store = join(root, "store")
  deadRunId = await makeCrashedStore(store)
}, 60_000)

afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" })
    } catch {
      // already gone
    }
  }
})

describe.skipIf(!canMount)("stores that cannot be written", () => {
  it("a read-only store (a read-only bind mount) can be read by every read command", async () => {
    const source = join(root, "ro-source")
    cpSync(store, source, { recursive: true })
    const dir = join(root, "ro")
    mkdirSync(dir)
    execFileSync("mount", ["--bind", source, dir])
    mounts.push(dir)
    execFileSync("mount", ["-o", "remount,ro,bind", dir])
    expect(() => writeFileSync(join(dir, "probe"), "x")).toThrow(/EROFS/)
    const results = await runReads(dir, deadRunId)
    for (const r of results) expect(r.stderr).not.toMatch(/EACCES|EROFS|EPERM/)
    const shown = parseListing<RunJson>(results[1].stdout, "runs")
    expect(shown.map((r) => r.name)).toContain("baseline")
    // A write is refused with the reason, and changes nothing.
    const repaired = await cli(["repair", "--dir", dir])
    expect(repaired.status).toBe(1)
    expect(repaired.stderr).toMatch(/EROFS/)
  }, 180_000)

  it("a full disk: every read works, and a refused write (repair) says the disk is full and leaves no lock or temp file", async () => {
    const dir = join(root, "full")
    mkdirSync(dir)
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir])
    mounts.push(dir)
    cpSync(store, dir, { recursive: true })
    // Fill the disk to the last byte.
    const filler = join(dir, "filler")
    const chunk = Buffer.alloc(64 << 10, 1)
    for (let size = chunk.length; size >= 1; size >>= 1) {
      for (;;) {
        try {
          appendFileSync(filler, chunk.subarray(0, size))
        } catch (e) {
          expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC")
          break
        }
      }
    }
    const before = snapshot(dir)
    const results = await runReads(dir, deadRunId)
    for (const r of results) expect(r.stderr).not.toMatch(/ENOSPC/)
    expect(snapshot(dir)).toEqual(before)
    const repaired = await cli(["repair", "--dir", dir])
    expect(repaired.status).toBe(1)
    expect(lines(repaired.stderr)).toHaveLength(1)
    expect(repaired.stderr).toMatch(/Cannot take the store's lock .*ENOSPC.*The disk is full: free some space and retry\./)
    expect(snapshot(dir)).toEqual(before)
  }, 180_000)
})

