/**
 * The Schemas of the analytics answers (RunComparison, RankedRun, GroupComparison,
 * DownsampledHistory) and of the requests shared by several routes. The views (RunView,
 * ExperimentView, ModelView...) are core's own Schemas; these answers are the read model's and
 * the runtime's TypeScript types, so their Schemas live here, each checked at compile time to
 * describe exactly the type the Tracker returns (`Exact` below): a field added to one and not the
 * other fails the type-check, so the two cannot drift. The web UI imports both from here.
 *
 * Doubles that may be NaN, infinite or -0 (metric values, statistics) are `MetricValue`s.
 */
import { MetricValue, type Tracker } from "@runledger/runtime"
import { Schema } from "effect"

/** Compiles only when A and B are the same type. */
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const exact = <A, B>(_: Exact<A, B>): void => {}

export type RunComparison = Awaited<ReturnType<Tracker["compareRuns"]>>
export type RankedRun = Awaited<ReturnType<Tracker["rankRuns"]>>[number]
export type GroupComparison = Awaited<ReturnType<Tracker["compareGroups"]>>
export type DownsampledHistory = Awaited<ReturnType<Tracker["downsampledHistories"]>>[number]

export const ViewType = Schema.Literals(["active", "deleted", "all"])

export const MetricSummary = Schema.Struct({
  last: MetricValue,
  step: Schema.Number,
  min: Schema.NullOr(MetricValue),
  max: Schema.NullOr(MetricValue),
  points: Schema.Number
}).annotate({ identifier: "MetricSummary" })

export const RunComparison = Schema.Struct({
  runs: Schema.Array(Schema.Struct({ runId: Schema.String, runName: Schema.String, experimentId: Schema.String, status: Schema.String })),
  /** Every param any of the runs has; `values[i]` is run i's (null when it has none). */
  params: Schema.Array(Schema.Struct({ key: Schema.String, values: Schema.Array(Schema.NullOr(Schema.String)), differs: Schema.Boolean })),
  metrics: Schema.Array(Schema.Struct({ key: Schema.String, values: Schema.Array(Schema.NullOr(MetricSummary)) }))
}).annotate({ identifier: "RunComparison" })
exact<typeof RunComparison.Type, RunComparison>(true)

export const RankedRun = Schema.Struct({
  rank: Schema.Number,
  runId: Schema.String,
  runName: Schema.String,
  experimentId: Schema.String,
  status: Schema.String,
  score: MetricValue,
  normalized: Schema.optionalKey(Schema.NullOr(MetricValue))
}).annotate({ identifier: "RankedRun" })
exact<typeof RankedRun.Type, RankedRun>(true)

const ScoreBy = Schema.Literals(["last", "min", "max"])

const GroupSummary = Schema.Struct({ filter: Schema.String, runs: Schema.Number, mean: MetricValue, excluded: Schema.Number })

export const GroupComparison = Schema.Struct({
  metric: Schema.String,
  by: ScoreBy,
  a: GroupSummary,
  b: GroupSummary,
  welch: Schema.Struct({
    meanA: MetricValue,
    meanB: MetricValue,
    difference: MetricValue,
    varianceA: MetricValue,
    varianceB: MetricValue,
    t: MetricValue,
    df: MetricValue,
    pValue: MetricValue,
    nA: Schema.Number,
    nB: Schema.Number,
    excludedA: Schema.Number,
    excludedB: Schema.Number
  }),
  bootstrap: Schema.Struct({
    difference: MetricValue,
    lower: MetricValue,
    upper: MetricValue,
    confidence: Schema.Number,
    resamples: Schema.Number,
    seed: Schema.Number,
    nA: Schema.Number,
    nB: Schema.Number,
    excludedA: Schema.Number,
    excludedB: Schema.Number
  }),
  verdict: Schema.Struct({ alpha: Schema.Number, welchSignificant: Schema.Boolean, intervalExcludesZero: Schema.Boolean, agree: Schema.Boolean }),
  warnings: Schema.Array(Schema.String)
}).annotate({ identifier: "GroupComparison" })
exact<typeof GroupComparison.Type, GroupComparison>(true)

