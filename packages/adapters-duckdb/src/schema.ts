/**
 * The read model's tables: plain DuckDB tables folded from the log, for SQL. The names the query
 * compiler targets (packages/query/src/sql/read-model.ts) are kept: runs, params, tags,
 * latest_metrics, with (run_id, key) unique in the last three.
 *
 * Two storage choices, each for a measured reason:
 * - Metric values: DuckDB compresses a column segment whose min equals its max as one constant,
 *   and 0 = -0 in its comparisons, so a segment holding only zeros comes back with one sign for
 *   all (RLE merges runs of 0 and -0 the same way). The value is therefore stored with -0 written
 *   as 0 plus a `negative_zero` flag, and the views put the sign back. NaN and +/-Infinity are
 *   stored as they are and come back exactly.
 * - Metric points are stored against a small dictionary of (run_id, key) series: the bulk table
 *   holds numbers only, so ingest sets no strings per point. The `metrics` view joins the names
 *   back; it has every point ever logged, superseded ones included.
 *
 * A read model is a projection: when SCHEMA_VERSION changes it is dropped and rebuilt from the log.
 */

/** Bump on any change below: an older read model is then dropped and rebuilt from the log. */
export const SCHEMA_VERSION = 1

/** The value with the sign of zero put back (see above). */
const signedValue = (table: string) => `CASE WHEN ${table}.negative_zero THEN '-0'::DOUBLE ELSE ${table}.value END`

export const CREATE_SCHEMA = `
  CREATE TABLE readmodel_state (
    position BIGINT NOT NULL,          -- the last log position folded in (0: nothing yet)
    last_event_id VARCHAR,             -- the id of the event at that position
    points BIGINT NOT NULL,            -- metric points ingested so far
    schema_version INTEGER NOT NULL
  );
  INSERT INTO readmodel_state VALUES (0, NULL, 0, ${SCHEMA_VERSION});

  CREATE TABLE experiments (
    experiment_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    lifecycle VARCHAR NOT NULL,        -- 'active' | 'deleted'
    created_at BIGINT NOT NULL,        -- epoch ms
    parent_id VARCHAR,                 -- the experiment a fork came from
    tags VARCHAR NOT NULL,             -- JSON object
    overrides VARCHAR NOT NULL         -- JSON object: the settings a fork changes
  );

  CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    experiment_id VARCHAR NOT NULL,
    run_name VARCHAR NOT NULL,
    status VARCHAR NOT NULL,           -- RUNNING | FINISHED | FAILED | KILLED
    start_time BIGINT NOT NULL,        -- epoch ms
    end_time BIGINT,                   -- epoch ms; NULL while running
    lifecycle VARCHAR NOT NULL,        -- the run's own: 'active' | 'deleted' (join experiments for theirs)
    parent_run_id VARCHAR,
    error_message VARCHAR,
    error_stack VARCHAR,
    resumed_from BIGINT[] NOT NULL,    -- the fromStep of each resume, in order
    git_commit VARCHAR,
    source VARCHAR NOT NULL,           -- JSON: git, command line, cwd
    environment VARCHAR NOT NULL       -- JSON: runtime, OS, CPU, host, pid
  );

  CREATE TABLE params (
    run_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL,            -- String(value): "0.1", "true", "1e+21"
    value_type VARCHAR NOT NULL,       -- 'string' | 'number' | 'boolean': the value as logged
    PRIMARY KEY (run_id, key)
  );

  CREATE TABLE tags (
    run_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (run_id, key)
  );

  CREATE TABLE artifacts (
    run_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    media_type VARCHAR NOT NULL,
    PRIMARY KEY (run_id, path)
  );

  CREATE TABLE metric_series (
    series_id INTEGER PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL
  );

  CREATE TABLE metric_points (
    series_id INTEGER NOT NULL,
    step BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,         -- epoch ms (whole)
    value DOUBLE NOT NULL,             -- -0 stored as 0: see negative_zero
    negative_zero BOOLEAN NOT NULL,
    era INTEGER NOT NULL,              -- how many resumes of the run came before the point
    superseded BOOLEAN NOT NULL,       -- set aside by a later resume from a step <= this one
    position BIGINT NOT NULL,          -- the log position of the event that logged it
    idx INTEGER NOT NULL               -- the point's index in that event
  );

  CREATE TABLE latest_metric_values (
    run_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    negative_zero BOOLEAN NOT NULL,
    step BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    PRIMARY KEY (run_id, key)
  );

  -- Every point ever logged: out-of-order and repeated steps kept, superseded ones marked.
  CREATE VIEW metrics AS
    SELECT s.run_id, s.key, p.step, p.timestamp, ${signedValue("p")} AS value,
           p.era, p.superseded, p.position, p.idx
    FROM metric_points p JOIN metric_series s ON s.series_id = p.series_id;

  -- Per (run, key): the effective latest point (highest step, then latest timestamp, then last logged).
  CREATE VIEW latest_metrics AS
    SELECT l.run_id, l.key, ${signedValue("l")} AS value, l.step, l.timestamp FROM latest_metric_values l;

  CREATE TABLE models (
    name VARCHAR PRIMARY KEY,
    description VARCHAR NOT NULL,
    tags VARCHAR NOT NULL,             -- JSON object
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );

  CREATE TABLE model_versions (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    run_id VARCHAR NOT NULL,
    artifact_path VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,            -- None | Staging | Production | Archived
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (name, version)
  );

  CREATE TABLE model_aliases (
    name VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (name, alias)
  );
`

/** Everything CREATE_SCHEMA makes, for a rebuild (views first: they depend on the tables). */
export const DROP_SCHEMA = `
  DROP VIEW IF EXISTS metrics;
  DROP VIEW IF EXISTS latest_metrics;
  ${["readmodel_state", "experiments", "runs", "params", "tags", "artifacts", "metric_series", "metric_points", "latest_metric_values", "models", "model_versions", "model_aliases"]
    .map((t) => `DROP TABLE IF EXISTS ${t};`).join("\n  ")}
`
