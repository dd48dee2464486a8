/**
 * Content-addressed artifact storage in `<dir>/artifacts/<first 2 hex>/<rest of sha256>`.
 * A blob is written to a temporary file, fsynced, then renamed into place, so a reader never sees
 * half a blob and a crash leaves at worst an orphaned temporary file. The same bytes are stored once.
 */
import { NotFound, StorageError, type StoredBlob } from "@runledger/core"
import { createHash, randomBytes } from "node:crypto"
import { createReadStream, promises as fs } from "node:fs"
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
    const temp = await this.tempFile()
    const fh = await fs.open(temp, "w")
    try {
      await fh.writeFile(bytes)
      if (this.fsync) await fh.sync()
    } finally {
      await fh.close()
    }
    await this.settle(temp, sha256)
    return { sha256, size: bytes.length }
  }

  /** Hash and copy in one streaming pass, so a large model file is never held in memory. */
  async putFile(localPath: string): Promise<StoredBlob> {
    const stat = await fs.stat(localPath).catch(() => null)
    if (stat === null || !stat.isFile()) {
      throw new NotFound({ kind: "file", id: localPath, message: `No local file ${localPath}: check the path (relative paths start at ${process.cwd()}).` })
    }
    const temp = await this.tempFile()
    const hash = createHash("sha256")
    let size = 0
    const out = await fs.open(temp, "w")
    try {
      for await (const chunk of createReadStream(localPath, { highWaterMark: 1 << 20 })) {
        const b = chunk as Buffer
        hash.update(b)
        size += b.length
        await out.write(b)
      }
      if (this.fsync) await out.sync()
    } finally {
      await out.close()
    }
    const sha256 = hash.digest("hex")
    if (await exists(this.pathOf(sha256))) await fs.unlink(temp)
    else await this.settle(temp, sha256)
    return { sha256, size }
  }

  async get(sha256: string): Promise<Uint8Array> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new NotFound({ kind: "artifact", id: sha256, message: `${JSON.stringify(sha256)} is not a sha256 digest.` })
    try {
      return await fs.readFile(this.pathOf(sha256))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new NotFound({ kind: "artifact", id: sha256, message: `No artifact blob ${sha256} in ${this.root}.` })
      }
      throw new StorageError({ message: `Reading artifact ${sha256}: ${(e as Error).message}`, cause: e })
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

const exists = (path: string): Promise<boolean> => fs.access(path).then(() => true, () => false)
