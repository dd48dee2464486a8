/**
 * The read model's tables: plain DuckDB tables folded from the log, for SQL. The names the query
 * compiler targets (queries/targets.ts) are kept: runs, params, tags,
 * latest_metrics, with (run_id, key) unique in the last three. Each table is described once,
 * here, as data: the DDL and the ingest's column order both come from it.
 *
 * Four storage choices, each for a measured reason (the fourth: no PRIMARY KEY, see TableDef.key):
 * - Metric values: DuckDB compresses a column segment whose min equals its max as one constant,
 *   and 0 = -0 in its comparisons, so a segment holding only zeros comes back with one sign for
 *   all (RLE merges runs of 0 and -0 the same way; neither can be switched off for one column).
 *   The value is therefore stored with -0 written as 0 plus a `negative_zero` flag, and the views
 *   put the sign back. NaN and +/-Infinity are stored as they are and come back exactly.
 * - Metric points are stored against a small dictionary of (run_id, key) series: the bulk table
 *   holds numbers only, so ingest sets no strings per point. The `metrics` view joins the names
 *   back; it has every point ever logged, superseded ones included.
 * - Charts read `metric_blocks_<level>`, summaries of the effective points per aligned step range kept at
 *   ingest (metric-blocks.ts): downsampling 10^7 points on read took seconds, the blocks take
 *   milliseconds.
 *
 * A read model is a projection: when SCHEMA_VERSION changes it is dropped and rebuilt from the log.
 */
import { BIGINT, BOOLEAN, DOUBLE, type DuckDBType, INTEGER, LIST, VARCHAR } from "@duckdb/node-api"

/** Bump on any change below: an older read model is then dropped and rebuilt from the log. */
export const SCHEMA_VERSION = 8

export interface Column {
  readonly name: string
  /** The SQL type with its constraints. */
  readonly sql: string
  /** How the ingest appends it. */
  readonly type: DuckDBType
  readonly note?: string
}

export interface TableDef {
  readonly name: string
  readonly columns: ReadonlyArray<Column>
  /**
   * The columns that identify a row (empty for the bulk tables, which are only appended to). Not
   * declared as a PRIMARY KEY: the fold keeps them unique (keyed-rows.ts writes a changed key by
   * DELETE then INSERT, a new one by appending), and DuckDB's index behind a PRIMARY KEY more than
   * doubled a run-heavy catch-up (every appended row inserted into it, every commit writing it)
   * and took space on disk; the one lookup by key (a row read back once per catch-up) scans instead.
   */
  readonly key: ReadonlyArray<string>
}

const col = (name: string, sql: string, type: DuckDBType, note?: string): Column => (note === undefined ? { name, sql, type } : { name, sql, type, note })
const text = (name: string, note?: string) => col(name, "VARCHAR NOT NULL", VARCHAR, note)
const textOrNull = (name: string, note?: string) => col(name, "VARCHAR", VARCHAR, note)
const ms = (name: string, note = "epoch ms") => col(name, "BIGINT NOT NULL", BIGINT, note)

/** The index of a column in its table's column order. */
export const columnIndex = (table: TableDef, name: string): number => {
  const i = table.columns.findIndex((c) => c.name === name)
  if (i < 0) throw new Error(`${table.name} has no column ${name}`)
  return i
}

export const READMODEL_STATE: TableDef = {
  name: "readmodel_state",
  key: [],
  columns: [
    col("position", "BIGINT NOT NULL", BIGINT, "the last log position folded in (0: nothing yet)"),
    textOrNull("last_event_id", "the id of the event at that position"),
    textOrNull("first_event_id", "the id of the log's first event: which log this read model belongs to"),
    col("points", "BIGINT NOT NULL", BIGINT, "metric points ingested so far"),
    col("schema_version", "INTEGER NOT NULL", INTEGER)
  ]
}

