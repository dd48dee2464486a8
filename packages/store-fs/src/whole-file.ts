/**
 * Write a file so that a crash at any moment leaves either the old file or the new one whole: a
 * temporary file of its own beside it (several processes may write at once), flushed, renamed
 * over the old, and the directory flushed. A leftover temporary file is never read. For caches
 * kept beside a store: the index snapshot, the read model's run listing.
 */
import { promises as fs } from "node:fs"
import { basename, dirname, join } from "node:path"

export const writeWholeFile = async (file: string, bytes: Buffer): Promise<void> => {
  const folder = dirname(file)
  const temp = join(folder, `${basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`)
  try {
    await fs.writeFile(temp, bytes, { flush: true })
    await fs.rename(temp, file)
  } catch (e) {
    await fs.rm(temp, { force: true })
    throw e
  }
  const fh = await fs.open(folder, "r")
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
