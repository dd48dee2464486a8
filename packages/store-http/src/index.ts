/**
 * @runledger/store-http: the EventStore and ArtifactStore ports over a runledger server's native
 * HTTP API, so the unchanged tracker runs in a client against the server's store (the server
 * checks expected versions and idempotent ids), with a durable local spool while the server is
 * unreachable.
 *
 *     import { openHttpStore } from "@runledger/store-http"
 *     const store = await openHttpStore({ url: "http://127.0.0.1:5000" })
 *     // store.events, store.artifacts: the ports; await store.close() pushes what is spooled
 */
import { ArtifactStore, type ArtifactStoreShape, EventStore, type EventStoreShape, type NotFound, type StorageError, type StoreCorrupted } from "@runledger/core"
import { eventStoreOf, passTagged } from "@runledger/core/store-kit"
import { Effect } from "effect"
import { HttpArtifactStore } from "./artifact-store.ts"
import { HttpEventLog } from "./event-store.ts"
import type { ServerOptions } from "./request.ts"
import { defaultSpoolDir, type PushReport, pushSpool } from "./spool.ts"
import { send, sendJson, Unreachable } from "./request.ts"

export { HttpArtifactStore } from "./artifact-store.ts"
export { appendBody, decodeRecorded, HttpEventLog, type HttpEventLogOptions, NATIVE } from "./event-store.ts"
export { CORE_ERRORS, type ErrorClasses, errorFromBody, send, sendJson, type SendOptions, type ServerOptions, Unreachable } from "./request.ts"
export { defaultSpoolDir, type PushReport, pushSpool, type PushTarget, REJECTED, spoolAppend, spooledFiles } from "./spool.ts"

export interface HttpStoreOptions extends ServerOptions {
  /** Where appends wait while the server is unreachable; default `~/.runledger/spool/<host_port>`. */
  readonly spoolDir?: string
  /** Told when appends are spooled, pushed, refused or left (default: a line on stderr). */
  readonly onSpool?: (message: string) => void
}

export interface HttpStore {
  readonly url: string
  readonly spoolDir: string
  readonly log: HttpEventLog
  readonly events: EventStoreShape
  readonly artifacts: ArtifactStoreShape
  /** Push what is spooled now. */
  readonly push: () => Promise<PushReport>
  /** A last push; what remains spooled is reported through onSpool and returned. */
  readonly close: () => Promise<PushReport>
}

export const httpArtifactStore = (store: HttpArtifactStore) =>
  ArtifactStore.of({
    put: (bytes) => Effect.tryPromise({ try: () => store.put(bytes), catch: passTagged<StorageError>("Uploading an artifact") }),
    putFile: (path) => Effect.tryPromise({ try: () => store.putFile(path), catch: passTagged<NotFound | StorageError>(`Uploading ${path}`) }),
    get: (sha256) => Effect.tryPromise({ try: () => store.get(sha256), catch: passTagged<NotFound | StorageError | StoreCorrupted>(`Downloading artifact ${sha256}`) })
  })

/** The server's store as the two ports; spooled appends left by an earlier client start being pushed. */
export const openHttpStore = async (options: HttpStoreOptions): Promise<HttpStore> => {
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw new TypeError(`${JSON.stringify(options.url)} is not a URL; a server is named http://host:port.`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`${JSON.stringify(options.url)} is not an http(s) URL.`)
  const spoolDir = options.spoolDir ?? defaultSpoolDir(options.url)
  const onSpool = options.onSpool ?? ((m: string) => void process.stderr.write(`${m}\n`))
  const log = new HttpEventLog({ ...options, spoolDir, onSpool })
  await log.start()
  return {
    url: options.url,
    spoolDir,
    log,
    events: EventStore.of(eventStoreOf(log)),
    artifacts: httpArtifactStore(new HttpArtifactStore(options)),
    push: () => log.push(),
    close: () => log.close()
  }
}

/** `runledger sync`: push a spool directory to a server by hand; what was sent, already present, refused, left. */
export const syncSpool = (dir: string, server: ServerOptions): Promise<PushReport> =>
  pushSpool(dir, {
    post: async (body) => (await (await send(server, { method: "POST", path: "/api/runledger/events", body: () => body, headers: { "content-type": "application/json" } })).json()) as { position: number },
    head: async () => ((await sendJson(server, "GET", "/api/runledger/head")) as { position: number }).position,
    unreachable: (e) => e instanceof Unreachable
  })
