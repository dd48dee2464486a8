/**
 * Artifact paths that could be logged but never downloaded are refused when logged: a path that is
 * both a file and a folder in one run, and a segment longer than a file name may be (255 bytes).
 * What is accepted downloads.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { expect, it } from "vitest"
import { freshRoot as fresh } from "../packages/cli/test/harness.ts"
import { openTracker } from "../packages/cli/src/index.ts"


it("x/y and x/y/z in one run, either order, awaited or racing: the second is refused; 256-byte names are refused; the rest downloads", async () => {
  const t = await openTracker({ dir: fresh() })
  const run = await t.startRun({ experiment: "e" })
  await run.logText("file", "x/y")
  await expect(run.logText("deeper", "x/y/z")).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/already stores the file "x\/y"/) })
  await run.logText("z", "a/b/c")
  await expect(run.logText("folder?", "a/b")).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/already stores "a\/b\/c", so "a\/b" is a folder/) })
  await run.logText("again", "x/y") // the same path again replaces it
  // Both uploads in flight at once: the one queued second is refused when decided.
  const racing = await Promise.allSettled([run.logText("1", "r/s"), run.logText("2", "r/s/t")])
  expect(racing.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"])
  const e255 = "e".repeat(255)
  const accented = "é".repeat(128) // 256 bytes in UTF-8, 128 characters
  await expect(run.logText("long", `m/${"e".repeat(256)}`)).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/is 256 bytes in UTF-8; file systems allow 255/) })
  await expect(run.logText("long", accented)).rejects.toMatchObject({ _tag: "InvalidInput", message: expect.stringMatching(/is 256 bytes/) })
  await run.logText("longest", `m/${e255}`)
  await run.end()
  const paths = (await t.getRun(run.id)).artifacts.map((a) => a.path).sort()
  expect(paths.filter((p) => !p.startsWith("r/"))).toEqual(["a/b/c", `m/${e255}`, "x/y"])
  const out = fresh()
  await t.downloadArtifacts(`runs:/${run.id}/x`, join(out, "x"))
  await t.downloadArtifacts(`runs:/${run.id}/m`, join(out, "m"))
  expect(readFileSync(join(out, "x", "y"), "utf8")).toBe("again")
  expect(readFileSync(join(out, "m", e255), "utf8")).toBe("longest")
  await t.close()
})
