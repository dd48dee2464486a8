/**
 * The Schemas of the analytics answers the Tracker returns (RunComparison, RankedRun,
 * GroupComparison, DownsampledHistory) and of the native HTTP API's answers built from them. The
 * answers' TypeScript types are the read model's and this package's; each Schema here is checked at
 * compile time to describe exactly that type (`exact` below), so a field added to one and not the
 * other fails the type-check. The server encodes its answers with them and the remote client
 * decodes them with the same ones (the web UI imports them from here too).
 *
 * Doubles that may be NaN, infinite or -0 (metric values, statistics) are `MetricValue`s.
 */
import { ExperimentSummary, HistoryPoint, MetricValue, ModelVersionView, ModelView, RunView } from "@runledger/core"
import { Schema } from "effect"
import type { Tracker } from "./open.ts"

/** Compiles only when A and B are the same type. */
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const exact = <A, B>(_: Exact<A, B>): void => {}

type RunComparisonType = Awaited<ReturnType<Tracker["compareRuns"]>>
type RankedRunType = Awaited<ReturnType<Tracker["rankRuns"]>>[number]
type GroupComparisonType = Awaited<ReturnType<Tracker["compareGroups"]>>
type DownsampledHistoryType = Awaited<ReturnType<Tracker["downsampledHistories"]>>[number]

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
exact<typeof RunComparison.Type, RunComparisonType>(true)

export const RankedRun = Schema.Struct({
  rank: Schema.Number,
  runId: Schema.String,
  runName: Schema.String,
  experimentId: Schema.String,
  status: Schema.String,
  score: MetricValue,
  normalized: Schema.optionalKey(Schema.NullOr(MetricValue))
}).annotate({ identifier: "RankedRun" })
exact<typeof RankedRun.Type, RankedRunType>(true)

export const ScoreBy = Schema.Literals(["last", "min", "max"])

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
exact<typeof GroupComparison.Type, GroupComparisonType>(true)

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
exact<typeof DownsampledHistory.Type, DownsampledHistoryType>(true)

/**
 * One run's downsampled history as the native API sends it: a column per bucket field (bucket i
 * is index i of each), not an object per bucket. A compare chart of 100 runs is some 150k buckets:
 * as objects that was 32 MB of JSON and a second of Schema encoding on the server; as columns the
 * field names go once per run, `value` (always `last`) is left out, and the server writes the
 * columns in one pass (`historiesJson`). The web UI hands the columns to uPlot as they come.
 */
export const HistoryColumns = Schema.Struct({
  runId: Schema.String,
  key: Schema.String,
  points: Schema.Number,
  step: Schema.Array(Schema.Number),
  firstStep: Schema.Array(Schema.Number),
  first: Schema.Array(MetricValue),
  last: Schema.Array(MetricValue),
  min: Schema.Array(MetricValue),
  max: Schema.Array(MetricValue),
  count: Schema.Array(Schema.Number),
  timestamp: Schema.Array(Schema.Number)
}).annotate({ identifier: "HistoryColumns" })

type HistoryColumnsType = typeof HistoryColumns.Type
const NUMBER_FIELDS = ["step", "firstStep", "count", "timestamp"] as const
const VALUE_FIELDS = ["first", "last", "min", "max"] as const

/** A run's history as columns (`HistoryColumns`). */
export const historyColumns = (h: DownsampledHistoryType): HistoryColumnsType => {
  const n = h.buckets.length
  const cols = Object.fromEntries([...NUMBER_FIELDS, ...VALUE_FIELDS].map((f) => [f, new Array<number>(n)])) as Record<(typeof NUMBER_FIELDS)[number] | (typeof VALUE_FIELDS)[number], number[]>
  for (let i = 0; i < n; i++) {
    const b = h.buckets[i]
    cols.step[i] = b.step
    cols.firstStep[i] = b.firstStep
    cols.count[i] = b.count
    cols.timestamp[i] = b.timestamp
    cols.first[i] = b.first
    cols.last[i] = b.last
    cols.min[i] = b.min
    cols.max[i] = b.max
  }
  return { runId: h.runId, key: h.key, points: h.points, ...cols }
}

/** The history of columns (the remote client's answer is the Tracker's): `value` is each bucket's `last`. */
export const historyOfColumns = (c: HistoryColumnsType): DownsampledHistoryType => ({
  runId: c.runId,
  key: c.key,
  points: c.points,
  buckets: c.step.map((step, i) => ({
    step,
    firstStep: c.firstStep[i],
    first: c.first[i],
    last: c.last[i],
    min: c.min[i],
    max: c.max[i],
    count: c.count[i],
    timestamp: c.timestamp[i],
    value: c.last[i]
  }))
})

/** A double as `MetricValue` writes it to JSON. */
const metricJson = (x: number): number | "NaN" | "Infinity" | "-Infinity" | "-0" =>
  x === 0 ? (Object.is(x, -0) ? "-0" : 0) : Number.isFinite(x) ? x : Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity"

/**
 * `HistoriesResponse`'s JSON form, written column by column: what the Schema's JSON codec gives (a
 * property test holds them equal), without its per-element encoding, which took a second for 100
 * runs of 1,500 buckets.
 */
export const historiesJson = (out: { readonly series: ReadonlyArray<HistoryColumnsType> }): typeof HistoriesResponse.Encoded => {
  const values = (xs: ReadonlyArray<number>) => {
    // Most columns hold finite non-zero numbers only: then the array goes out as it is.
    for (let i = 0; i < xs.length; i++) if (xs[i] === 0 || !Number.isFinite(xs[i])) return xs.map(metricJson)
    return xs
  }
  return { series: out.series.map((c) => ({ ...c, first: values(c.first), last: values(c.last), min: values(c.min), max: values(c.max) })) }
}

/** The histories' binary answer (content negotiation beside `HistoriesResponse`'s JSON): histories-f64.ts. */
export { HISTORIES_F64, HISTORY_FIELDS, type HistoryColumnsF64, historiesF64, historiesOfF64 } from "./histories-f64.ts"

/** The native API's answers (API-CONTRACT.md "Reads and analytics"), for the server and the remote client. */
export const ExperimentsResponse = Schema.Struct({ experiments: Schema.Array(ExperimentSummary) })
export const RunResponse = Schema.Struct({ run: RunView })
export const SearchRunsResponse = Schema.Struct({ runs: Schema.Array(RunView), nextPageToken: Schema.NullOr(Schema.String) })
export const MetricHistoryResponse = Schema.Struct({ points: Schema.Array(HistoryPoint) })
export const HistoriesResponse = Schema.Struct({ series: Schema.Array(HistoryColumns) })
export const CompareRunsResponse = Schema.Struct({ comparison: RunComparison })
export const RankRunsResponse = Schema.Struct({ runs: Schema.Array(RankedRun) })
export const CompareGroupsResponse = Schema.Struct({ comparison: GroupComparison })
export const ModelsResponse = Schema.Struct({ models: Schema.Array(ModelView) })
export const ModelResponse = Schema.Struct({ model: ModelView })
export const RenameModelBody = Schema.Struct({ newName: Schema.String })
export const ModelVersionsResponse = Schema.Struct({ versions: Schema.Array(ModelVersionView) })
