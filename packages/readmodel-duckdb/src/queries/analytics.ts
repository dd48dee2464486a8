/**
 * The analytics of a tracker: search, compare, rank, downsampled histories, group statistics,
 * read-only SQL and export, all over the DuckDB read model, which is caught up with the log
 * (incrementally, from the position it has folded) before each question.
 */
import type { CatchUpOptions, ReadModel } from "../read-model.ts"
import type { ReadOnlyOptions, RowSink, SqlParam, SqlRow } from "../read-only-sql.ts"
import type { EventSource } from "../source.ts"
import { Result } from "effect"
import { bootstrapDifferenceCI, type BootstrapResult, MIN_RUNS_PER_GROUP, significanceVerdict, type SignificanceVerdict, welchTTest, type WelchTTestResult } from "@runledger/stats"
import { NotEnoughRuns } from "./errors.ts"
import { parseFilterResult } from "@runledger/search-syntax"
import { SqlParams } from "@runledger/search-syntax"
import { assembleComparison, compareSql, type RunComparison, unsummarisedSql, withUnsummarised } from "./compare.ts"
import { type ExportFormat, wideTable, writeTable } from "./export.ts"
import { assembleHistoryColumns, blockBucketsSql, bucketLevel, bucketRange, RANGE_GROUPING_LEVEL, rangeBuckets, rangeBucketsSql, rangePointsSql, checkHistoryRequest, type DownsampledColumns, type DownsampledSeries, planHistories, bucketPoints, fromPointsOnly, planFromPoints, pointRowsSql, pointSpanReadings, readAheadWidth, readingsHold, rowsOf, seriesOfColumns, spansOfRows, seriesSql, spanSql, type HistoryRequest, type StepRange } from "./history.ts"
import { type RankedRun, type RankRunsOptions, rankSql } from "./rank.ts"
import { type RunScope } from "./scope.ts"
import { checkScoreBy, type ScoreBy, scoreSql } from "./score.ts"
import { compileSearch, LISTING_EXPERIMENTS_SQL, listingSql, searchSql, type SearchRunsOptions } from "./search.ts"

export interface CompareGroupsOptions extends RunScope {
  /** Filters selecting the two groups (MLflow search syntax). */
  readonly a: string
  readonly b: string
  readonly metric: string
  readonly by?: ScoreBy
  readonly confidence?: number
  readonly resamples?: number
  readonly seed?: number
}

export interface GroupComparison {
  readonly metric: string
  readonly by: ScoreBy
  /** `runs`: the runs with a finite value (the ones tested); `excluded`: runs whose value is NaN or infinite. */
  readonly a: GroupSummary
  readonly b: GroupSummary
  readonly welch: WelchTTestResult
  readonly bootstrap: BootstrapResult
  /** Each method's verdict at alpha = 1 - confidence, and whether they agree. */
  readonly verdict: SignificanceVerdict
  /** E.g. a group with fewer than MIN_RUNS_PER_GROUP runs. */
  readonly warnings: ReadonlyArray<string>
}

export interface GroupSummary {
  readonly filter: string
  readonly runs: number
  readonly mean: number
  readonly excluded: number
}

export interface ExportRunsOptions extends RunScope {
  readonly format: ExportFormat
  readonly out: string
  readonly filter?: string
  readonly orderBy?: string | ReadonlyArray<string>
}

export class Analytics {
  readonly readModel: ReadModel
  private readonly source: EventSource
  private readonly catchUpOptions: CatchUpOptions

  constructor(readModel: ReadModel, source: EventSource, catchUpOptions: CatchUpOptions = {}) {
    this.readModel = readModel
    this.source = source
    this.catchUpOptions = catchUpOptions
  }

  /** Fold what the log gained since the last question (`options` add to those given at construction). */
  async catchUp(options: CatchUpOptions = {}) {
    return this.readModel.catchUp(this.source, { ...this.catchUpOptions, ...options })
  }

  /** Drop the read model's tables and fold the whole log again. */
  async rebuild(options: CatchUpOptions = {}) {
    return this.readModel.rebuild(this.source, { ...this.catchUpOptions, ...options })
  }

  /** Our own compiled SELECTs (user text only as bound parameters), as rows. */
  private async query(statement: { readonly sql: string; readonly params: ReadonlyArray<SqlParam> }): Promise<SqlRow[]> {
    const columns = await this.readModel.select(statement.sql, statement.params)
    const names = Object.keys(columns)
    const n = names.length === 0 ? 0 : columns[names[0]].length
    const rows: SqlRow[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const row: SqlRow = {}
      for (const name of names) row[name] = columns[name][i]
      rows[i] = row
    }
    return rows
  }

