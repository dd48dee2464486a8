/**
 * The DuckDB client this adapter is built and tested with, for workspace tools that measure
 * against raw DuckDB (bench/catchup.ts's appender ceiling) without declaring the dependency
 * themselves: the workspace root does not depend on @duckdb/node-api. Not part of the package's
 * public API (index.ts does not export it).
 */
export * from "@duckdb/node-api"
