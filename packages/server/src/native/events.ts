/**
 * The native event API (API-CONTRACT.md, "Events"): the store's own EventStore and ArtifactStore
 * ports over HTTP, for runledger's remote client (@runledger/store-http) and the web UI's live tail.
 * Every rule (expected versions, idempotent ids, content addresses) is the store's: a handler only
 * decodes the request, calls the port, and writes its answer.
 */
import type { ArtifactStoreShape, EventStoreShape, NewEvent, RecordedEvent } from "@runledger/core"
import { decodeEventValue, encodeEvent } from "@runledger/core/store-kit"
import { InvalidInput, NotFound } from "@runledger/core"
import { Effect, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { createWriteStream } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable, Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import type { Context, Hono, MiddlewareHandler } from "hono"

export const NATIVE_PREFIX = "/api/runledger"

/** What the routes need from the open store: its two ports. */
export interface NativeStore {
  readonly events: EventStoreShape
  readonly artifacts: ArtifactStoreShape
}

// -- request and response schemas (kept beside the handlers until route.ts exists) ----------------

export const AppendBody = Schema.Struct({
  stream: Schema.String,
  expectedVersion: Schema.Union([Schema.Number, Schema.Literal("any")]),
  events: Schema.Array(Schema.Unknown)
})
export const AppendReply = Schema.Struct({ version: Schema.Number, position: Schema.Number })
export const HeadReply = Schema.Struct({ position: Schema.Number })
export const BlobReply = Schema.Struct({ sha256: Schema.String, size: Schema.Number })

// -- errors: the contract's body and status by tag ------------------------------------------------

const STATUS: Record<string, number> = {
  InvalidInput: 400,
  ParamConflict: 400,
  RunNotActive: 400,
  FilterParseError: 400,
  OrderByParseError: 400,
  PageTokenError: 400,
  NotFound: 404,
  ConcurrencyConflict: 409,
  StorageError: 500,
  StoreCorrupted: 500
}

/** `{ error: { _tag, message, ...fields } }` with the status of its tag; an untagged error is a 500 StorageError. */
export const nativeError = (c: Context, e: unknown): Response => {
  const tagged = typeof e === "object" && e !== null && "_tag" in e && typeof (e as { _tag: unknown })._tag === "string"
  if (!tagged) process.stderr.write(`runledger's server: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  const body: Record<string, unknown> = tagged
    ? Object.fromEntries(Object.entries(e as object).filter(([k, v]) => k !== "cause" && k !== "stack" && typeof v !== "function"))
    : { _tag: "StorageError" }
  body._tag = tagged ? (e as { _tag: string })._tag : "StorageError"
  body.message = e instanceof Error ? e.message : String(e)
  return c.json({ error: body }, (STATUS[body._tag as string] ?? 500) as 400)
}

const badRequest = (message: string) => new InvalidInput({ field: "body", message })

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

// -- the wire form of events -----------------------------------------------------------------------

/** A draft from the wire: checked by the codec (the stream and version it is given are the store's to set). */
export const decodeNewEvent = (u: unknown, stream: string, i: number): NewEvent => {
  if (u === null || typeof u !== "object" || Array.isArray(u)) throw badRequest(`events[${i}] must be a JSON object (an event as runledger's codec encodes it).`)
  try {
    const { stream: _s, version: _v, prev: _p, ...draft } = decodeEventValue({ ...u, stream, version: 1 }) as unknown as Record<string, unknown>
    return draft as unknown as NewEvent
  } catch (e) {
    throw badRequest(`events[${i}] is not a valid event: ${e instanceof Error ? e.message : String(e)}. Nothing was appended.`)
  }
}

/** A recorded event as one JSON text: the codec's JSON plus `position`. */
export const recordedJson = (e: RecordedEvent): string => `${encodeEvent(e).slice(0, -1)},"position":${e.position}}`

// -- the routes ------------------------------------------------------------------------------------

const SHA256 = /^[0-9a-f]{64}$/

const fromParam = (raw: string | undefined, name: string): number => {
  if (raw === undefined || raw === "") return 0
  if (!/^\d+$/.test(raw)) throw new InvalidInput({ field: name, message: `${name} must be a log position (a whole number >= 0), not ${JSON.stringify(raw)}.` })
  return Number(raw)
}

/** The events a `stream=` or `streamPrefix=` query narrows to. */
const narrowing = (c: Context): ((e: RecordedEvent) => boolean) => {
  const stream = c.req.query("stream")
  const prefix = c.req.query("streamPrefix")
  if (stream !== undefined) return (e) => e.stream === stream
  if (prefix !== undefined) return (e) => e.stream.startsWith(prefix)
  return () => true
}

/** The events after `from` up to `to` (inclusive), a batch at a time. */
const eventsBetween = (store: NativeStore, from: number, to: number) =>
  Stream.toAsyncIterable(store.events.readAll(from).pipe(Stream.takeWhile((e) => e.position <= to)))

export interface EventRoutes {
  /** Ends every live tail (the server is closing): their responses finish, so the drain is not held up. */
  readonly closeTails: () => void
}

export interface EventRouteOptions {
  /** How often a live tail looks at the store's head while it is connected. */
  readonly pollMs?: number
  /** How often a live tail sends a keep-alive comment. */
  readonly keepAliveMs?: number
}

export const mountEventRoutes = (app: Hono<any>, store: NativeStore, limit: MiddlewareHandler, options: EventRouteOptions = {}): EventRoutes => {
  const pollMs = options.pollMs ?? 250
  const keepAliveMs = options.keepAliveMs ?? 15_000
  const shutdown = new AbortController()
  const guarded = (handler: (c: Context) => Promise<Response>) => async (c: Context) => {
    try {
      return await handler(c)
    } catch (e) {
      return nativeError(c, e)
    }
  }

  app.get(`${NATIVE_PREFIX}/head`, guarded(async (c) => c.json({ position: await run(store.events.head) })))

  app.post(`${NATIVE_PREFIX}/events`, limit, guarded(async (c) => {
    const type = c.req.header("content-type")
    if (type === undefined || type.split(";")[0].trim().toLowerCase() !== "application/json") {
      throw badRequest(`Send the events as JSON (Content-Type: application/json), not ${JSON.stringify(type ?? "no content type")}.`)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(await c.req.text())
    } catch (e) {
      throw badRequest(`Malformed JSON in the request body: ${(e as Error).message}`)
    }
    let body: typeof AppendBody.Type
    try {
      body = Schema.decodeUnknownSync(AppendBody)(parsed)
    } catch (e) {
      throw badRequest(`The body must be { stream, expectedVersion: number | "any", events: [...] }: ${e instanceof Error ? e.message : String(e)}`)
    }
    const events = body.events.map((u, i) => decodeNewEvent(u, body.stream, i))
    return c.json(await run(store.events.append(body.stream, events, body.expectedVersion)))
  }))

  app.get(`${NATIVE_PREFIX}/events`, guarded(async (c) => {
    const from = fromParam(c.req.query("from"), "from")
    const keep = narrowing(c)
    if ((c.req.header("accept") ?? "").includes("text/event-stream")) return liveTail(c, from, keep)
    // NDJSON up to the head as of the request.
    const head = await run(store.events.head)
    const encoder = new TextEncoder()
    const lines = async function*() {
      let chunk = ""
      for await (const e of eventsBetween(store, from, head)) {
        if (!keep(e)) continue
        chunk += `${recordedJson(e)}\n`
        if (chunk.length >= 64 * 1024) {
          yield encoder.encode(chunk)
          chunk = ""
        }
      }
      if (chunk !== "") yield encoder.encode(chunk)
    }
    return new Response(Readable.toWeb(Readable.from(lines())) as ReadableStream, { headers: { "content-type": "application/x-ndjson" } })
  }))

  /** Server-Sent Events from `Last-Event-ID` (a reconnect) or `from`, following the head until the client or the server leaves. */
  const liveTail = (c: Context, from: number, keep: (e: RecordedEvent) => boolean): Response => {
    const lastId = c.req.header("last-event-id")
    let position = lastId !== undefined && /^\d+$/.test(lastId) ? Number(lastId) : from
    const gone = AbortSignal.any([shutdown.signal, c.req.raw.signal])
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        let lastSent = Date.now()
        const wait = (ms: number) => new Promise<void>((resolve) => {
          const t = setTimeout(done, ms)
          function done() {
            clearTimeout(t)
            gone.removeEventListener("abort", done)
            resolve()
          }
          gone.addEventListener("abort", done, { once: true })
        })
        try {
          controller.enqueue(encoder.encode(": runledger live tail\n\n"))
          while (!gone.aborted) {
            const head = await run(store.events.head)
            if (head > position) {
              let text = ""
              for await (const e of eventsBetween(store, position, head)) {
                if (keep(e)) text += `id: ${e.position}\ndata: ${recordedJson(e)}\n\n`
              }
              position = head
              if (text !== "") {
                controller.enqueue(encoder.encode(text))
                lastSent = Date.now()
              }
            } else if (Date.now() - lastSent >= keepAliveMs) {
              controller.enqueue(encoder.encode(": keep-alive\n\n"))
              lastSent = Date.now()
            }
            await wait(pollMs)
          }
          controller.close()
        } catch (e) {
          // The client left mid-write, or the store failed: the stream ends (a browser reconnects from its Last-Event-ID).
          if (!gone.aborted) process.stderr.write(`runledger's server: a live tail ended: ${e instanceof Error ? e.message : String(e)}\n`)
          try {
            controller.close()
          } catch {
            // already closed by the client
          }
        }
      }
    })
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" } })
  }

  app.get(`${NATIVE_PREFIX}/streams/:stream`, guarded(async (c) => {
    const events = await run(store.events.readStream(c.req.param("stream") ?? ""))
    const text = `{"events":[${events.map(recordedJson).join(",")}]}`
    return c.body(text, 200, { "content-type": "application/json" })
  }))

  app.put(`${NATIVE_PREFIX}/blobs/:sha256`, guarded(async (c) => {
    const expected = c.req.param("sha256") ?? ""
    if (!SHA256.test(expected)) throw new InvalidInput({ field: "sha256", message: `${JSON.stringify(expected)} is not a sha256 (64 lowercase hex digits).` })
    // Streamed to a temp file and hashed on the way; stored only when the bytes hash to the name.
    const dir = await mkdtemp(join(tmpdir(), "runledger-blob-"))
    try {
      const file = join(dir, "body")
      const hash = createHash("sha256")
      const tap = new Transform({
        transform(chunk: Buffer, _enc, next) {
          hash.update(chunk)
          next(null, chunk)
        }
      })
      const raw = c.req.raw.body
      await pipeline(raw === null ? Readable.from([]) : Readable.fromWeb(raw as import("node:stream/web").ReadableStream<Uint8Array>), tap, createWriteStream(file))
      const actual = hash.digest("hex")
      if (actual !== expected) throw new InvalidInput({ field: "body", message: `The bytes hash to ${actual}, not ${expected}: nothing was stored. Send the bytes whose sha256 is in the path.` })
      return c.json(await run(store.artifacts.putFile(file)))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }))

  app.get(`${NATIVE_PREFIX}/blobs/:sha256`, guarded(async (c) => {
    const sha = c.req.param("sha256") ?? ""
    if (!SHA256.test(sha)) throw new NotFound({ kind: "blob", id: sha, message: `${JSON.stringify(sha)} is not a sha256 (64 lowercase hex digits).` })
    const bytes = await run(store.artifacts.get(sha))
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": "application/octet-stream" })
  }))

  return { closeTails: () => shutdown.abort() }
}