  /** One page of run ids in order, and the token of the next page (null on the last). */
  async searchRunIds(options: SearchRunsOptions): Promise<{ runIds: string[]; nextPageToken: string | null }> {
    const compiled = compileSearch(options)
    await this.catchUp()
    const q = searchSql(options, compiled.filter, compiled.orderBy, { limit: compiled.limit, offset: compiled.offset })
    const ids = (await this.readModel.select(q.sql, q.params)).run_id as string[]
    return { runIds: ids.slice(0, compiled.limit), nextPageToken: compiled.nextToken(ids.length > compiled.limit) }
  }

  /**
   * Every run that is in some scope, in a search's default order (latest start first), as lines
   * of JSON (listingSql), its experiments, and the log position the model stands at: the runtime
   * keeps this as a listing that answers unfiltered searches without loading DuckDB
   * (run-listing.ts). Null when the model moved while being read, or holds nothing.
   */
  async runListing(): Promise<{ readonly position: number; readonly lastEventId: string; readonly experiments: Array<[string, boolean]>; readonly lines: string } | null> {
    await this.catchUp()
    const stateSql = "SELECT position, last_event_id FROM readmodel_state"
    const before = await this.readModel.select(stateSql)
    const { lines } = await this.readModel.select(listingSql())
    const experiments = await this.readModel.select(LISTING_EXPERIMENTS_SQL)
    const after = await this.readModel.select(stateSql)
    const position = Number(before.position[0])
    if (position === 0 || Number(after.position[0]) !== position) return null
    return {
      position,
      lastEventId: before.last_event_id[0] as string,
      experiments: experiments.experiment_id.map((id, i) => [id as string, experiments.deleted[i] as boolean]),
      lines: lines[0] as string
    }
  }

  async compareRuns(runIds: ReadonlyArray<string>): Promise<RunComparison> {
    if (runIds.length === 0) throw new RangeError("Give at least one run to compare.")
    await this.catchUp()
    const q = compareSql(runIds)
    const [runs, params, metrics] = [await this.query(q.runs), await this.query(q.params), await this.query(q.metrics)]
    const unsummarised = metrics.filter((m) => !m.summarised).map((m) => m.series_id as number)
    const counted = unsummarised.length === 0 ? metrics : withUnsummarised(metrics, await this.query(unsummarisedSql(unsummarised)))
    return assembleComparison(runIds, runs, params, counted)
  }

  async rankRuns(options: RankRunsOptions): Promise<RankedRun[]> {
    const q = rankSql(options)
    await this.catchUp()
    const rows = await this.query(q)
    return rows.map((r) => ({
      rank: r.rank as number,
      runId: r.run_id as string,
      runName: r.run_name as string,
      experimentId: r.experiment_id as string,
      status: r.status as string,
      score: r.score as number,
      ...(q.normalized ? { normalized: (r.normalized as number | null) ?? null } : {})
    }))
  }

  /** `metricHistoryColumns` with an object per bucket. */
  async metricHistories(runIds: ReadonlyArray<string>, key: string, maxPoints: number, range: StepRange = {}, unknown?: (runIds: ReadonlyArray<string>) => Promise<unknown>): Promise<DownsampledSeries[]> {
    return (await this.metricHistoryColumns(runIds, key, maxPoints, range, unknown)).map(seriesOfColumns)
  }

