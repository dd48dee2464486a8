/**
 * @runledger/core: the domain of runledger. Imports nothing but `effect`; does no I/O.
 *
 * The public API: the events, the errors, the ports, the projections a reader folds, ids and the
 * in-memory stores. What an adapter author needs (the append rules, stamping, group commit, the
 * codec, the audit checks) is `@runledger/core/store-kit`; what the tracker (@runledger/tracker)
 * builds on (decide, the command handler, validation) is `@runledger/core/write`.
 */
export type { Draft } from "./decide/common.ts"
// The tagged errors, and `invalid` for front ends that refuse bad input the same way.
export { ConcurrencyConflict, invalid, InvalidInput, NotFound, ParamConflict, RunNotActive, StorageError, StoreCorrupted, type TrackerError } from "./errors.ts"
export * from "./events.ts"
export { uuidv7 } from "./ids.ts"
export * from "./memory.ts"
export { MetricValue } from "./metric-value.ts"
export * from "./ports.ts"
export * from "./project/index.ts"
export { MAX_TIMESTAMP_MS } from "./validate.ts"