export const HistoryBucket = Schema.Struct({
  step: Schema.Number,
  firstStep: Schema.Number,
  first: MetricValue,
  last: MetricValue,
  min: MetricValue,
  max: MetricValue,
  count: Schema.Number,
  timestamp: Schema.Number,
  value: MetricValue
}).annotate({ identifier: "HistoryBucket" })

export const DownsampledHistory = Schema.Struct({
  runId: Schema.String,
  key: Schema.String,
  points: Schema.Number,
  buckets: Schema.Array(HistoryBucket)
}).annotate({ identifier: "DownsampledHistory" })
exact<typeof DownsampledHistory.Type, DownsampledHistory>(true)

/** `asOf` as the CLI's --as-of reads it (digits: a log position; else a date/time); parsed by `parseAsOf`. */
export const AsOfText = Schema.String.annotate({ description: "Time travel: a log position (digits) or an ISO date/time, as the CLI's --as-of." })

/** Which runs an analytics call looks at: experiments by name or id (default all), and by lifecycle. */
const Scope = {
  experiments: Schema.optionalKey(Schema.Array(Schema.String)),
  viewType: Schema.optionalKey(ViewType)
}

export const SearchBody = Schema.Struct({
  ...Scope,
  filter: Schema.optionalKey(Schema.String),
  orderBy: Schema.optionalKey(Schema.Array(Schema.String)),
  maxResults: Schema.optionalKey(Schema.Int),
  pageToken: Schema.optionalKey(Schema.String),
  asOf: Schema.optionalKey(AsOfText)
}).annotate({ identifier: "SearchRunsRequest" })

export const RankBody = Schema.Struct({
  ...Scope,
  metric: Schema.String,
  goal: Schema.Literals(["min", "max"]),
  by: Schema.optionalKey(ScoreBy),
  normalize: Schema.optionalKey(Schema.Literals(["zscore", "percentile", "minmax"])),
  limit: Schema.optionalKey(Schema.Int),
  filter: Schema.optionalKey(Schema.String),
  includeAllStatuses: Schema.optionalKey(Schema.Boolean)
}).annotate({ identifier: "RankRunsRequest" })

export const StatsBody = Schema.Struct({
  ...Scope,
  a: Schema.String,
  b: Schema.String,
  metric: Schema.String,
  by: Schema.optionalKey(ScoreBy),
  confidence: Schema.optionalKey(Schema.Number),
  resamples: Schema.optionalKey(Schema.Int),
  seed: Schema.optionalKey(Schema.Int)
}).annotate({ identifier: "CompareGroupsRequest" })

export const ExportBody = Schema.Struct({
  ...Scope,
  format: Schema.Literals(["parquet", "arrow", "csv"]),
  filter: Schema.optionalKey(Schema.String),
  orderBy: Schema.optionalKey(Schema.Array(Schema.String))
}).annotate({ identifier: "ExportRunsRequest" })

export const SqlParam = Schema.NullOr(Schema.Union([Schema.String, Schema.Finite, Schema.Boolean]))

export const SqlBody = Schema.Struct({
  query: Schema.String,
  params: Schema.optionalKey(Schema.Array(SqlParam)),
  timeoutMs: Schema.optionalKey(Schema.Number)
}).annotate({ identifier: "SqlRequest" })

export const HistoriesBody = Schema.Struct({
  runIds: Schema.Array(Schema.String),
  key: Schema.String,
  maxPoints: Schema.Int,
  startStep: Schema.optionalKey(Schema.Number),
  endStep: Schema.optionalKey(Schema.Number)
}).annotate({ identifier: "HistoriesRequest" })

export const ArtifactEntry = Schema.Struct({ path: Schema.String, size: Schema.Number, sha256: Schema.String, mediaType: Schema.String }).annotate({ identifier: "ArtifactEntry" })
