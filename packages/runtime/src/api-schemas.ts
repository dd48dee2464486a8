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
import { HISTORY_FIELDS, type HistoryColumnsF64, type HistoryColumnsLike, type HistoryField } from "./histories-f64.ts"
import type { Tracker } from "./open.ts"

/** Compiles only when A and B are the same type. */
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const exact = <A, B>(_: Exact<A, B>): void => {}

type RunComparisonType = Awaited<ReturnType<Tracker["compareRuns"]>>
type RankedRunType = Awaited<ReturnType<Tracker["rankRuns"]>>[number]
type GroupComparisonType = Awaited<ReturnType<Tracker["compareGroups"]>>
/** The histories' binary answer (content negotiation beside `HistoriesResponse`'s JSON): histories-f64.ts. */
export { HISTORIES_F64, HISTORY_FIELDS, type HistoryColumnsF64, type HistoryField, historiesF64, historiesOfF64 } from "./histories-f64.ts"

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
 * A request may name the `fields` it draws (a chart of 100 runs draws `last` by `step`): the other
 * columns are left out; `step` is always there.
 */
export const HistoryColumns = Schema.Struct({
  runId: Schema.String,
  key: Schema.String,
  points: Schema.Number,
  step: Schema.Array(Schema.Number),
  firstStep: Schema.optionalKey(Schema.Array(Schema.Number)),
  first: Schema.optionalKey(Schema.Array(MetricValue)),
  last: Schema.optionalKey(Schema.Array(MetricValue)),
  min: Schema.optionalKey(Schema.Array(MetricValue)),
  max: Schema.optionalKey(Schema.Array(MetricValue)),
  count: Schema.optionalKey(Schema.Array(Schema.Number)),
  timestamp: Schema.optionalKey(Schema.Array(Schema.Number))
}).annotate({ identifier: "HistoryColumns", description: "A run's buckets as columns; every column but `step` is there unless the request's `fields` left it out." })

/** A bucket field a histories request may ask for (`fields`). */
export const HistoryFieldName = Schema.Literals(HISTORY_FIELDS).annotate({ identifier: "HistoryField" })

type HistoryColumnsType = typeof HistoryColumns.Type

/** A run's downsampled history as columns, every field there (`Tracker.downsampledHistoryColumns`). */
export type DownsampledHistoryColumns = HistoryColumnsF64<HistoryField>

/** A run's history as the native API's columns (`HistoryColumns`): `step` and the `fields` named (default: all). */
export const historyColumns = (c: HistoryColumnsLike, fields: ReadonlyArray<HistoryField> = HISTORY_FIELDS): HistoryColumnsType => {
  const cols: Partial<Record<HistoryField, number[]>> = { step: Array.from(c.step) }
  for (const f of fields) cols[f] ??= Array.from(c[f] ?? [])
  return { runId: c.runId, key: c.key, points: c.points, ...(cols as { step: number[] }) }
}

/** The columns every field must be in (the remote client asks for all): a column missing is a server that answered another question. */
const complete = (c: HistoryColumnsLike): Record<HistoryField, ArrayLike<number>> => {
  const lacking = HISTORY_FIELDS.filter((f) => c[f] === undefined)
  if (lacking.length > 0) throw new TypeError(`The server's history of run ${c.runId} lacks columns (${lacking.join(", ")}): it was asked for all of them. Is the server a different version?`)
  return c as Record<HistoryField, ArrayLike<number>>
}

/** A history's columns as doubles (the remote client's `downsampledHistoryColumns`, from the JSON answer). */
export const historyColumnsF64 = (c: HistoryColumnsLike): DownsampledHistoryColumns => {
  const all = complete(c)
  return { runId: c.runId, key: c.key, points: c.points, ...Object.fromEntries(HISTORY_FIELDS.map((f) => [f, Float64Array.from(all[f])])) } as DownsampledHistoryColumns
}

/** The history of columns, one object per bucket (the Tracker's `downsampledHistories`): `value` is each bucket's `last`. */
export const historyOfColumns = (c: HistoryColumnsLike): DownsampledHistoryType => {
  const { step, firstStep, first, last, min, max, count, timestamp } = complete(c)
  const buckets = new Array<DownsampledHistoryType["buckets"][number]>(step.length)
  for (let i = 0; i < buckets.length; i++) {
    buckets[i] = { step: step[i], firstStep: firstStep[i], first: first[i], last: last[i], min: min[i], max: max[i], count: count[i], timestamp: timestamp[i], value: last[i] }
  }
  return { runId: c.runId, key: c.key, points: c.points, buckets }
}

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
  return {
    series: out.series.map((c) => {
      const encoded: Record<string, unknown> = { ...c }
      for (const f of ["first", "last", "min", "max"] as const) if (c[f] !== undefined) encoded[f] = values(c[f])
      return encoded as typeof HistoriesResponse.Encoded["series"][number]
    })
  }
}

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