export const EXPERIMENTS: TableDef = {
  name: "experiments",
  key: ["experiment_id"],
  columns: [
    text("experiment_id"),
    text("name"),
    text("lifecycle", "'active' | 'deleted'"),
    ms("created_at"),
    textOrNull("parent_id", "the experiment a fork came from"),
    text("tags", "JSON object"),
    text("overrides", "JSON object: the settings a fork changes")
  ]
}

export const RUNS: TableDef = {
  name: "runs",
  key: ["run_id"],
  columns: [
    text("run_id"),
    text("experiment_id"),
    text("run_name"),
    text("status", "RUNNING | FINISHED | FAILED | KILLED"),
    ms("start_time"),
    col("end_time", "BIGINT", BIGINT, "epoch ms; NULL while running"),
    text("lifecycle", "the run's own: 'active' | 'deleted' (join experiments for theirs)"),
    textOrNull("parent_run_id"),
    textOrNull("error_message"),
    textOrNull("error_stack"),
    col("resumed_from", "BIGINT[] NOT NULL", LIST(BIGINT), "the fromStep of each resume, in order"),
    textOrNull("git_commit"),
    text("source", "JSON: git, command line, cwd"),
    text("environment", "JSON: runtime, OS, CPU, host, pid"),
    col("run_key", "INTEGER NOT NULL", INTEGER, "the run's number in this read model, in order of first start: what the other run tables join on (integers join about twice as fast as run ids)")
  ]
}

export const PARAMS: TableDef = {
  name: "params",
  key: ["run_id", "key"],
  columns: [
    text("run_id"),
    text("key"),
    text("value", `String(value): "0.1", "true", "1e+21"`),
    text("value_type", "'string' | 'number' | 'boolean': the value as logged"),
    col("run_key", "INTEGER NOT NULL", INTEGER, "the run's number in this read model (runs.run_key): joins on it are cheaper than on run_id")
  ]
}

export const TAGS: TableDef = {
  name: "tags",
  key: ["run_id", "key"],
  columns: [text("run_id"), text("key"), text("value"), col("run_key", "INTEGER NOT NULL", INTEGER, "the run's number in this read model (runs.run_key): joins on it are cheaper than on run_id")]
}

export const ARTIFACTS: TableDef = {
  name: "artifacts",
  key: ["run_id", "path"],
  columns: [text("run_id"), text("path"), text("sha256"), col("size", "BIGINT NOT NULL", BIGINT, "bytes"), text("media_type")]
}

export const RUN_INPUTS: TableDef = {
  name: "run_inputs",
  key: ["run_id", "position"],
  columns: [
    text("run_id"),
    col("position", "BIGINT NOT NULL", BIGINT, "the log position of its InputLogged event: the order the run's inputs were logged in"),
    text("name", "the dataset's name"),
    text("digest"),
    text("source_type", "'local', 'http', 'delta_table', ... as the client says"),
    text("source", "where the dataset came from, as the client describes it (often JSON)"),
    textOrNull("schema", "the dataset's schema as the client sent it (JSON text), if it did"),
    textOrNull("profile", "the dataset's profile as the client sent it (JSON text), if it did"),
    textOrNull("context", "the input's tag mlflow.data.context ('train', 'eval', ...), if set"),
    text("tags", "JSON object: all of the input's tags")
  ]
}

export const METRIC_SERIES: TableDef = {
  name: "metric_series",
  key: ["series_id"],
  columns: [
    col("series_id", "INTEGER NOT NULL", INTEGER),
    text("run_id"),
    text("key"),
    col("run_key", "INTEGER NOT NULL", INTEGER, "runs.run_key of run_id"),
    col(
      "distinct_steps",
      "BOOLEAN NOT NULL",
      BOOLEAN,
      "true while each point was logged at a step above the series' latest: no two of its points in effect share a step (a chart's zoom then needs no log order); false for good from the first that was not"
    )
  ]
}

