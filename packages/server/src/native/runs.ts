/**
 * Runs: one run (time travel with asOf), search, compare, rank and the group statistics; each a
 * thin mapping onto the runtime's Tracker (API-CONTRACT.md "Reads and analytics").
 */
import { CompareGroupsResponse, CompareRunsResponse, InvalidInput, parseAsOf, RankRunsResponse, RunResponse, SearchRunsResponse } from "@runledger/runtime"
import { Schema } from "effect"
import { route } from "./route.ts"
import { AsOfText, RankBody, SearchBody, StatsBody } from "./schemas.ts"

/** `asOf` of a query or body as the tracker's ReadOptions (`{}` without it). */
export const readOptions = (asOf: string | undefined) => (asOf === undefined ? {} : { asOf: parseAsOf(asOf) })

export const AsOfQuery = Schema.Struct({ asOf: Schema.optionalKey(AsOfText) })

export const RUN_ROUTES = [
  route({
    method: "GET",
    path: "/api/runledger/runs/{runId}",
    summary: "One run (by id, unique id prefix or name), as it is now or as it was at asOf.",
    query: AsOfQuery,
    response: RunResponse,
    handle: async ({ params, query }, { tracker }) => ({ run: await tracker.getRun(params.runId, readOptions(query.asOf)) })
  }),
  route({
    method: "POST",
    path: "/api/runledger/runs/search",
    summary: "MLflow's search (filter with OR/NOT/parentheses, orderBy, pages) over the read model.",
    body: SearchBody,
    response: SearchRunsResponse,
    handle: async ({ body }, { tracker }) => {
      const { asOf, ...options } = body
      // The runtime's searchRuns answers the present only; refusing beats answering the present for a past asOf.
      if (asOf !== undefined) throw new InvalidInput({ field: "asOf", message: "Search with asOf is not available on this server yet; search without it, or read single runs with GET /api/runledger/runs/{runId}?asOf=." })
      return tracker.searchRuns(options)
    }
  }),
  route({
    method: "POST",
    path: "/api/runledger/runs/compare",
    summary: "Params side by side (differing ones marked) and each metric's last, min and max per run.",
    body: Schema.Struct({ runIds: Schema.Array(Schema.String) }),
    response: CompareRunsResponse,
    handle: async ({ body }, { tracker }) => ({ comparison: await tracker.compareRuns(body.runIds) })
  }),
  route({
    method: "POST",
    path: "/api/runledger/runs/rank",
    summary: "Runs ordered by a metric, with an optional normalized score (the runtime's rankRuns).",
    body: RankBody,
    response: RankRunsResponse,
    handle: async ({ body }, { tracker }) => ({ runs: await tracker.rankRuns(body) })
  }),
  route({
    method: "POST",
    path: "/api/runledger/stats",
    summary: "Welch's t-test and a bootstrap interval of the difference between two groups of runs (the runtime's compareGroups).",
    body: StatsBody,
    response: CompareGroupsResponse,
    handle: async ({ body }, { tracker }) => ({ comparison: await tracker.compareGroups(body) })
  })
]
