/**
 * MLflow's tracking store on SQLite, re-created for the bytes benchmarks' ceiling (issue 11's
 * side-by-side): MLflow's own tables for runs (from its schema dump, tests/db/schemas/sqlite.sql)
 * with the run_uuid indexes its models declare, filled as its SqlAlchemyStore fills them (a run
 * row, its system tags, params and tags rows, a metrics row per point and a latest_metrics row per
 * key), through Node's built-in SQLite. Only sizes are read from it: its speed is not measured here.
 */
import { DatabaseSync } from "node:sqlite"

const SCHEMA = `
CREATE TABLE experiments (
  experiment_id INTEGER NOT NULL, name VARCHAR(256) NOT NULL, artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32),
  creation_time BIGINT, last_update_time BIGINT,
  CONSTRAINT experiment_pk PRIMARY KEY (experiment_id), UNIQUE (name),
  CONSTRAINT experiments_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted')));
CREATE TABLE runs (
  run_uuid VARCHAR(32) NOT NULL, name VARCHAR(250), source_type VARCHAR(20), source_name VARCHAR(500), entry_point_name VARCHAR(50),
  user_id VARCHAR(256), status VARCHAR(9), start_time BIGINT, end_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20),
  artifact_uri VARCHAR(200), experiment_id INTEGER, deleted_time BIGINT,
  CONSTRAINT run_pk PRIMARY KEY (run_uuid), FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
  CONSTRAINT runs_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted')),
  CONSTRAINT source_type CHECK (source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')),
  CHECK (status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING', 'KILLED')));
CREATE TABLE params (
  key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT param_pk PRIMARY KEY (key, run_uuid), FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid));
CREATE TABLE tags (
  key VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT tag_pk PRIMARY KEY (key, run_uuid), FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid));
CREATE TABLE metrics (
  key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL, run_uuid VARCHAR(32) NOT NULL,
  step BIGINT DEFAULT '0' NOT NULL, is_nan BOOLEAN DEFAULT '0' NOT NULL,
  CONSTRAINT metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan),
  FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid), CHECK (is_nan IN (0, 1)));
CREATE TABLE latest_metrics (
  key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT, step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL,
  run_uuid VARCHAR(32) NOT NULL,
  CONSTRAINT latest_metric_pk PRIMARY KEY (key, run_uuid), FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid), CHECK (is_nan IN (0, 1)));
CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid);
CREATE INDEX index_latest_metrics_run_uuid ON latest_metrics (run_uuid);
CREATE INDEX index_params_run_uuid ON params (run_uuid);
CREATE INDEX index_tags_run_uuid ON tags (run_uuid);
`

/** What one run holds: its params, tags and metric points (key, value, step, timestamp). */
export interface MlflowRun {
  readonly name: string
  readonly params: Readonly<Record<string, string>>
  readonly tags: Readonly<Record<string, string>>
  readonly points: ReadonlyArray<{ readonly key: string; readonly value: number; readonly step: number; readonly timestamp: number }>
}

/**
 * The tags an MLflow client sets on every run it starts (fluent API, a local script): the user,
 * the source's name and type, the git commit and the run's name.
 */
const systemTags = (run: MlflowRun): Record<string, string> => ({
  "mlflow.user": "ana",
  "mlflow.source.name": "/home/ana/projects/vision/train.py",
  "mlflow.source.type": "LOCAL",
  "mlflow.source.git.commit": "3f1c2e9a7b4d5e6f8091a2b3c4d5e6f708192a3b",
  "mlflow.runName": run.name
})

/** The database's size in bytes once `runs` are stored in it, each in MLflow's three requests (create_run, log_batch, update_run). */
export const mlflowSqliteBytes = (file: string, runs: Iterable<MlflowRun>): number => {
  const db = new DatabaseSync(file)
  try {
    db.exec(SCHEMA)
    db.prepare("INSERT INTO experiments VALUES (1, 'bench', './mlruns/1', 'active', 0, 0)").run()
    const run = db.prepare("INSERT INTO runs VALUES (?, ?, 'LOCAL', '/home/ana/projects/vision/train.py', '', 'ana', 'RUNNING', ?, NULL, '', 'active', ?, 1, NULL)")
    const end = db.prepare("UPDATE runs SET status = 'FINISHED', end_time = ? WHERE run_uuid = ?")
    const param = db.prepare("INSERT INTO params VALUES (?, ?, ?)")
    const tag = db.prepare("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)")
    const metric = db.prepare("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)")
    const latest = db.prepare(
      "INSERT INTO latest_metrics VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan " +
        "WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)"
    )
    let n = 0
    for (const r of runs) {
      const id = (n++).toString(16).padStart(32, "0")
      db.exec("BEGIN")
      run.run(id, r.name, 1_700_000_000_000 + n, `./mlruns/1/${id}/artifacts`)
      for (const [k, v] of Object.entries(systemTags(r))) tag.run(k, v, id)
      db.exec("COMMIT")
      db.exec("BEGIN")
      for (const [k, v] of Object.entries(r.params)) param.run(k, v, id)
      for (const [k, v] of Object.entries(r.tags)) tag.run(k, v, id)
      for (const p of r.points) {
        const nan = Number.isNaN(p.value) ? 1 : 0
        metric.run(p.key, nan ? 0 : p.value, p.timestamp, id, p.step, nan)
        latest.run(p.key, nan ? 0 : p.value, p.timestamp, p.step, nan, id)
      }
      db.exec("COMMIT")
      end.run(1_700_000_000_000 + n + 1000, id)
    }
    const pages = db.prepare("PRAGMA page_count").get() as { page_count: number }
    const size = db.prepare("PRAGMA page_size").get() as { page_size: number }
    return pages.page_count * size.page_size
  } finally {
    db.close()
  }
}
