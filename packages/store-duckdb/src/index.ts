/**
 * @runledger/store-duckdb: runledger's event store in one DuckDB file, as core's EventStore port.
 * Also the small DuckDB helpers the read model (@runledger/readmodel-duckdb) shares with it: value
 * conversions and the in-process claim on a database file.
 */
export { DuckDBEventStore, type DuckDBEventStoreOptions } from "./event-store.ts"
export { duckdbEventStore, DuckDBStoreLayer, openDuckDBEventStore } from "./layer.ts"
export { claimFile, releaseFile } from "./file-claims.ts"
export { fromBigInt, toNumber, toPlain, wholeMs } from "./values.ts"
