/**
 * The native event API (API-CONTRACT.md, "Events"): the store's own EventStore and ArtifactStore
 * ports over HTTP, for runledger's remote client (@runledger/store-http) and the web UI's live tail.
 * Every rule (expected versions, idempotent ids, content addresses) is the store's: a handler only
 * decodes the request, calls the port, and writes its answer. Routes as data (route.ts), so they
 * are in the OpenAPI document.
 */
import type { NewEvent, RecordedEvent } from "@runledger/core"
import { decodeEventValue, encodeEvent } from "@runledger/core/store-kit"
import { InvalidInput, NotFound } from "@runledger/core"
import { Effect, Schema, Stream } from "effect"
import { Readable } from "node:stream"
import type { ArtifactStoreShape, EventStoreShape } from "@runledger/core"
import { withBodyFile } from "../body-file.ts"
import { type AnyRoute, type NativeContext, route } from "./route.ts"

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

const EventsQuery = Schema.Struct({
  from: Schema.optionalKey(Schema.String.annotate({ description: "A log position: events after it (default 0)." })),
  stream: Schema.optionalKey(Schema.String.annotate({ description: "Only this stream's events (run-<id>, model-<name>, experiments)." })),
  streamPrefix: Schema.optionalKey(Schema.String.annotate({ description: "Only the events of streams starting with this (run-)." }))
})

/** The events a `stream=` or `streamPrefix=` query narrows to. */
const narrowing = (q: typeof EventsQuery.Type): ((e: RecordedEvent) => boolean) => {
  const { stream, streamPrefix } = q
  if (stream !== undefined) return (e) => e.stream === stream
  if (streamPrefix !== undefined) return (e) => e.stream.startsWith(streamPrefix)
  return () => true
}

/** The events after `from` up to `to` (inclusive). */
const eventsBetween = (store: NativeStore, from: number, to: number) =>
  Stream.toAsyncIterable(store.events.readAll(from).pipe(Stream.takeWhile((e) => e.position <= to)))

const storeOf = (ctx: NativeContext): NativeStore => ctx.tracker.store

export interface EventRouteOptions {
  /** How often a live tail looks at the store's head while it is connected. */
  readonly pollMs?: number
  /** How often a live tail sends a keep-alive comment. */
  readonly keepAliveMs?: number
}

export interface EventRoutes {
  readonly routes: ReadonlyArray<AnyRoute>
  /** Ends every live tail (the server is closing): their responses finish, so the drain is not held up. */
  readonly closeTails: () => void
}

/** The Events routes of one server (its live tails end together when it closes). */
export const eventRoutes = (options: EventRouteOptions = {}): EventRoutes => {
  const pollMs = options.pollMs ?? 250
  const keepAliveMs = options.keepAliveMs ?? 15_000
  const shutdown = new AbortController()

  /** Server-Sent Events from `Last-Event-ID` (a reconnect) or `from`, following the head until the client or the server leaves. */
  const liveTail = (store: NativeStore, request: Request, from: number, keep: (e: RecordedEvent) => boolean): Response => {
    const lastId = request.headers.get("last-event-id") ?? undefined
    let position = lastId !== undefined && /^\d+$/.test(lastId) ? Number(lastId) : from
    // The tail stops when the server closes, the request is aborted, or the response stream is cancelled (the client left).
    const left = new AbortController()
    const gone = AbortSignal.any([shutdown.signal, request.signal, left.signal])
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
      },
      cancel() {
        left.abort()
      }
    })
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" } })
  }

  const routes: ReadonlyArray<AnyRoute> = [
    route({
      method: "GET",
      path: "/api/runledger/head",
      summary: "The log position of the last event (0 when the store is empty).",
      response: HeadReply,
      handle: async (_input, ctx) => ({ position: await run(storeOf(ctx).events.head) })
    }),
    route({
      method: "POST",
      path: "/api/runledger/events",
      summary: "Append events to one stream with an expected version, once durable. Idempotent by event id: a repeat answers as the first did; a stale version is 409.",
      body: AppendBody,
      response: AppendReply,
      handle: async ({ body }, ctx) => {
        const events = body.events.map((u, i) => decodeNewEvent(u, body.stream, i))
        return run(storeOf(ctx).events.append(body.stream, events, body.expectedVersion))
      }
    }),
    route({
      method: "GET",
      path: "/api/runledger/events",
      summary: "The log after `from` as NDJSON (one recorded event per line, up to the head as of the request); with Accept: text/event-stream, a live tail as Server-Sent Events (resumes after Last-Event-ID).",
      query: EventsQuery,
      response: { contentType: "application/x-ndjson", description: "One recorded event per line (the codec's JSON plus position); or text/event-stream: `id: <position>`, `data: <the same JSON>`." },
      handle: async ({ query, request }, ctx) => {
        const store = storeOf(ctx)
        const from = fromParam(query.from, "from")
        const keep = narrowing(query)
        if ((request.headers.get("accept") ?? "").includes("text/event-stream")) return liveTail(store, request, from, keep)
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
      }
    }),
    route({
      method: "GET",
      path: "/api/runledger/streams/{stream}",
      summary: "One stream's events, oldest first: the audit trail of a run (run-<id>), a model (model-<name>) or `experiments`.",
      response: { contentType: "application/json", description: "{ events: [recorded event...] }, each the codec's JSON plus position." },
      handle: async ({ params }, ctx) => {
        const events = await run(storeOf(ctx).events.readStream(params.stream))
        return new Response(`{"events":[${events.map(recordedJson).join(",")}]}`, { headers: { "content-type": "application/json" } })
      }
    }),
    route({
      method: "PUT",
      path: "/api/runledger/blobs/{sha256}",
      summary: "Store bytes by content (streamed, no body limit); bytes that do not hash to the sha256 are refused and nothing is stored.",
      response: BlobReply,
      handle: async ({ params, request }, ctx) => {
        const expected = params.sha256
        if (!SHA256.test(expected)) throw new InvalidInput({ field: "sha256", message: `${JSON.stringify(expected)} is not a sha256 (64 lowercase hex digits).` })
        // Stored only when the bytes hash to the name.
        return withBodyFile(request.body, async (file, actual) => {
          if (actual !== expected) throw new InvalidInput({ field: "body", message: `The bytes hash to ${actual}, not ${expected}: nothing was stored. Send the bytes whose sha256 is in the path.` })
          return run(storeOf(ctx).artifacts.putFile(file))
        })
      }
    }),
    route({
      method: "GET",
      path: "/api/runledger/blobs/{sha256}",
      summary: "The bytes stored under a sha256; 404 if absent.",
      response: { contentType: "application/octet-stream", description: "The blob's bytes." },
      handle: async ({ params }, ctx) => {
        const sha = params.sha256
        if (!SHA256.test(sha)) throw new NotFound({ kind: "blob", id: sha, message: `${JSON.stringify(sha)} is not a sha256 (64 lowercase hex digits).` })
        const bytes = await run(storeOf(ctx).artifacts.get(sha))
        return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": "application/octet-stream" } })
      }
    })
  ]
  return { routes, closeTails: () => shutdown.abort() }
}
