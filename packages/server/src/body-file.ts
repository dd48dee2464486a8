/**
 * An upload's body as a file: streamed to a temporary file (no body limit, never whole in memory),
 * hashed on the way, and removed once `use` has settled. The artifact proxy and the native blob
 * route both store uploads this way.
 */
import { createHash } from "node:crypto"
import { createWriteStream } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable, Transform } from "node:stream"
import type { ReadableStream } from "node:stream/web"
import { pipeline } from "node:stream/promises"

export const withBodyFile = async <A>(body: globalThis.ReadableStream<Uint8Array> | null, use: (file: string, sha256: string) => Promise<A>): Promise<A> => {
  const dir = await mkdtemp(join(tmpdir(), "runledger-upload-"))
  try {
    const file = join(dir, "body")
    const hash = createHash("sha256")
    const tap = new Transform({
      transform(chunk: Buffer, _enc, next) {
        hash.update(chunk)
        next(null, chunk)
      }
    })
    await pipeline(body === null ? Readable.from([]) : Readable.fromWeb(body as ReadableStream<Uint8Array>), tap, createWriteStream(file))
    // Awaited here: the finally below removes the file, which `use` must read first.
    return await use(file, hash.digest("hex"))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
