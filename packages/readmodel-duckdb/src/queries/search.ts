/**
 * searchRuns over the read model: MLflow's filter and order_by (plus OR, NOT, parentheses),
 * compiled to one parameterized statement; pages of `maxResults` with opaque page tokens.
 */
import { Result } from "effect"
import type { Filter } from "@runledger/search-syntax"
import { parseFilterResult } from "@runledger/search-syntax"
import { filterToSql } from "@runledger/search-syntax"
import { type OrderByTerm, parseOrderByResult } from "@runledger/search-syntax"
import { orderByToSql } from "@runledger/search-syntax"
import { decodePageTokenResult, encodePageToken } from "@runledger/search-syntax"
import { SqlParams } from "@runledger/search-syntax"
import { JoinedTargets } from "./targets.ts"
import { type RunScope, SCOPED_FROM, scopeKey, scopeToSql } from "./scope.ts"

export interface SearchRunsOptions extends RunScope {
  /** MLflow search syntax, e.g. `metrics.acc > 0.9 and params.model = 'mlp'`. */
  readonly filter?: string
  /** e.g. ["metrics.acc DESC", "attributes.start_time"]. Missing values sort last. */
  readonly orderBy?: string | ReadonlyArray<string>
  /** Page size: 1..50,000, default 1,000 (MLflow's). */
  readonly maxResults?: number
  readonly pageToken?: string
}

export const DEFAULT_MAX_RESULTS = 1000
export const MAX_MAX_RESULTS = 50_000

export interface CompiledSearch {
  readonly filter: Filter | undefined
  readonly orderBy: ReadonlyArray<OrderByTerm>
  readonly limit: number
  readonly offset: number
  /** The page after this one, if the query asks for more than it fetches (see `nextToken`). */
  readonly nextToken: (more: boolean) => string | null
}

/**
 * Parse and check everything before any SQL runs: errors name the position and what was expected.
 * `moment`: what else the pages depend on (a search in the past: its moment), so that their tokens
 * are refused for any other.
 */
export const compileSearch = (options: SearchRunsOptions, moment?: string): CompiledSearch => {
  const parsed = parseFilterResult(options.filter ?? "")
  if (Result.isFailure(parsed)) throw parsed.failure
  const order = parseOrderByResult(options.orderBy ?? [])
  if (Result.isFailure(order)) throw order.failure
  const limit = options.maxResults ?? DEFAULT_MAX_RESULTS
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_MAX_RESULTS) {
    throw new RangeError(`maxResults must be a whole number from 1 to ${MAX_MAX_RESULTS}, got ${limit}.`)
  }
  const identity = { filter: parsed.success, orderBy: order.success, scope: moment === undefined ? scopeKey(options) : `${scopeKey(options)}|${moment}` }
  const offset = decodePageTokenResult(options.pageToken, identity)
  if (Result.isFailure(offset)) throw offset.failure
  return {
    filter: parsed.success,
    orderBy: order.success,
    limit,
    offset: offset.success,
    nextToken: (more) => (more ? encodePageToken(offset.success + limit, identity) : null)
  }
}

/**
 * The ids of the matching runs in order. `limit` of undefined: all of them (for export and
 * statistics); otherwise one more than a page is fetched to know whether another page follows.
 */
export const searchSql = (scope: RunScope, filter: Filter | undefined, orderBy: ReadonlyArray<OrderByTerm>, page?: { readonly limit: number; readonly offset: number }) => {
  const params = new SqlParams()
  const joins = new JoinedTargets()
  const inScope = scopeToSql(scope, params)
  const where = filterToSql(filter, { paramOffset: params.values.length, joins })
  // Loops, not push(...): a filter's IN list can be long, and a spread into a call is bounded by the stack.
  for (const p of where.params) params.values.push(p)
  const order = orderByToSql(orderBy, { paramOffset: params.values.length, joins })
  for (const p of order.params) params.values.push(p)
  let sql = `SELECT r.run_id FROM ${SCOPED_FROM} ${joins.joins.join(" ")} WHERE ${inScope} AND (${where.where}) ORDER BY ${order.orderBy}`
  if (page !== undefined) {
    sql += ` LIMIT ${params.bind(page.limit + 1)} OFFSET ${params.bind(page.offset)}`
  }
  return { sql, params: params.values }
}

/**
 * The runtime's run listing (Analytics.runListing), composed by DuckDB: one line of JSON per run in
 * some scope (its experiment known), `[startTime, runId, experiment, deleted]`, in a search's
 * default order, where `experiment` is the index of the run's experiment in LISTING_EXPERIMENTS_SQL
 * and `deleted` is 0 or 1. One string, not 100k rows: reading rows into JavaScript values cost
 * several times the query.
 */
export const listingSql = (): string => {
  const order = orderByToSql([], { paramOffset: 0, joins: new JoinedTargets() }).orderBy
  return `WITH x AS (SELECT experiment_id, row_number() OVER (ORDER BY experiment_id) - 1 AS i FROM experiments)
    SELECT coalesce(string_agg('[' || r.start_time || ',' || to_json(r.run_id) || ',' || x.i || ',' || (r.lifecycle = 'deleted')::INT || ']', chr(10) ORDER BY ${order}), '') AS lines
    FROM runs r JOIN x ON x.experiment_id = r.experiment_id`
}

/** The experiments of the run listing, in the order its lines number them. */
export const LISTING_EXPERIMENTS_SQL = "SELECT experiment_id, lifecycle = 'deleted' AS deleted FROM experiments ORDER BY experiment_id"
