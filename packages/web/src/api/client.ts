/**
 * The typed client of runledger's native HTTP API (/api/runledger, see API-CONTRACT.md) and of the
 * two MLflow REST writes the UI makes (promote a version, set or delete an alias). The types are the
 * server's own (imported, never copied): what the runtime's Promise API returns, as JSON.
 */
import type { ExperimentView, ModelVersionView as ModelVersionSchema, ModelView as ModelSchema, RecordedEvent, RunView as RunSchema } from "@runledger/core"
import type {
  CompareGroupsResponse,
  CompareRunsResponse,
  ExperimentSummary,
  ExperimentsResponse,
  GroupComparison as GroupSchema,
  ModelsResponse,
  ModelVersionsResponse,
  RunComparison as ComparisonSchema,
  RunResponse,
  SearchRunsResponse
} from "@runledger/runtime"
// The histories' binary answer: its codec module alone (no imports), not the runtime.
import { HISTORIES_F64, type HistoryColumnsF64, type HistoryField, historiesOfF64 } from "@runledger/runtime/histories-f64"
import type { Api } from "@runledger/server"

// The wire forms (`Encoded`) of the server's own Schemas: metric values may be "NaN", "Infinity",
// "-Infinity" or "-0" there, which `num` reads back.
export type RunView = typeof RunSchema.Encoded
export type ModelView = typeof ModelSchema.Encoded
export type ModelVersionView = typeof ModelVersionSchema.Encoded
/** An experiment as the experiments route lists it: with its run count and newest event of its runs. */
export type ExperimentRow = typeof ExperimentSummary.Encoded
/** A run's downsampled history as the charts read it: the server's columns as doubles, `F` among them. */
export type DownsampledHistory<F extends HistoryField = "step"> = HistoryColumnsF64<F>
export type { HistoryField }
export type RunComparison = typeof ComparisonSchema.Encoded
export type GroupComparison = typeof GroupSchema.Encoded
export type ArtifactEntry = typeof Api.ArtifactEntry.Encoded
export type SearchBody = typeof Api.SearchBody.Encoded
export type HistoriesBody = typeof Api.HistoriesBody.Encoded
export type StatsBody = typeof Api.StatsBody.Encoded
export type { ExperimentView, RecordedEvent }

export const API = "/api/runledger"
const SESSION = `${API}/session`

/** The error body of every route: `{ error: { _tag, message, ...fields } }`. */
export class ApiError extends Error {
  readonly status: number
  readonly tag: string
  readonly fields: Readonly<Record<string, unknown>>
  constructor(status: number, tag: string, message: string, fields: Readonly<Record<string, unknown>>) {
    super(message)
    this.status = status
    this.tag = tag
    this.fields = fields
  }
  /** A filter's parse error keeps its position: the filter box points at it. */
  get position(): number | undefined {
    return typeof this.fields.position === "number" ? this.fields.position : undefined
  }
}

const errorOf = async (res: Response): Promise<ApiError> => {
  const text = await res.text()
  try {
    const body = JSON.parse(text) as { error?: { _tag?: string; message?: string }; message?: string; error_code?: string }
    if (body.error && typeof body.error === "object") return new ApiError(res.status, body.error._tag ?? "Error", body.error.message ?? text, body.error)
    // MLflow's REST errors: { error_code, message }.
    if (body.error_code) return new ApiError(res.status, body.error_code, body.message ?? text, {})
  } catch {
    // Not JSON: the text itself is the message.
  }
  return new ApiError(res.status, "HttpError", `${res.status} ${res.statusText}: ${text.slice(0, 300)}`, {})
}

/**
 * Every request of the UI says it is the UI: against a server with a token, a write signed in by
 * the session cookie needs this header (the server's guard against other pages writing through the
 * cookie; see the server's native/session.ts).
 */
const UI_HEADERS: Readonly<Record<string, string>> = { "x-runledger-ui": "1" }

/** Who to tell when the server answers 401: the sign-in has ended (a restart, a sign-out elsewhere). */
const signedOutListeners = new Set<(message: string) => void>()
export const onSignedOut = (listener: (message: string) => void): (() => void) => {
  signedOutListeners.add(listener)
  return () => void signedOutListeners.delete(listener)
}

/** The answer of a request that succeeded; any other becomes an ApiError. `accept`: the form asked for (default JSON). */
const send = async (method: "GET" | "POST" | "DELETE", path: string, body?: unknown, signal?: AbortSignal, accept?: string): Promise<Response> => {
  const res = await fetch(path, {
    method,
    headers: { ...UI_HEADERS, ...(body === undefined ? {} : { "content-type": "application/json" }), ...(accept === undefined ? {} : { accept }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {})
  })
  if (!res.ok) {
    const error = await errorOf(res)
    if (res.status === 401 && path !== SESSION) for (const l of signedOutListeners) l(error.message)
    throw error
  }
  return res
}

const request = async <T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown, signal?: AbortSignal): Promise<T> =>
  (await (await send(method, path, body, signal)).json()) as T

/** A query string of the defined values only. */
const qs = (params: Readonly<Record<string, string | undefined>>): string => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v)
  const s = q.toString()
  return s === "" ? "" : `?${s}`
}

