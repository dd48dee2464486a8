/**
 * runledger: the batteries-included entry point.
 *
 *     import { openTracker } from "runledger"
 *     const tracker = await openTracker({ dir: "runledger" })
 */
export { defaultDir, openTracker, type OpenTrackerOptions, trackerLayer } from "./open.ts"
export { captureEnvironment, captureSource, NodeRunContext } from "./provenance.ts"
export {
  type BatchMetric,
  ConcurrencyConflict,
  type ExperimentView,
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
