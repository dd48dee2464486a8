/**
 * Requests to a runledger server's native API (API-CONTRACT.md): the token header, a timeout,
 * retries with backoff when the server cannot be reached (connection refused or reset, a timeout,
 * 503 while it restarts), and an error body turned back into the same tagged error class the
 * server's tracker raised, so a remote caller catches exactly what a local one does.
 */
import { ConcurrencyConflict, InvalidInput, NotFound, ParamConflict, RunNotActive, StorageError, StoreCorrupted } from "@runledger/core"

export interface ServerOptions {
  /** The server's base URL: `http://host:port` (a path after it is kept as a prefix). */
  readonly url: string
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token?: string
  /** How long one request may take before it counts as the server being unreachable (default 30 s). */
  readonly timeoutMs?: number
}

/** The server could not be reached (or answered 503) after the retries: the caller may spool. */
export class Unreachable extends Error {
  readonly _tag = "Unreachable"
}

/** A tagged error class by its `_tag`, built from the error body's fields. */
export type ErrorClasses = Readonly<Record<string, new(fields: any) => Error>>

/** The tags of @runledger/core; a caller adds its own (search-syntax's parse errors, say). */
export const CORE_ERRORS: ErrorClasses = { InvalidInput, ParamConflict, RunNotActive, NotFound, ConcurrencyConflict, StorageError, StoreCorrupted }

/** The tagged error an error body names; an unknown tag or shape becomes a StorageError that says what came back. */
export const errorFromBody = (status: number, text: string, classes: ErrorClasses = CORE_ERRORS): Error => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  const error = (body as { error?: unknown } | undefined)?.error
  if (typeof error === "object" && error !== null && typeof (error as { _tag?: unknown })._tag === "string") {
    const { _tag, ...fields } = error as { _tag: string; message?: string }
    const Class = classes[_tag] ?? CORE_ERRORS[_tag]
    if (Class !== undefined) return new Class(fields)
    return new StorageError({ message: `The server answered ${status} ${_tag}: ${fields.message ?? text}`, cause: body })
  }
  // MLflow's shape: the token middleware's 401, say.
  const mlflow = body as { error_code?: unknown; message?: unknown } | undefined
  if (mlflow !== undefined && typeof mlflow.message === "string") {
    return new StorageError({ message: `The server answered ${status} ${String(mlflow.error_code)}: ${mlflow.message}`, cause: body })
  }
  return new StorageError({ message: `The server answered ${status} with ${text.length > 200 ? `${text.slice(0, 200)}...` : text || "no body"}; is the URL a runledger server?`, cause: body })
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export interface SendOptions {
  readonly method: "GET" | "POST" | "PUT"
  /** Below the base URL: `/api/runledger/head`. */
  readonly path: string
  /** A fresh body per attempt (a stream can be sent once). */
  readonly body?: () => BodyInit | undefined
  readonly headers?: Record<string, string>
  /** Attempts after the first when unreachable (default 3; backoff 100 ms, x4 each). */
  readonly retries?: number
  readonly classes?: ErrorClasses
}

/** What made a fetch fail, in words: "connect ECONNREFUSED 127.0.0.1:5000". */
const why = (e: unknown): string => {
  const cause = (e as { cause?: unknown }).cause
  if (cause instanceof Error) return cause.message
  return e instanceof Error ? e.message : String(e)
}

/**
 * One request; the response of a 2xx. Unreachable after the retries throws Unreachable; an error
 * answer throws its tagged error (never retried: the server decided).
 */
export const send = async (server: ServerOptions, o: SendOptions): Promise<Response> => {
  const retries = o.retries ?? 3
  let delay = 100
  for (let attempt = 0; ; attempt++) {
    let res: Response
    try {
      const body = o.body?.()
      res = await fetch(`${server.url.replace(/\/$/, "")}${o.path}`, {
        method: o.method,
        headers: { ...(server.token !== undefined ? { authorization: `Bearer ${server.token}` } : {}), ...o.headers },
        ...(body !== undefined ? { body, duplex: "half" } : {}),
        signal: AbortSignal.timeout(server.timeoutMs ?? 30_000)
      } as RequestInit)
    } catch (e) {
      // A timeout already waited its full length: not again (an append then goes to the spool at once).
      const timedOut = e instanceof Error && e.name === "TimeoutError"
      if (attempt >= retries || timedOut) throw new Unreachable(`${server.url} is unreachable (${timedOut ? `no answer within ${server.timeoutMs ?? 30_000} ms` : why(e)})`)
      await sleep(delay)
      delay *= 4
      continue
    }
    if (res.ok) return res
    const text = await res.text().catch(() => "")
    if (res.status === 503) {
      if (attempt >= retries) throw new Unreachable(`${server.url} is unavailable (503: ${text.slice(0, 200)})`)
      await sleep(delay)
      delay *= 4
      continue
    }
    throw errorFromBody(res.status, text, o.classes)
  }
}

/** A JSON request: the parsed body of the 2xx. */
export const sendJson = async (server: ServerOptions, method: "GET" | "POST", path: string, body?: unknown, options: { readonly retries?: number; readonly classes?: ErrorClasses } = {}): Promise<unknown> => {
  const res = await send(server, {
    method,
    path,
    ...(body !== undefined ? { body: () => JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    ...options
  })
  return res.json()
}