/** Metric values JSON cannot hold arrive as strings ("NaN", "Infinity", "-Infinity", "-0"). */
export const num = (v: unknown): number => {
  if (typeof v === "number") return v
  if (v === "NaN") return Number.NaN
  if (v === "Infinity") return Number.POSITIVE_INFINITY
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY
  if (v === "-0") return -0
  return Number(v)
}




const enc = encodeURIComponent

/** Signing in to a server started with `--token`: the server answers a session cookie (HttpOnly: this script never sees it). */
export const session = {
  /** Never 401: whether a token is needed, and whether this browser is signed in. */
  probe: () => request<{ tokenRequired: boolean; signedIn: boolean }>("GET", SESSION),
  signIn: (token: string) => request<{ signedIn: boolean }>("POST", SESSION, { token }),
  signOut: () => request<{ signedIn: boolean }>("DELETE", SESSION)
}

export const api = {
  experiments: (viewType: "active" | "deleted" | "all", asOf?: string, signal?: AbortSignal) =>
    request<typeof ExperimentsResponse.Encoded>("GET", `${API}/experiments${qs({ viewType, asOf })}`, undefined, signal).then((r) => r.experiments),
  searchRuns: (body: SearchBody, signal?: AbortSignal) => request<typeof SearchRunsResponse.Encoded>("POST", `${API}/runs/search`, body, signal),
  run: (id: string, asOf?: string, signal?: AbortSignal) => request<typeof RunResponse.Encoded>("GET", `${API}/runs/${enc(id)}${qs({ asOf })}`, undefined, signal).then((r) => r.run),
  /** As doubles, not JSON: 100 runs' columns are megabytes of decimals to parse, and the doubles are read in place. */
  histories: async <F extends HistoryField>(body: HistoriesBody & { readonly fields: ReadonlyArray<F> }, signal?: AbortSignal): Promise<ReadonlyArray<DownsampledHistory<F>>> =>
    historiesOfF64(await (await send("POST", `${API}/metrics/histories`, body, signal, HISTORIES_F64)).arrayBuffer(), body.fields).series,
  compare: (runIds: ReadonlyArray<string>, signal?: AbortSignal) => request<typeof CompareRunsResponse.Encoded>("POST", `${API}/runs/compare`, { runIds }, signal).then((r) => r.comparison),
  stats: (body: StatsBody) => request<typeof CompareGroupsResponse.Encoded>("POST", `${API}/stats`, body).then((r) => r.comparison),
  models: (asOf?: string, signal?: AbortSignal) => request<typeof ModelsResponse.Encoded>("GET", `${API}/models${qs({ asOf })}`, undefined, signal).then((r) => r.models),
  versions: (name: string, asOf?: string, signal?: AbortSignal) =>
    request<typeof ModelVersionsResponse.Encoded>("GET", `${API}/models/${enc(name)}/versions${qs({ asOf })}`, undefined, signal).then((r) => r.versions),
  artifactUrl: (runId: string, path: string) => `${API}/runs/${enc(runId)}/artifacts/${path.split("/").map(enc).join("/")}`,
  stream: (name: string, signal?: AbortSignal) => request<{ events: ReadonlyArray<RecordedEvent> }>("GET", `${API}/streams/${enc(name)}`, undefined, signal).then((r) => r.events),
  /** MLflow REST: the stage of a version (an event on the model's stream). */
  transitionStage: (name: string, version: number, stage: string) =>
    request<unknown>("POST", "/api/2.0/mlflow/model-versions/transition-stage", { name, version: String(version), stage, archive_existing_versions: false }),
  setAlias: (name: string, alias: string, version: number) => request<unknown>("POST", "/api/2.0/mlflow/registered-models/alias", { name, alias, version: String(version) }),
  deleteAlias: (name: string, alias: string) => request<unknown>("DELETE", `/api/2.0/mlflow/registered-models/alias${qs({ name, alias })}`)
}

/**
 * The server's event tail (Server-Sent Events) narrowed to one stream or a prefix: `onEvent` gets
 * each event appended from now on (after the log's head when called: the past is what the page
 * already read, and replaying a big store's whole log would flood the page). The browser's
 * EventSource reconnects by itself, sending Last-Event-ID. Returns the closer.
 */
export const tail = (scope: { readonly stream?: string; readonly streamPrefix?: string }, onEvent: (e: RecordedEvent) => void): (() => void) => {
  let source: EventSource | undefined
  let closed = false
  head().then(
    (from) => {
      if (closed) return
      source = new EventSource(`${API}/events${qs({ stream: scope.stream, streamPrefix: scope.streamPrefix, from: String(from) })}`)
      source.onmessage = (m: MessageEvent<string>) => {
        try {
          onEvent(JSON.parse(m.data) as RecordedEvent)
        } catch {
          // A line that is not an event (never sent by our server) is skipped, not fatal.
        }
      }
    },
    // No head, no tail: the page still shows what it read, it just does not follow.
    () => undefined
  )
  return () => {
    closed = true
    source?.close()
  }
}

/** The log's head position: where a live tail starts. */
export const head = () => request<{ position: number }>("GET", `${API}/head`).then((r) => r.position)