export const METRIC_POINTS: TableDef = {
  name: "metric_points",
  key: [],
  columns: [
    col("series_id", "INTEGER NOT NULL", INTEGER),
    col("step", "BIGINT NOT NULL", BIGINT),
    ms("timestamp", "epoch ms (whole)"),
    col("value", "DOUBLE NOT NULL", DOUBLE, "-0 stored as 0: see negative_zero"),
    col("negative_zero", "BOOLEAN NOT NULL", BOOLEAN),
    col("era", "INTEGER NOT NULL", INTEGER, "how many resumes of the run came before the point"),
    col("superseded", "BOOLEAN NOT NULL", BOOLEAN, "set aside by a later resume from a step <= this one"),
    col("position", "BIGINT NOT NULL", BIGINT, "the log position of the event that logged it"),
    col("idx", "INTEGER NOT NULL", INTEGER, "the point's index in that event")
  ]
}

/**
 * Block widths are 2^level steps, every power of two from 32 to 65536 (see metric-blocks.ts):
 * a chart bucket is one block of some level. Buckets of 16 steps or fewer are read from the
 * points: blocks of 16 steps were half of all block rows (a 10M-point read model: 25 of 61 MB of
 * blocks), for charts of series no longer than 16 steps per bucket, whose points are few.
 */
export const BLOCK_LEVELS: ReadonlyArray<number> = Array.from({ length: 12 }, (_, i) => 5 + i)

/**
 * Summaries of the effective points per aligned step range, for charts (metric-blocks.ts): one
 * table per level, so a chart reads only the level it needs (in one table with a level column, a
 * level's rows are spread over every row group, and a read decompresses them all).
 */
export const metricBlocks = (level: number): TableDef => {
  if (!BLOCK_LEVELS.includes(level)) throw new RangeError(`No metric blocks of level ${level}: levels are ${BLOCK_LEVELS[0]} to ${BLOCK_LEVELS.at(-1)}.`)
  return {
    name: `metric_blocks_${level}`,
    key: [],
    columns: [
      col("series_id", "INTEGER NOT NULL", INTEGER),
      col("block", "BIGINT NOT NULL", BIGINT, `step >> ${level} of every point in it`),
      col("n", "BIGINT NOT NULL", BIGINT, "effective points in the block"),
      col("first_step", "BIGINT NOT NULL", BIGINT, "of its first point (by step, then log order)"),
      col("first", "DOUBLE NOT NULL", DOUBLE, "-0 stored as 0: see first_negative_zero"),
      col("first_negative_zero", "BOOLEAN NOT NULL", BOOLEAN),
      col("last_step", "BIGINT NOT NULL", BIGINT, "of its last point"),
      col("last", "DOUBLE NOT NULL", DOUBLE, "-0 stored as 0: see last_negative_zero"),
      col("last_negative_zero", "BOOLEAN NOT NULL", BOOLEAN),
      ms("last_timestamp", "epoch ms (whole) of its last point"),
      col("min", "DOUBLE", DOUBLE, "smallest non-NaN value; NULL when all are NaN"),
      col("max", "DOUBLE", DOUBLE, "largest non-NaN value; NULL when all are NaN"),
      col("last_position", "BIGINT NOT NULL", BIGINT, "the log position of the event that logged its latest-logged point"),
      col("last_idx", "INTEGER NOT NULL", INTEGER, "that point's index in the event")
    ]
  }
}

export const METRIC_BLOCK_TABLES: ReadonlyArray<TableDef> = BLOCK_LEVELS.map(metricBlocks)

export const LATEST_METRIC_VALUES: TableDef = {
  name: "latest_metric_values",
  key: ["run_id", "key"],
  columns: [
    text("run_id"),
    text("key"),
    col("value", "DOUBLE NOT NULL", DOUBLE, "-0 stored as 0: see negative_zero"),
    col("negative_zero", "BOOLEAN NOT NULL", BOOLEAN),
    col("step", "BIGINT NOT NULL", BIGINT),
    ms("timestamp", "epoch ms (whole)"),
    col("run_key", "INTEGER NOT NULL", INTEGER, "the run's number in this read model (runs.run_key): joins on it are cheaper than on run_id")
  ]
}

