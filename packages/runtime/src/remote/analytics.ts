/**
 * The client side of the server's analytics routes (API-CONTRACT.md "Reads and analytics"): the
 * Tracker's analytics methods over HTTP, answering with the same types the in-process Tracker
 * returns. Answers are decoded with the very Schemas the server encodes them with
 * (api-schemas.ts), so a metric value sent as "NaN", "Infinity", "-Infinity" or "-0" comes back a
 * number. The transport (token, retries, error mapping) is the caller's: `request` resolves a 2xx's
 * parsed JSON and rejects with the tagged error of an error body; `stream` resolves the raw
 * Response of a 2xx (NDJSON, a file) and rejects the same way otherwise.
 */
import { InvalidInput } from "@runledger/core"
import type { AsOf } from "@runledger/tracker"
import { Schema } from "effect"
import { createWriteStream } from "node:fs"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { asOfText } from "../as-of.ts"
import { CompareGroupsResponse, CompareRunsResponse, HistoriesResponse, historyColumnsF64, historyOfColumns, RankRunsResponse, SearchRunsResponse } from "../api-schemas.ts"
import type { Tracker } from "../open.ts"

export type JsonRequest = (method: "GET" | "POST", path: string, body?: unknown) => Promise<unknown>
export type StreamRequest = (method: "GET" | "POST", path: string, body?: unknown) => Promise<Response>

/** The methods `remoteAnalytics` supplies. */
export type AnalyticsMethods = Pick<
  Tracker,
  "searchRuns" | "compareRuns" | "rankRuns" | "downsampledHistory" | "downsampledHistories" | "downsampledHistoryColumns" | "compareGroups" | "sql" | "sqlStream" | "exportRuns" | "catchUpReadModel" | "rebuildReadModel"
>

type SqlRow = Awaited<ReturnType<Tracker["sql"]>>[number]

const API = "/api/runledger"

const decoder = <S extends Schema.Top>(schema: S) => {
  const decode = Schema.decodeUnknownSync(Schema.toCodecJson(schema) as unknown as Schema.Codec<S["Type"], unknown>)
  return (json: unknown): S["Type"] => decode(json)
}
const search = decoder(SearchRunsResponse)
const compare = decoder(CompareRunsResponse)
const rank = decoder(RankRunsResponse)
const groups = decoder(CompareGroupsResponse)
const histories = decoder(HistoriesResponse)
/** The server sends histories as columns (api-schemas.ts); the Tracker answers with buckets. */
const historiesOf = (json: unknown) => histories(json).series.map(historyOfColumns)
/** A request body's `asOf`, as the server reads it (none: the present). */
const asOfBody = (asOf: AsOf | undefined) => (asOf === undefined ? {} : { asOf: asOfText(asOf) })

/** The strings the server writes for the numbers JSON cannot hold. */
const NUMBER_OF: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 }

/**
 * A SQL row's value as JSON carried it. SQL answers are untyped on the wire, so the strings
 * "NaN", "Infinity", "-Infinity" and "-0" are read back as those numbers (a text column holding
 * exactly one of them is read as the number too: the one case that differs from in-process).
 */
const sqlValue = (v: unknown): unknown =>
  typeof v === "string" && Object.hasOwn(NUMBER_OF, v)
    ? NUMBER_OF[v]
    : Array.isArray(v)
    ? v.map(sqlValue)
    : typeof v === "object" && v !== null
    ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sqlValue(x)]))
    : v

/** JSON has no bigint: a safe one goes as a number, a larger one is refused rather than rounded. */
const jsonParam = (p: string | number | boolean | bigint | null, i: number) => {
  if (typeof p !== "bigint") return p
  if (p >= BigInt(Number.MIN_SAFE_INTEGER) && p <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(p)
  throw new InvalidInput({ field: `params[${i}]`, message: `The SQL parameter ${p} is beyond what JSON carries exactly (±2^53); pass it as a string and CAST it in the query.` })
}

/** Each NDJSON line of `res` as parsed JSON, a network chunk's lines at a time. */
async function* ndjsonBatches(res: Response): AsyncGenerator<unknown[]> {
  if (res.body === null) return
  const text = new TextDecoderStream()
  const reader = res.body.pipeThrough(text).getReader()
  let rest = ""
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += value
      const lines = rest.split("\n")
      rest = lines.pop() ?? ""
      const batch = lines.filter((l) => l !== "").map((l) => JSON.parse(l) as unknown)
      if (batch.length > 0) yield batch
    }
    if (rest.trim() !== "") yield [JSON.parse(rest) as unknown]
  } finally {
    await reader.cancel().catch(() => {})
  }
}

