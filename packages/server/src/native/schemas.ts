/**
 * The Schemas of the native API's requests (HTTP-only). The answers' Schemas are the runtime's
 * (api-schemas.ts there: the remote client decodes with the same ones) and core's views.
 */
import { HistoryFieldName, ScoreBy, ViewType } from "@runledger/runtime"
import { Schema } from "effect"

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
  endStep: Schema.optionalKey(Schema.Number),
  // The columns a chart draws (100 runs: `last` by `step`); the others stay home. Default: all.
  fields: Schema.optionalKey(Schema.Array(HistoryFieldName).annotate({ description: "The bucket columns to send (`step` always is); default: all of them." })),
  asOf: Schema.optionalKey(AsOfText)
}).annotate({ identifier: "HistoriesRequest" })

export const ArtifactEntry = Schema.Struct({ path: Schema.String, size: Schema.Number, sha256: Schema.String, mediaType: Schema.String }).annotate({ identifier: "ArtifactEntry" })