  /**
   * Histories of one metric for up to 100 runs, each at most `maxPoints` buckets, optionally of the
   * steps in a range only (history.ts): the same few statements for any number of runs. Runs the
   * read model does not hold are handed to `unknown` before anything else is read (it throws for
   * a run that does not exist); otherwise they are answered with no buckets. With `range.fields`,
   * the other fields may be left NaN (not computed).
   */
  async metricHistoryColumns(runIds: ReadonlyArray<string>, key: string, maxPoints: number, range: HistoryRequest = {}, unknown?: (runIds: ReadonlyArray<string>) => Promise<unknown>): Promise<DownsampledColumns[]> {
    const bounds = checkHistoryRequest(runIds, maxPoints, range)
    const s = seriesSql(runIds, key)
    await this.catchUp()
    const found = await this.readModel.select(s.sql, s.params)
    if (unknown !== undefined) {
      const held = new Set(found.run_id as string[])
      const missing = runIds.filter((id) => !held.has(id))
      if (missing.length > 0) await unknown(missing)
    }
    // The runs that have the metric.
    const rows = (found.series_id as Array<number | null>).flatMap((id, i) => (id === null ? [] : [i]))
    const series = Object.fromEntries(Object.entries(found).map(([name, column]) => [name, rows.map((i) => column[i])]))
    const ids = series.series_id as number[]
    if (ids.length === 0) return assembleHistoryColumns(runIds, key, series, new Map(), [])
    if (fromPointsOnly(bounds, maxPoints)) {
      // Grouped by DuckDB at the bounds' level when its buckets are wide enough for that to pay
      // (RANGE_GROUPING_LEVEL) and the series has no two points at one step; the series that level
      // does not fit, those with shared steps, and narrower buckets, from the points.
      const level = bucketLevel(Number(bounds.lo), Number(bounds.hi), maxPoints)
      const distinct = series.distinct_steps as boolean[]
      const groupable = level >= RANGE_GROUPING_LEVEL ? ids.filter((_, i) => distinct[i]) : []
      const grouped = groupable.length > 0 ? rangeBuckets(await this.numbers(rangeBucketsSql(groupable, bounds, level, range.fields)), maxPoints, level) : undefined
      const redo = grouped === undefined ? ids : [...ids.filter((_, i) => !distinct[i]), ...grouped.redo]
      const done = grouped === undefined ? [] : [grouped.buckets]
      const counts = new Map(grouped?.counts)
      if (redo.length === 0) return assembleHistoryColumns(runIds, key, series, counts, done)
      const read = bucketRange(await this.numbers(rangePointsSql(redo, bounds)), maxPoints)
      if (read !== undefined) return assembleHistoryColumns(runIds, key, series, new Map([...counts, ...read.counts]), [...done, read.buckets])
      // Points at one step where log order decides: read again with it.
      const rows = await this.numbers(pointRowsSql(redo.map((seriesId) => ({ seriesId, level: null, ...bounds }))))
      return assembleHistoryColumns(runIds, key, series, new Map([...counts, ...planFromPoints(rows, maxPoints)]), [...done, bucketPoints(rows)])
    }
    // Spans from the summaries, plus from the points those without summaries and the steps at the
    // bounds: read at the width of the widest buckets the bounds allow, when narrow enough, so the
    // buckets a bound cuts through are usually among these rows and need no second scan.
    const spans = await this.numbers(spanSql(ids, bounds))
    const ahead = pointSpanReadings(ids, spans, bounds, readAheadWidth(bounds, maxPoints))
    const aheadRows = ahead.length > 0 ? await this.numbers(pointRowsSql(ahead)) : undefined
    const pointSpans = aheadRows === undefined ? undefined : spansOfRows(rowsOf(aheadRows, pointSpanReadings(ids, spans, bounds)))
    const plan = planHistories(spans, pointSpans, bounds, maxPoints)
    const parts: Array<Record<string, Float64Array>> = []
    if (plan.fromPoints.length > 0) {
      const held = aheadRows !== undefined && readingsHold(ahead, plan.fromPoints)
      parts.push(bucketPoints(held ? rowsOf(aheadRows, plan.fromPoints) : await this.numbers(pointRowsSql(plan.fromPoints))))
    }
    for (const [blockLevel, readings] of plan.fromBlocks) parts.push(await this.numbers(blockBucketsSql(readings, blockLevel)))
    return assembleHistoryColumns(runIds, key, series, plan.counts, parts)
  }

  private numbers(q: { readonly sql: string; readonly params: ReadonlyArray<SqlParam> }): Promise<Record<string, Float64Array>> {
    return this.readModel.selectNumbers(q.sql, q.params)
  }

  /** Each run's score on a metric, for the runs a filter selects. */
  private async scores(scope: RunScope, filter: string, metric: string, by: ScoreBy): Promise<number[]> {
    const parsed = parseFilterResult(filter)
    if (Result.isFailure(parsed)) throw parsed.failure
    const search = searchSql(scope, parsed.success, [])
    const params = new SqlParams(search.params.length)
    const score = scoreSql(metric, by, params)
    // In the search's order (start time, then id), so a seeded bootstrap sees the same sample order.
    const rows = await this.query({
      sql: `SELECT ${score} AS score FROM (SELECT run_id, row_number() OVER () AS ord FROM (${search.sql})) s JOIN runs r ON r.run_id = s.run_id ORDER BY s.ord`,
      params: [...search.params, ...params.values]
    })
    // A diverged run (NaN) stays in: the tests leave it out and report it as excluded.
    return rows.map((r) => r.score as number | null).filter((x): x is number => x !== null)
  }

