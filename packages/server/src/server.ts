/**
 * The tracking server: one process owns one store (its tracker and read model) and serves MLflow's
 * REST API 2.0 over it, on Hono with @hono/node-server (chosen by bench/server.ts: see the README).
 *
 * The HTTP edge only: a token check (or the UI's session cookie: native/session.ts), a body limit, MLflow's content-type and JSON rules, timeouts,
 * routing, and the drain on close. What a request means is the mapping's (src/mlflow/*), and
 * whether it is allowed is the tracker's.
 */
import { createAdaptorServer, type HttpBindings } from "@hono/node-server"
import { LINGER_MS, openTracker, type Tracker } from "@runledger/runtime"
import type { Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { type Context, Hono, type MiddlewareHandler } from "hono"
import { bodyLimit } from "hono/body-limit"
import { ARTIFACT_ROUTES, checkUpload, download, proxyList, proxyTarget, refuseDelete, storeUpload } from "./mlflow/artifacts.ts"
import { DEFAULT_EXPERIMENT_NAME, type MlflowContext, type Route, run, serialByKey } from "./mlflow/context.ts"
import { MlflowError, toMlflowError } from "./mlflow/errors.ts"
import { EXPERIMENT_ROUTES } from "./mlflow/experiments.ts"
import type { Fields } from "./mlflow/json.ts"
import { METRIC_ROUTES } from "./mlflow/metrics.ts"
import { REGISTRY_ROUTES } from "./mlflow/registry.ts"
import { RUN_ROUTES } from "./mlflow/runs.ts"
import { eventRoutes, type EventRoutes } from "./native/events.ts"
import { mountNative, NATIVE_ROUTES } from "./native/index.ts"
import { requireToken, SESSION_PATH, sessionRoutes, Sessions, sessionState } from "./native/session.ts"
import { API_PATH, findUi, mountUi } from "./static-ui.ts"
import { withBodyFile } from "./body-file.ts"

export interface ServerOptions {
  /** The store's directory (a path). */
  readonly dir?: string
  /** The store by URI (a directory, file: URL or duckdb:<file>); see `openTracker`. */
  readonly store?: string
  /** Default 127.0.0.1: loopback unless told otherwise. */
  readonly host?: string
  /** Default 5000 (MLflow's); 0 picks a free port. */
  readonly port?: number
  /** When set, every API request needs `Authorization: Bearer <token>` (or the UI's session cookie, got by signing in with it). */
  readonly token?: string
  /** The largest request body outside artifact uploads (which stream); default 10 MB. */
  readonly maxBodyBytes?: number
  /** How long a socket may send nothing before it is closed (a stalled upload, a half-open client); default 60 s. */
  readonly idleTimeoutMs?: number
  /**
   * The largest `POST /api/runledger/events` body (default 128 MB): a remote client's flush carries
   * every point its un-awaited calls queued since the last one, in one atomic append.
   */
  readonly maxEventBodyBytes?: number
  /**
   * Load the read model in the background once listening (DuckDB's modules, then its catch-up with
   * the log) and fold the log, so the first requests wait for neither; seconds of CPU on a big
   * store, which a test server starting by the dozen does without. The CLI's server and ui
   * commands turn it on.
   */
  readonly warm?: boolean
}

export interface RunningServer {
  readonly port: number
  readonly host: string
  /** `http://host:port`, as MLFLOW_TRACKING_URI wants it. */
  readonly url: string
  /**
   * Settles once the read model is loaded and the log folded: true then; false when that failed
   * (logged, not thrown: the first search tries again). At once, true, without `warm`.
   */
  readonly warmed: Promise<boolean>
  /** Stop taking requests, let the ones in flight finish, then flush and close the store. */
  close(): Promise<void>
}

export const DEFAULT_PORT = 5000
export const DEFAULT_MAX_BODY = 10 * 1024 * 1024
export const DEFAULT_IDLE_TIMEOUT = 60_000
export const DEFAULT_MAX_EVENT_BODY = 128 * 1024 * 1024
const EVENTS_PATH = "/api/runledger/events"

/** The API's prefixes: MLflow's client uses the first, its web UI the second. */
const PREFIXES = ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"]
const PROXY = "/api/2.0/mlflow-artifacts/artifacts"

const errorResponse = (c: Context, e: unknown): Response => {
  const err = toMlflowError(e)
  if (err.code === "INTERNAL_ERROR") process.stderr.write(`runledger's server: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  return c.json(err.toJSON(), err.status as 400)
}

/** A GET's query string as fields: one value as a string, a repeated one as a list. */
const queryFields = (c: Context): Fields => {
  const fields: Record<string, unknown> = {}
  for (const [k, vs] of Object.entries(c.req.queries())) fields[k] = vs.length === 1 ? vs[0] : vs
  return fields
}

/**
 * A body that says its length, read from Node's request into one buffer of that length and decoded
 * as UTF-8 (collecting the chunks and concatenating them copied each body twice). Settles on every
 * outcome: a client gone mid-body rejects it (the answer then goes nowhere). Node's parser holds the body to its Content-Length, so the chunks fill the buffer exactly.
 */
const readStatedBody = (incoming: HttpBindings["incoming"], length: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const body = Buffer.allocUnsafe(length)
    let at = 0
    const done = (f: () => void) => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
      incoming.off("close", onClose)
      f()
    }
    const onData = (chunk: Buffer) => {
      const n = Math.min(chunk.length, length - at)
      chunk.copy(body, at, 0, n)
      at += n
    }
    const onEnd = () =>
      done(() => (at === length ? resolve(body.toString("utf8", 0, length)) : reject(new MlflowError("MALFORMED_REQUEST", `The request body ended after ${at} of the ${length} bytes its Content-Length says.`))))
    // The client is gone: its answer goes nowhere, but the request settles (and is no server fault to log).
    const gone = () => done(() => reject(new MlflowError("MALFORMED_REQUEST", `The client closed the connection after ${at} of the ${length} bytes of its request body.`)))
    const onError = gone
    const onClose = gone
    incoming.on("data", onData)
    incoming.once("end", onEnd)
    incoming.once("error", onError)
    incoming.once("close", onClose)
  })

/** A POST's JSON body, with MLflow's content-type rule; an empty body is `{}`. */
const jsonFields = async (c: Context<{ Bindings: HttpBindings }>): Promise<Fields> => {
  const type = c.req.header("content-type")
  if (type === undefined) throw new MlflowError("INVALID_PARAMETER_VALUE", "Bad Request. Content-Type header is missing.")
  if (type.split(";")[0].trim().toLowerCase() !== "application/json") {
    throw new MlflowError("INVALID_PARAMETER_VALUE", `Bad Request. Content-Type must be one of ['application/json'], not ${JSON.stringify(type)}.`)
  }
  // A chunked body (no length) has been counted against the limit through the web stream: read it there.
  const length = c.req.header("transfer-encoding") === undefined ? c.req.header("content-length") : undefined
  const text = length !== undefined && !c.env.incoming.readableDidRead ? await readStatedBody(c.env.incoming, Number(length)) : await c.req.text()
  if (text.trim() === "") return {}
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (e) {
    throw new MlflowError("MALFORMED_REQUEST", `Malformed JSON in the request body: ${(e as Error).message}`)
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new MlflowError("MALFORMED_REQUEST", "The request body must be a JSON object.")
  return body as Fields
}

/** The Hono app over one open tracker: routes, token, limits. */
const makeApp = (ctx: MlflowContext, options: { readonly token?: string; readonly maxBodyBytes?: number; readonly maxEventBodyBytes?: number }): { app: Hono<{ Bindings: HttpBindings }>; events: EventRoutes } => {
  const app = new Hono<{ Bindings: HttpBindings }>()
  const token = options.token
  const sessions = new Sessions()
  // Only the API (and /health) is behind the token: the UI's own files are the public build, and
  // the page must load to show its sign-in; the session routes check the token themselves.
  if (token !== undefined) app.use("*", requireToken(token, sessions, (c) => c.req.path === SESSION_PATH || (c.req.path !== "/health" && !API_PATH.test(c.req.path))))
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  // The rest of the body is not read: the connection closes after this answer, so no client reuses it mid-body.
  const overLimit = (c: Context) =>
    c.json(new MlflowError("REQUEST_LIMIT_EXCEEDED", `The request body is over the limit of ${maxBody} bytes; split it into smaller requests.`).toJSON(), 413, { connection: "close" })
  const counted = bodyLimit({ maxSize: maxBody, onError: overLimit })
  /**
   * A body that says its length (what MLflow's clients send) is judged by that header alone, as
   * Hono's bodyLimit judges it (Node's parser holds a body to its Content-Length). Unlike Hono's,
   * this never touches the request's web stream, so the body is then read straight from Node's
   * request: building the web Request and streaming 80 kB through it cost about a third of a
   * log-batch's time in the server. A chunked body is counted as it streams (Hono's bodyLimit).
   */
  const limit: MiddlewareHandler = async (c, next) => {
    const length = c.req.header("content-length")
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return counted(c, next)
    if (Number(length) > maxBody) return overLimit(c)
    await next()
  }
  app.onError((e, c) => errorResponse(c, e))
  app.get("/health", (c) => c.text("OK"))

  const routes: ReadonlyArray<Route> = [...EXPERIMENT_ROUTES, ...RUN_ROUTES, ...METRIC_ROUTES, ...ARTIFACT_ROUTES, ...REGISTRY_ROUTES]
  for (const prefix of PREFIXES) {
    for (const [method, path, handler] of routes) {
      const url = `${prefix}/${path}`
      if (method === "GET") app.get(url, async (c) => c.json(await handler(ctx, queryFields(c))))
      else if (method === "DELETE") {
        // MLflow's clients send a DELETE's fields in the query string or a JSON body: both are read.
        app.delete(url, limit, async (c) => c.json(await handler(ctx, { ...queryFields(c), ...(c.req.header("content-type") === undefined ? {} : await jsonFields(c)) })))
      } else app.on(method, url, limit, async (c) => c.json(await handler(ctx, await jsonFields(c))))
    }
  }

  // The artifact proxy. Uploads stream to a temp file (no body limit), then into the store by content address.
  const proxyPath = (c: Context): string => {
    const raw = c.req.path.slice(PROXY.length).replace(/^\//, "")
    try {
      return decodeURIComponent(raw)
    } catch {
      throw new MlflowError("INVALID_PARAMETER_VALUE", `The artifact path ${JSON.stringify(raw)} is not valid percent-encoding.`)
    }
  }
  app.get(PROXY, async (c) => c.json(await proxyList(ctx, await proxyTarget(ctx, c.req.query("path") ?? ""))))
  app.get(`${PROXY}/*`, async (c) => {
    const bytes = await download(ctx, await proxyTarget(ctx, proxyPath(c)))
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": "application/octet-stream" })
  })
  app.put(`${PROXY}/*`, async (c) => {
    const target = await proxyTarget(ctx, proxyPath(c))
    checkUpload(target)
    const type = c.req.header("content-type")
    await withBodyFile(c.req.raw.body, (file) => storeUpload(ctx, target, file, type && type !== "" ? type.split(";")[0].trim() : "application/octet-stream"))
    return c.json({})
  })
  app.delete(`${PROXY}/*`, () => refuseDelete())

  // runledger's own API (/api/runledger/*, /api/openapi.json): its own error shape and 404.
  const events = eventRoutes()
  const eventLimit = bodyLimit({
    maxSize: options.maxEventBodyBytes ?? DEFAULT_MAX_EVENT_BODY,
    onError: (c) =>
      c.json({ error: { _tag: "InvalidInput", field: "body", message: `The events are over the limit of ${options.maxEventBodyBytes ?? DEFAULT_MAX_EVENT_BODY} bytes in one append; flush (await) more often.` } }, 413, { connection: "close" })
  })
  mountNative(app, { tracker: ctx.tracker }, { bodyLimit: (c, next) => (c.req.path === EVENTS_PATH ? eventLimit(c, next) : limit(c, next)) }, [...NATIVE_ROUTES, ...events.routes, ...sessionRoutes(token, sessions)])
  // The web UI at /, after every API route: it answers the GETs none of them took.
  mountUi(app, findUi(), (request) => sessionState(token, sessions, request))

  app.notFound((c) => c.json(new MlflowError("ENDPOINT_NOT_FOUND", `No endpoint ${c.req.method} ${c.req.path} on this server.`).toJSON(), 404))
  return { app, events }
}

/** Open the store, make sure MLflow's Default experiment exists, and listen. */
export const startServer = async (options: ServerOptions = {}): Promise<RunningServer> => {
  if (options.dir !== undefined && options.store !== undefined) {
    throw new MlflowError("INVALID_PARAMETER_VALUE", "Pass --dir or --store, not both.")
  }
  // The server owns its store: the read model stays open between requests (LINGER_MS) instead of
  // being opened again for each search.
  const tracker: Tracker = await openTracker({ ...(options.store !== undefined ? { uri: options.store } : options.dir !== undefined ? { dir: options.dir } : {}), readModelLingerMs: LINGER_MS })
  let server: Server
  try {
    const defaultExperiment = await run(tracker.effect.ensureExperiment(DEFAULT_EXPERIMENT_NAME))
    const ctx: MlflowContext = { tracker, defaultExperimentId: defaultExperiment.id, serial: serialByKey(), handles: new Map() }
    const { app, events } = makeApp(ctx, options)
    let inflight = 0
    let closing = false
    let drained: (() => void) | undefined
    // The request each socket is being answered for: the idle cut below spares a socket whose
    // request has fully arrived, because then the silence is the server's (a first search folding
    // a big log into the read model can take minutes), not a stalled client's.
    const answering = new WeakMap<Socket, HttpBindings["incoming"]>()
    const fetch = async (req: Request, env: HttpBindings): Promise<Response> => {
      if (closing) {
        return Response.json(new MlflowError("TEMPORARILY_UNAVAILABLE", "The server is shutting down; retry against its next start.").toJSON(), { status: 503, headers: { connection: "close", "retry-after": "1" } })
      }
      inflight++
      const socket = env.incoming.socket
      answering.set(socket, env.incoming)
      try {
        const res = await app.fetch(req, env)
        // While draining, tell keep-alive clients this connection ends with this response.
        if (closing) res.headers.set("connection", "close")
        return res
      } finally {
        if (answering.get(socket) === env.incoming) answering.delete(socket)
        inflight--
        if (closing && inflight === 0) drained?.()
      }
    }
    server = createAdaptorServer({
      fetch: fetch as (req: Request, env: unknown) => Promise<Response>,
      // A slow or half-open client holds only its own socket, and not for long.
      serverOptions: { headersTimeout: 15_000, requestTimeout: 10 * 60_000, keepAliveTimeout: 5_000 }
    }) as Server
    // No byte for this long on a socket (a stalled upload, a half-open client): it is closed,
    // unless its request is complete and the server is still working on the answer.
    server.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT, (socket) => {
      if (answering.get(socket)?.complete === true) return
      socket.destroy()
    })
    const host = options.host ?? "127.0.0.1"
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(options.port ?? DEFAULT_PORT, host, () => {
        server.off("error", reject)
        resolve()
      })
    })
    const port = (server.address() as AddressInfo).port
    // Any analytics call loads the read model; the first search finds it loaded and caught up. Then
    // a read of every run folds the log, which reads by id would start after FOLD_AFTER of them
    // anyway, in the middle of someone's first clicks.
    const warmed = options.warm === true
      ? tracker.sql("SELECT 1").then(() => tracker.listRuns({ viewType: "all" })).then(
        () => true,
        (e: unknown) => {
          process.stderr.write(`runledger: the server's read model did not load in the background (${e instanceof Error ? e.message : String(e)}); the first search will try again.\n`)
          return false
        }
      )
      : Promise.resolve(true)
    let closed: Promise<void> | undefined
    return {
      port,
      host,
      warmed,
      url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
      close() {
        closed ??= (async () => {
          // Node's server.close() also drops connections it counts idle, which can include one whose
          // request body is still arriving; so the listener stays up until the requests in flight are
          // done, answering new ones 503 (MLflow's client retries those), and closes after.
          closing = true
          events.closeTails()
          if (inflight > 0) await new Promise<void>((resolve) => (drained = resolve))
          // The last responses are still being written (they end their connections: Connection: close);
          // idle keep-alive connections go now, and anything left after 10 s is cut.
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
          server.closeIdleConnections()
          const cut = setTimeout(() => server.closeAllConnections(), 10_000)
          await stopped
          clearTimeout(cut)
          await warmed
          await tracker.close()
        })()
        return closed
      }
    }
  } catch (e) {
    await tracker.close()
    throw e
  }
}
