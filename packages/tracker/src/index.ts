/**
 * @runledger/tracker: the Effect services over core's ports (experiments, runs, run sessions with
 * call-time validation and batching, the model registry, artifacts, reads), and the Promise API, a
 * thin wrapper over them.
 */
export * from "./facade.ts"
export { type BatchMetric, type EndOptions, type LogBatch, type MetricOptions, resumeRunSession, RunSession, startRunSession } from "./run-session.ts"
export * from "./tracker.ts"
