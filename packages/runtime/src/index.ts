/**
 * @runledger/runtime: the composition root every front end (the CLI, a server) opens stores with.
 * The `runledger` package re-exports all of it.
 *
 *     import { openTracker } from "@runledger/runtime"
 *     const tracker = await openTracker({ uri: "runledger" })          // a directory
 *     const other = await openTracker({ uri: "duckdb:runs.duckdb" })   // a DuckDB file
 */
export { defaultDir, type DownsampledHistory, type HistoriesOptions, openTracker, type OpenTrackerOptions, type SearchOptions, storeLocation, type Tracker, trackerLayer } from "./open.ts"
export { parseStoreUri, type StoreLocation, SUPPORTED_STORES } from "./store.ts"
/** How long a store's owner (the server) keeps the read model open after its last call: `openTracker({ readModelLingerMs: LINGER_MS })`. */
export { LINGER_MS } from "./analytics.ts"
export { asOfText, parseAsOf } from "./as-of.ts"
export * from "./api-schemas.ts"
export { downloadArtifacts } from "./download.ts"
/** The columnar metric batch builder (a server builds `LogMetrics` commands with it; the tracker checks what it holds). */
export { MetricColumns } from "@runledger/core/write"
export { captureEnvironment, captureSource, NodeRunContext } from "./provenance.ts"
export {
  ConcurrencyConflict,
  type DatasetInput,
  ExperimentSummary,
  ExperimentView,
  HistoryPoint,
  MetricValue,
  ModelVersionView,
  ModelView,
  type Stage,
  InvalidInput,
  NotFound,
  ParamConflict,
  RunNotActive,
  RunView,
  StorageError,
  StoreCorrupted
} from "@runledger/core"
export {
  type BatchMetric,
  type AsOf,
  type MetricOptions,
  type MetricPoint,
  Run,
  type StartRunOptions,
  type TrackerClient
} from "@runledger/tracker"
