/**
 * runledger: the batteries-included entry point.
 *
 *     import { openTracker } from "runledger"
 *     const tracker = await openTracker({ dir: "runledger" })
 */
export { defaultDir, openTracker, type OpenTrackerOptions, type Tracker, trackerLayer } from "./open.ts"
export { downloadArtifacts } from "./download.ts"
export { captureEnvironment, captureSource, NodeRunContext } from "./provenance.ts"
export {
  type BatchMetric,
  ConcurrencyConflict,
  type AsOf,
  type ExperimentView,
  type ModelVersionView,
  type ModelView,
  type Stage,
  InvalidInput,
  type MetricOptions,
  type MetricPoint,
  NotFound,
  ParamConflict,
  Run,
  RunNotActive,
  type RunView,
  type StartRunOptions,
  StorageError,
  StoreCorrupted,
  type TrackerClient
} from "@runledger/core"
