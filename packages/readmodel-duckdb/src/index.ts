/**
 * @runledger/readmodel-duckdb: runledger's analytical read model on DuckDB. The schema, catch-up
 * from any event source, the summaries, read-only SQL, and every SQL query over the tables (search,
 * compare, rank, history, export): the read model owns its SQL.
 */
export { type CatchUpOptions, type CatchUpResult, EventNotFoldable, ReadModel, ReadModelBusy, ReadModelDamaged, ReadModelForeign, type ReadModelOptions, MEMORY_LIMIT } from "./read-model.ts"
export { DEFAULT_TIMEOUT_MS, type ReadOnlyOptions, type RowSink, type SqlParam, type SqlRow } from "./read-only-sql.ts"
export { SCHEMA_VERSION } from "./schema.ts"
export type { BatchReader, EventSource } from "./source.ts"
export { BLOCK_LEVELS, metricBlocks, signedZeroSql, stepOrderSql } from "./schema.ts"
export * from "./queries/index.ts"
export { NotEnoughRuns } from "./queries/errors.ts"
export { JoinedTargets } from "./queries/targets.ts"