export interface RemoteAnalyticsOptions {
  /** Turns an error body (`{ _tag, message, ... }`) into the tagged error (the transport's mapping): for a failure after an NDJSON answer has begun. */
  readonly toError?: (error: Record<string, unknown>) => unknown
}

export const remoteAnalytics = (request: JsonRequest, stream: StreamRequest, options: RemoteAnalyticsOptions = {}): AnalyticsMethods => {
  const toError = options.toError ?? ((e: Record<string, unknown>) => Object.assign(new Error(String(e.message)), e))
  const orderBy = (o: string | ReadonlyArray<string> | undefined) => (o === undefined ? {} : { orderBy: typeof o === "string" ? [o] : o })

  const sqlStream: Tracker["sqlStream"] = async (query, params, o, sink) => {
    const res = await stream("POST", `${API}/sql`, { query, params: params.map(jsonParam), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) })
    let columns: ReadonlyArray<string> | undefined
    let rows = 0
    for await (const batch of ndjsonBatches(res)) {
      const chunk: SqlRow[] = []
      for (const line of batch) {
        if (Array.isArray(line)) {
          const row: SqlRow = {}
          line.forEach((v, i) => (row[columns![i]] = sqlValue(v)))
          chunk.push(row)
        } else if (typeof line === "object" && line !== null && "columns" in line) columns = line.columns as ReadonlyArray<string>
        else if (typeof line === "object" && line !== null && "error" in line) throw toError(line.error as Record<string, unknown>)
      }
      if (chunk.length === 0) continue
      rows += chunk.length
      // Returning false stops the query: leaving the loop cancels the response.
      if ((await sink(chunk, columns!)) === false) return { columns: columns!, rows }
    }
    if (columns === undefined) throw new InvalidInput({ field: "sql", message: "The server's answer to the query ended before its columns: retry it." })
    return { columns, rows }
  }

  return {
    searchRuns: async (o) => {
      const { orderBy: order, asOf, ...rest } = o
      return search(await request("POST", `${API}/runs/search`, { ...rest, ...orderBy(order), ...asOfBody(asOf) }))
    },
    compareRuns: async (runIds) => compare(await request("POST", `${API}/runs/compare`, { runIds })).comparison,
    rankRuns: async (o) => rank(await request("POST", `${API}/runs/rank`, o)).runs,
    downsampledHistory: async (runId, key, o) => historiesOf(await request("POST", `${API}/metrics/histories`, { runIds: [runId], key, maxPoints: o.maxPoints }))[0]?.buckets ?? [],
    downsampledHistories: async (runIds, key, o) => {
      const { asOf, ...rest } = o
      return historiesOf(await request("POST", `${API}/metrics/histories`, { runIds, key, ...rest, ...asOfBody(asOf) }))
    },
    downsampledHistoryColumns: async (runIds, key, o) => {
      // Every column is asked for, whatever `fields` names: the answer then has each one it promises.
      const { fields: _named, asOf, ...all } = o
      return histories(await request("POST", `${API}/metrics/histories`, { runIds, key, ...all, ...asOfBody(asOf) })).series.map(historyColumnsF64)
    },
    compareGroups: async (o) => groups(await request("POST", `${API}/stats`, o)).comparison,
    sql: async (query, params, o) => {
      const out: SqlRow[] = []
      await sqlStream(query, params ?? [], o ?? {}, (rows) => {
        for (const r of rows) out.push(r)
      })
      return out
    },
    sqlStream,
    exportRuns: async (o) => {
      const { out, orderBy: order, ...rest } = o
      const res = await stream("POST", `${API}/export`, { ...rest, ...orderBy(order) })
      await pipeline(res.body === null ? Readable.from([]) : Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(out))
      return { path: out, rows: Number(res.headers.get("x-runledger-rows")), columns: Number(res.headers.get("x-runledger-columns")) }
    },
    catchUpReadModel: () => Promise.reject(serverOwned()),
    rebuildReadModel: () => Promise.reject(serverOwned())
  }
}

const serverOwned = () =>
  new InvalidInput({
    field: "readModel",
    message: "The read model belongs to the tracking server: it catches up by itself before every query. To rebuild it, run `runledger rebuild` on the server's store (with the server stopped)."
  })
