/**
 * The request helpers of the remote client (API-CONTRACT.md, "The remote client"): JSON and
 * streamed requests to a runledger server's native API, with its token, retries with backoff when
 * it cannot be reached, and an error body turned back into the same tagged error a local tracker
 * raises (the search syntax's parse errors included, with their position fields).
 *
 * The HTTP itself is @runledger/store-http's (the event store over HTTP uses the same requests).
 */
import { FilterParseError, OrderByParseError, PageTokenError } from "@runledger/search-syntax"
import { CORE_ERRORS, type ErrorClasses, errorFromBody, send, sendJson, type ServerOptions, Unreachable } from "@runledger/store-http"
import { StorageError } from "@runledger/core"
import type { JsonRequest, StreamRequest } from "./analytics.ts"

export type { JsonRequest, StreamRequest }

/** Every tag a server's error body can name, each to its class. */
export const REMOTE_ERRORS: ErrorClasses = { ...CORE_ERRORS, FilterParseError, OrderByParseError, PageTokenError }

/** A read that could not reach the server is a StorageError that says so (reads are never spooled). */
const unreachable = (e: unknown): never => {
  if (e instanceof Unreachable) throw new StorageError({ message: `${e.message}; check that the server is running (runledger server) and the URI.`, cause: e })
  throw e
}

export const jsonRequest = (server: ServerOptions): JsonRequest => (method, path, body) =>
  sendJson(server, method, path, body, { classes: REMOTE_ERRORS }).catch(unreachable)

export const streamRequest = (server: ServerOptions): StreamRequest => (method, path, body) =>
  send(server, {
    method,
    path,
    ...(body !== undefined ? { body: () => JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    classes: REMOTE_ERRORS
  }).catch(unreachable)

/** An error body met inside a streamed answer (an NDJSON line `{ "error": ... }`): its tagged error. */
export const errorOf = (error: Record<string, unknown>): Error => errorFromBody(500, JSON.stringify({ error }), REMOTE_ERRORS)