  /** Is group B different from group A on a metric? Welch's t-test and a bootstrap interval of B - A. */
  async compareGroups(options: CompareGroupsOptions): Promise<GroupComparison> {
    const by = checkScoreBy(options.by ?? "last")
    await this.catchUp()
    const [a, b] = [await this.scores(options, options.a, options.metric, by), await this.scores(options, options.b, options.metric, by)]
    // The tests use the finite values only (a diverged run's NaN or Infinity is left out and counted).
    for (const [group, xs, filter] of [["a", a, options.a], ["b", b, options.b]] as const) {
      const n = xs.filter(Number.isFinite).length
      const left = xs.length - n
      if (n < 2) {
        throw new NotEnoughRuns({
          group,
          filter,
          runs: n,
          needed: 2,
          message: `Group ${group} (${JSON.stringify(filter)}) has ${n} run(s) with a value of ${options.metric}${left > 0 ? ` (and ${left} with NaN or Infinity, left out)` : ""}; a test needs at least 2. Widen the filter, or log more runs.`
        })
      }
    }
    const welch = welchTTest(a, b)
    const bootstrap = bootstrapDifferenceCI(a, b, {
      ...(options.confidence !== undefined ? { confidence: options.confidence } : {}),
      ...(options.resamples !== undefined ? { resamples: options.resamples } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {})
    })
    const small = ([["A", welch.nA], ["B", welch.nB]] as const).filter(([, n]) => n < MIN_RUNS_PER_GROUP)
    return {
      metric: options.metric,
      by,
      a: { filter: options.a, runs: welch.nA, mean: welch.meanA, excluded: welch.excludedA },
      b: { filter: options.b, runs: welch.nB, mean: welch.meanB, excluded: welch.excludedB },
      welch,
      bootstrap,
      verdict: significanceVerdict(welch, bootstrap),
      warnings: small.length === 0
        ? []
        : [`Fewer than ${MIN_RUNS_PER_GROUP} runs in ${small.map(([g, n]) => `group ${g} (${n})`).join(" and ")}: with so few runs neither result is reliable; log more runs per group.`]
    }
  }

  /** Read-only SQL over the read model's tables (see the read model for what is refused). */
  async sql(query: string, params: ReadonlyArray<SqlParam> = [], options: ReadOnlyOptions = {}): Promise<SqlRow[]> {
    await this.catchUp()
    return this.readModel.sql(query, params, options)
  }

  /** Like `sql`, its rows handed to `sink` a chunk at a time (for results of any size). */
  async sqlStream(query: string, params: ReadonlyArray<SqlParam>, options: ReadOnlyOptions, sink: RowSink) {
    await this.catchUp()
    return this.readModel.sqlStream(query, params, options, sink)
  }

  /** Write the selected runs as one wide table; returns the file written and the row count. */
  async exportRuns(options: ExportRunsOptions): Promise<{ path: string; rows: number; columns: number }> {
    const compiled = compileSearch({ ...options, maxResults: 1 })
    await this.catchUp()
    const search = searchSql(options, compiled.filter, compiled.orderBy)
    const ids = (await this.query(search)).map((r) => r.run_id as string)
    const join = (select: string, table: string) => ({ sql: `SELECT ${select} FROM (${search.sql}) s JOIN ${table}`, params: search.params })
    const runs = await this.query(join("r.*, e.name AS experiment", "runs r ON r.run_id = s.run_id JOIN experiments e ON e.experiment_id = r.experiment_id"))
    const params = await this.query(join("p.run_id, p.key, p.value", "params p ON p.run_id = s.run_id"))
    const metrics = await this.query(join("m.run_id, m.key, m.value", "latest_metrics m ON m.run_id = s.run_id"))
    const tags = await this.query(join("t.run_id, t.key, t.value", "tags t ON t.run_id = s.run_id"))
    const table = wideTable(ids, runs, params, metrics, tags)
    const path = await writeTable(table, options.format, options.out)
    return { path, rows: table.rows, columns: table.columns.length }
  }
}

