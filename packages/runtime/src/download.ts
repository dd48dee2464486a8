/**
 * downloadArtifacts: the exact bytes behind `runs:/<id>/<path>` or
 * `models:/<name>/<version | stage | @alias>`, written under a local destination.
 */
import type { TrackerClient } from "@runledger/tracker"
import { promises as fs } from "node:fs"
import { dirname, join, resolve } from "node:path"

/**
 * One file goes to `dest` itself, or into it when `dest` is an existing folder or ends with '/'.
 * A folder of files goes under `dest`, keeping its layout. Returns the paths written.
 */
export const downloadArtifacts = async (tracker: TrackerClient, uri: string, dest: string): Promise<string[]> => {
  const files = await tracker.readArtifacts(uri)
  const target = resolve(dest)
  const isFolder = dest.endsWith("/") || (await fs.stat(target).then((s) => s.isDirectory(), () => false))
  const single = files.length === 1 && !uri.endsWith("/") && files[0].relativePath === uri.slice(uri.lastIndexOf("/") + 1)
  const written: string[] = []
  for (const f of files) {
    // Artifact paths never climb out of their run (checked when stored), so joins stay under target.
    const path = single && !isFolder ? target : join(target, f.relativePath)
    await fs.mkdir(dirname(path), { recursive: true })
    await fs.writeFile(path, f.bytes)
    written.push(path)
  }
  return written
}
