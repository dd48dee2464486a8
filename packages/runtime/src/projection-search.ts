/**
 * searchRuns answered from the tracker's in-memory projection instead of the DuckDB read model:
 * the same filter, order_by and page tokens (search-syntax's predicate and comparator agree with
 * their SQL compilation, and the page is compiled by the read model's own `compileSearch`), so
 * the two give identical pages, tokens included (test/analytics.test.ts, "searchRuns in memory").
 *
 * Why: on a small store most of a search's time is DuckDB's own (about 3 ms a query, and opening
 * the file per call unless the read model lingers), while filtering a few hundred runs in memory
 * takes microseconds. On a large store the read model wins: folding the whole log into memory
 * costs seconds, and a scan of every run per call grows with the store. So a store is searched in
 * memory while its log holds at most IN_MEMORY_MAX_EVENTS events (the fold it costs once is then
 * a few hundred milliseconds at most, and each call a scan of at most that many runs), and always
 * for a search in the past (`asOf`), which only a fold of the log up to then can answer.
 */
import type { LogProjection, RunState } from "@runledger/core"
// The search entry alone: the package's main one loads DuckDB, which a small store's search never needs.
import { compileSearch, type SearchRunsOptions } from "@runledger/readmodel-duckdb/search"
import { type RunView as SearchView, toComparator, toPredicate } from "@runledger/search-syntax"
import { type AsOf, checkAsOf, type TrackerShape } from "@runledger/tracker"
import { Effect } from "effect"

/**
 * The largest log (in events) searched in memory. Measured per call, warm, on stores of runs of
 * four events each (bench/open.ts builds them), the in-memory search beside the read model's
 * searchRunIds of the same query (a filter on a metric and a param, ordered by the metric, 20 a
 * page), on a loaded machine: 200 runs 0.2 ms vs 9.6 ms, 2,000 runs 1.2 ms vs 6.6 ms, 5,000 runs
 * (20k events) 2.2-3.9 ms vs 5.7-12.8 ms. The scan grows with the runs and DuckDB's query hardly
 * does, so the limit stays where memory still wins by 2x or more, which also bounds the fold a
 * process pays once (bench/open.ts's "at its limit" row re-measures it).
 */
export const IN_MEMORY_MAX_EVENTS = 20_000

/** What a filter and an order_by read of a run, kept per run state until the run changes. */
interface Cached {
  readonly version: number
  readonly view: SearchView
}
const views = new WeakMap<RunState, Cached>()

const searchView = (s: RunState): SearchView => {
  const cached = views.get(s)
  if (cached !== undefined && cached.version === s.version) return cached.view
  const metrics: Record<string, number> = {}
  for (const [k, m] of s.latest) metrics[k] = m.value
  // params and tags are the state's own records, not copies: every event gives the state a new version, and so a new view.
  const view: SearchView = { id: s.id, experimentId: s.experimentId, name: s.name, status: s.status, startTime: s.startTime, endTime: s.endTime, params: s.params, tags: s.tags, metrics }
  views.set(s, { version: s.version, view })
  return view
}

/** What a past search's page tokens carry besides the query: its moment (a live search: nothing, as the read model's). */
const momentOf = (asOf: AsOf | undefined): string | undefined => (asOf === undefined ? undefined : "position" in asOf ? `as of position ${asOf.position}` : `as of time ${asOf.time}`)

/**
 * One page of run ids from a projection, exactly as the read model's searchRunIds gives it.
 * `effective`: the latest metrics of runs a resume set keys of aside (see the tracker's
 * withEffectiveMetrics), which the projection alone does not know.
 */
export const searchProjection = (
  p: LogProjection,
  options: SearchRunsOptions,
  effective: ReadonlyMap<string, Readonly<Record<string, number>>> = new Map(),
  asOf?: AsOf
): { runIds: string[]; nextPageToken: string | null } => {
  const compiled = compileSearch(options, momentOf(asOf))
  const keep = toPredicate(compiled.filter)
  const matched: SearchView[] = []
  for (const s of inScope(p, options)) {
    const base = searchView(s)
    const metrics = effective.get(s.id)
    const v = metrics === undefined ? base : { ...base, metrics }
    if (keep(v)) matched.push(v)
  }
  matched.sort(toComparator(compiled.orderBy))
  const end = compiled.offset + compiled.limit
  const runIds: string[] = []
  for (let i = compiled.offset; i < Math.min(end, matched.length); i++) runIds.push(matched[i].id)
  return { runIds, nextPageToken: compiled.nextToken(matched.length > end) }
}

/**
 * The runs a scope looks at, as scope.ts compiles it to SQL: of some experiments (or all), active
 * (neither the run nor its experiment deleted), deleted, or all; a run joins its experiment, so a
 * run whose experiment the log does not hold is in no scope.
 */
function* inScope(p: LogProjection, options: SearchRunsOptions): Generator<RunState> {
  const ids = options.experimentIds ?? []
  const experiments = ids.length > 0 ? new Set(ids) : undefined
  const viewType = options.viewType ?? "active"
  for (const s of p.runs.values()) {
    if (experiments !== undefined && !experiments.has(s.experimentId)) continue
    const e = p.experiments.byId.get(s.experimentId)
    if (e === undefined) continue
    const live = !s.deleted && e.lifecycle === "active"
    if (viewType === "active" ? live : viewType === "deleted" ? !live : true) yield s
  }
}

/**
 * searchRunIds over the tracker's projection (caught up, or as of a past position or time). A run
 * whose latest metrics a resume set aside is read with its effective metrics first (rare: such
 * runs are read from their streams).
 */
export const searchInMemory = async (tracker: TrackerShape, options: SearchRunsOptions, asOf: AsOf | undefined): Promise<{ runIds: string[]; nextPageToken: string | null }> => {
  // Checked before the log is folded: a bad filter, order_by, page token or as-of costs nothing.
  compileSearch(options, momentOf(asOf))
  const bad = checkAsOf(asOf)
  if (bad !== undefined) throw bad
  const read = asOf === undefined ? {} : { asOf }
  const p = await Effect.runPromise(tracker.projection(read))
  const stale: string[] = []
  for (const s of inScope(p, options)) if (s.staleKeys.size > 0) stale.push(s.id)
  const effective = new Map<string, Readonly<Record<string, number>>>()
  if (stale.length > 0) for (const r of await Effect.runPromise(tracker.getRuns(stale, read))) effective.set(r.id, r.metrics)
  return searchProjection(p, options, effective, asOf)
}
