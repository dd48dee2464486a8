/**
 * The ArtifactStore port over a runledger server: blobs by content address
 * (`PUT/GET /api/runledger/blobs/{sha256}`). The server checks that the bytes hash to the name
 * before it stores them, and the client checks what it downloads the same way. Artifacts are not
 * spooled: an upload while the server is unreachable fails with a StorageError (the bytes are
 * the caller's, still on its disk or in its memory).
 */
import { NotFound, StorageError, StoreCorrupted, type StoredBlob } from "@runledger/core"
import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { NATIVE } from "./event-store.ts"
import { send, type ServerOptions, Unreachable } from "./request.ts"

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

const unreachable = (server: ServerOptions, what: string) => (e: unknown): never => {
  if (e instanceof Unreachable) throw new StorageError({ message: `${what}: ${e.message}. Artifacts are not spooled; upload it again when the server is back.`, cause: e })
  throw e
}

export class HttpArtifactStore {
  private readonly server: ServerOptions

  constructor(server: ServerOptions) {
    this.server = server
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha = sha256(bytes)
    const res = await send(this.server, { method: "PUT", path: `${NATIVE}/blobs/${sha}`, body: () => bytes as Uint8Array<ArrayBuffer>, headers: { "content-type": "application/octet-stream" } }).catch(unreachable(this.server, "Uploading an artifact"))
    return (await res.json()) as StoredBlob
  }

  /** Hashed in one pass over the file, then streamed up (never whole in memory). */
  async putFile(path: string): Promise<StoredBlob> {
    const hash = createHash("sha256")
    try {
      await pipeline(createReadStream(path), hash)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotFound({ kind: "file", id: path, message: `No file ${path} to log as an artifact.` })
      throw new StorageError({ message: `Reading ${path}: ${e instanceof Error ? e.message : String(e)}`, cause: e })
    }
    const sha = hash.digest("hex")
    const res = await send(this.server, {
      method: "PUT",
      path: `${NATIVE}/blobs/${sha}`,
      body: () => Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>,
      headers: { "content-type": "application/octet-stream" }
    }).catch(unreachable(this.server, `Uploading ${path}`))
    return (await res.json()) as StoredBlob
  }

  async get(sha: string): Promise<Uint8Array> {
    const res = await send(this.server, { method: "GET", path: `${NATIVE}/blobs/${sha}` }).catch(unreachable(this.server, `Downloading artifact ${sha}`))
    const bytes = new Uint8Array(await res.arrayBuffer())
    if (sha256(bytes) !== sha) throw new StoreCorrupted({ file: `${this.server.url}${NATIVE}/blobs/${sha}`, offset: 0, message: `The server sent bytes for artifact ${sha} that hash to ${sha256(bytes)}: refused. Run \`runledger verify\` on the server's store.` })
    return bytes
  }
}