export const MODELS: TableDef = {
  name: "models",
  key: ["name"],
  columns: [text("name"), text("description"), text("tags", "JSON object"), ms("created_at"), ms("updated_at")]
}

export const MODEL_VERSIONS: TableDef = {
  name: "model_versions",
  key: ["name", "version"],
  columns: [
    text("name"),
    col("version", "INTEGER NOT NULL", INTEGER),
    text("run_id"),
    text("artifact_path"),
    text("stage", "None | Staging | Production | Archived"),
    ms("created_at"),
    ms("updated_at")
  ]
}

export const MODEL_ALIASES: TableDef = {
  name: "model_aliases",
  key: ["name", "alias"],
  columns: [text("name"), text("alias"), col("version", "INTEGER NOT NULL", INTEGER)]
}

export const TABLES: ReadonlyArray<TableDef> = [
  READMODEL_STATE, EXPERIMENTS, RUNS, PARAMS, TAGS, ARTIFACTS, RUN_INPUTS, METRIC_SERIES, METRIC_POINTS, ...METRIC_BLOCK_TABLES, LATEST_METRIC_VALUES, MODELS, MODEL_VERSIONS, MODEL_ALIASES
]

const createTable = (t: TableDef): string => {
  const lines = t.columns.map((c) => `  ${c.name} ${c.sql}`)
  const notes = t.columns.filter((c) => c.note !== undefined).map((c) => `-- ${c.name}: ${c.note}`)
  return [...notes, `CREATE TABLE ${t.name} (\n${lines.join(",\n")}\n);`].join("\n")
}

/** A stored value (`value`) with the sign of zero put back from its flag (see above). */
export const signedZeroSql = (value: string, negativeZero: string): string => `CASE WHEN ${negativeZero} THEN '-0'::DOUBLE ELSE ${value} END`

const signedValue = (alias: string) => signedZeroSql(`${alias}.value`, `${alias}.negative_zero`)

/** A point's place in the log as one number: its event's position, then its index in the event (positions stay below 2^32). */
export const loggedOrderSql = (position: string, idx: string): string => `(${position}::HUGEINT * 4294967296 + ${idx})`

/** One number ordering a series' points by step, then log order: cheaper to compare than a struct. */
export const stepOrderSql = (step: string, position: string, idx: string): string =>
  `(${step}::HUGEINT * 18446744073709551616 + ${loggedOrderSql(position, idx)})`

export const VIEWS = `
-- Every point ever logged: out-of-order and repeated steps kept, superseded ones marked.
CREATE VIEW metrics AS
  SELECT s.run_id, s.key, p.step, p.timestamp, ${signedValue("p")} AS value, p.era, p.superseded, p.position, p.idx, s.run_key
  FROM metric_points p JOIN metric_series s ON s.series_id = p.series_id;

-- Per (run, key): the effective latest point (highest step, then latest timestamp, then last logged).
CREATE VIEW latest_metrics AS
  SELECT l.run_id, l.key, ${signedValue("l")} AS value, l.step, l.timestamp, l.run_key FROM latest_metric_values l;

-- Every level's metric blocks, with its level.
CREATE VIEW metric_blocks AS
  ${BLOCK_LEVELS.map((level) => `SELECT series_id, ${level}::TINYINT AS level, * EXCLUDE (series_id) FROM metric_blocks_${level}`).join("\n  UNION ALL ")};
`

export const CREATE_SCHEMA = [
  ...TABLES.map(createTable),
  `INSERT INTO readmodel_state VALUES (0, NULL, NULL, 0, ${SCHEMA_VERSION});`,
  VIEWS
].join("\n\n")

/** Everything CREATE_SCHEMA makes, for a rebuild (views first: they depend on the tables). */
export const DROP_SCHEMA = [
  "DROP VIEW IF EXISTS metrics;",
  "DROP VIEW IF EXISTS latest_metrics;",
  "DROP VIEW IF EXISTS metric_blocks;",
  ...TABLES.map((t) => `DROP TABLE IF EXISTS ${t.name};`)
].join("\n")
