/**
 * Content-addressed artifact storage in `<dir>/artifacts/<first 2 hex>/<rest of sha256>`.
 * A blob is written to a temporary file, fsynced, then renamed into place, so a reader never sees
 * half a blob and a crash leaves at worst an orphaned temporary file (a failed write removes its own).
 * The same bytes are stored once. Every read checks the bytes against their sha256.
 */
import { NotFound, StorageError, StoreCorrupted, type StoredBlob } from "@runledger/core"
import { createHash, randomBytes } from "node:crypto"
import { createReadStream, promises as fs } from "node:fs"
import type { FileHandle } from "node:fs/promises"
import { join } from "node:path"
import { syncDir } from "./event-log.ts"

export class FsArtifactStore {
  private readonly root: string
  private readonly tmp: string
  private readonly fsync: boolean

  constructor(dir: string, fsync = true) {
    this.root = join(dir, "artifacts")
    this.tmp = join(this.root, "tmp")
    this.fsync = fsync
  }

  pathOf(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256.slice(2))
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = createHash("sha256").update(bytes).digest("hex")
    if (await exists(this.pathOf(sha256))) return { sha256, size: bytes.length }
    await this.store(async (out) => {
      await out.writeFile(bytes)
      return sha256
    })
    return { sha256, size: bytes.length }
  }

  /** Hash and copy in one streaming pass, so a large model file is never held in memory. */
  async putFile(localPath: string): Promise<StoredBlob> {
    const stat = await fs.stat(localPath).catch(() => null)
    if (stat === null || !stat.isFile()) {
      throw new NotFound({ kind: "file", id: localPath, message: `No local file ${localPath}: check the path (relative paths start at ${process.cwd()}).` })
    }
    let size = 0
    const sha256 = await this.store(async (out) => {
      const hash = createHash("sha256")
      for await (const chunk of createReadStream(localPath, { highWaterMark: 1 << 20 })) {
        const b = chunk as Buffer
        hash.update(b)
        size += b.length
        await writeAll(out, b)
      }
      return hash.digest("hex")
    })
    return { sha256, size }
  }

  /**
   * The blob's bytes, hashed while they are read: bytes that no longer hash to their name (altered
   * on disk, by damage or by tampering) are never served, so a tampered model cannot be deployed.
   */
  async get(sha256: string): Promise<Uint8Array> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new NotFound({ kind: "artifact", id: sha256, message: `${JSON.stringify(sha256)} is not a sha256 digest.` })
    const path = this.pathOf(sha256)
    const hash = createHash("sha256")
    const chunks: Buffer[] = []
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
        hash.update(chunk as Buffer)
        chunks.push(chunk as Buffer)
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new NotFound({ kind: "artifact", id: sha256, message: `No artifact blob ${sha256} in ${this.root}.` })
      }
      throw new StorageError({ message: `Reading artifact ${sha256}: ${(e as Error).message}`, cause: e })
    }
    const actual = hash.digest("hex")
    if (actual !== sha256) {
      // The whole blob is suspect, not one place in it: offset 0.
      throw new StoreCorrupted({
        file: path,
        offset: 0,
        message: `Artifact blob ${sha256} was altered (damaged or tampered with): its bytes hash to ${actual}, so they were not served. Run \`runledger verify\` to list every altered artifact, and restore ${path} from a backup.`
      })
    }
    return Buffer.concat(chunks)
  }

  /**
   * Write a new blob: `fill` writes the bytes into a temporary file and returns their sha256; the
   * file is then fsynced and renamed into place (or dropped when the same bytes are already stored).
   * On any failure (a full disk above all) the temporary file is removed, so a failed upload does
   * not keep the disk full.
   */
  private async store(fill: (out: FileHandle) => Promise<string>): Promise<string> {
    const temp = await this.tempFile()
    try {
      const out = await fs.open(temp, "w")
      let sha256: string
      try {
        sha256 = await fill(out)
        if (this.fsync) await out.sync()
      } finally {
        await out.close()
      }
      if (await exists(this.pathOf(sha256))) await fs.unlink(temp)
      else await this.settle(temp, sha256)
      return sha256
    } catch (e) {
      // The write's error is the one to report; a failed clean-up must not hide it.
      await fs.rm(temp, { force: true }).catch(() => undefined)
      throw e
    }
  }

  private async tempFile(): Promise<string> {
    await fs.mkdir(this.tmp, { recursive: true })
    return join(this.tmp, `${process.pid}-${randomBytes(8).toString("hex")}`)
  }

  private async settle(temp: string, sha256: string): Promise<void> {
    const final = this.pathOf(sha256)
    const folder = join(this.root, sha256.slice(0, 2))
    await fs.mkdir(folder, { recursive: true })
    await fs.rename(temp, final)
    if (this.fsync) await syncDir(folder)
  }
}

/**
 * FileHandle.write may write only part of a buffer (a disk filling up does that) and reports it as
 * success: write the rest, so a short write either completes or fails, never leaves a short blob.
 */
const writeAll = async (out: FileHandle, b: Buffer): Promise<void> => {
  for (let at = 0; at < b.length;) at += (await out.write(b, at, b.length - at)).bytesWritten
}

const exists = (path: string): Promise<boolean> => fs.access(path).then(() => true, () => false)
