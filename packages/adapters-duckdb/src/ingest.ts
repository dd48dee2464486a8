/**
 * Folding events into the read model's tables, inside transactions the caller opens and commits.
 * The folds mirror core's (LogProjection: experiments, runs, models; history.ts for metrics):
 * events are routed by stream, and events for a run or model that was never started or
 * registered are ignored, as the folds ignore them.
 *
 * Metric points go through the appender in columnar chunks; the latest value per (run, key) is
 * kept here in memory and written once per transaction. Resume semantics (history.ts): a
 * RunResumed(fromStep) supersedes every point of the run logged before it at a step >= fromStep;
 * the latest value of each key it touched is recomputed from the points that remain.
 *
 * Everything held in memory is loaded from the tables when an Ingest is made, so after a failed
 * transaction the caller drops the Ingest and the next one starts from what was committed.
 */
import { BIGINT, DOUBLE, type DuckDBConnection, type DuckDBValue, INTEGER, VARCHAR } from "@duckdb/node-api"
import { EXPERIMENTS_STREAM, type EventOf, modelNameOfStream, type RecordedEvent, runIdOfStream } from "@runledger/core"
import { MetricPointWriter } from "./metric-chunks.ts"
import { Statements } from "./statements.ts"
import { toNumber, wholeMs } from "./values.ts"

/** One (run, key) metric series and its latest effective point. */
interface Series {
  readonly id: number
  readonly runId: string
  readonly key: string
  /** Whether the series has a non-superseded point; the fields below hold the latest one. */
  has: boolean
  step: number
  timestamp: number
  value: number
  /** Changed in this transaction: rewritten in latest_metric_values at commit. */
  dirty: boolean
}

interface RunEntry {
  /** How many resumes so far: the era of the points logged now. */
  era: number
  readonly series: Map<string, Series>
}

const ms = (x: number): bigint => BigInt(Number.isFinite(x) ? wholeMs(x) : 0)
const json = (x: unknown): string => JSON.stringify(x)

export class Ingest {
  private readonly conn: DuckDBConnection
  private readonly stmts: Statements
  private readonly runs = new Map<string, RunEntry>()
  private readonly models = new Set<string>()
  private nextSeries = 1
  private newSeries: Series[] = []
  private dirty: Series[] = []
  private writer: MetricPointWriter | null = null
  /** The last position applied (committed or not), the id of its event, and points so far. */
  position = 0
  private lastEventId: string | null = null
  points = 0

  private constructor(conn: DuckDBConnection) {
    this.conn = conn
    this.stmts = new Statements(conn)
  }

  /** The fold's state as committed: position, runs and their eras, series and latest values, models. */
  static async load(conn: DuckDBConnection): Promise<Ingest> {
    const ingest = new Ingest(conn)
    const read = async (sql: string) => (await conn.runAndReadAll(sql)).getRows()
    const [state] = await read("SELECT position, last_event_id, points FROM readmodel_state")
    ingest.position = toNumber(state[0])
    ingest.lastEventId = state[1] as string | null
    ingest.points = toNumber(state[2])
    for (const [runId, resumes] of await read("SELECT run_id, len(resumed_from) FROM runs")) {
      ingest.runs.set(runId as string, { era: toNumber(resumes), series: new Map() })
    }
    const byRunKey = new Map<string, Map<string, Series>>()
    for (const [id, runId, key] of await read("SELECT series_id, run_id, key FROM metric_series ORDER BY series_id")) {
      const s: Series = { id: toNumber(id), runId: runId as string, key: key as string, has: false, step: 0, timestamp: 0, value: 0, dirty: false }
      let run = ingest.runs.get(s.runId)
      if (run === undefined) {
        // Series of a run the fold no longer knows cannot happen (runs are never removed); keep them reachable anyway.
        run = { era: 0, series: new Map() }
        ingest.runs.set(s.runId, run)
      }
      run.series.set(s.key, s)
      byRunKey.set(s.runId, run.series)
      ingest.nextSeries = Math.max(ingest.nextSeries, s.id + 1)
    }
    for (const [runId, key, value, step, timestamp] of await read("SELECT run_id, key, value, step, timestamp FROM latest_metrics")) {
      const s = byRunKey.get(runId as string)?.get(key as string)
      if (s === undefined) continue
      s.has = true
      s.value = value as number
      s.step = toNumber(step)
      s.timestamp = toNumber(timestamp)
    }
    for (const [name] of await read("SELECT name FROM models")) ingest.models.add(name as string)
    await conn.run(`CREATE TEMP TABLE IF NOT EXISTS latest_stage (
      run_id VARCHAR, key VARCHAR, value DOUBLE, negative_zero BOOLEAN, step BIGINT, timestamp BIGINT, present BOOLEAN)`)
    return ingest
  }

  async begin(): Promise<void> {
    await this.conn.run("BEGIN TRANSACTION")
    this.writer = new MetricPointWriter(await this.conn.createAppender("metric_points"))
  }

  /**
   * Apply one event (position after the last one). Metric batches are folded synchronously, so a
   * stream of them costs no promise per event; anything else returns the promise of its SQL.
   */
  apply(e: RecordedEvent): Promise<void> | undefined {
    this.position = e.position
    this.lastEventId = e.id
    if (e.stream === EXPERIMENTS_STREAM) return this.experimentEvent(e)
    const runId = runIdOfStream(e.stream)
    if (runId !== undefined) return this.runEvent(runId, e)
    const model = modelNameOfStream(e.stream)
    if (model !== undefined) return this.modelEvent(model, e)
    return undefined
  }

  /** Write what this transaction changed besides the points, record the position, and commit. */
  async commit(): Promise<void> {
    this.writer!.close()
    this.writer = null
    if (this.newSeries.length > 0) {
      const appender = await this.conn.createAppender("metric_series")
      for (const s of this.newSeries) {
        appender.appendInteger(s.id)
        appender.appendVarchar(s.runId)
        appender.appendVarchar(s.key)
        appender.endRow()
      }
      appender.closeSync()
      this.newSeries = []
    }
    if (this.dirty.length > 0) {
      const appender = await this.conn.createAppender("latest_stage", "main", "temp")
      for (const s of this.dirty) {
        appender.appendVarchar(s.runId)
        appender.appendVarchar(s.key)
        appender.appendDouble(s.value === 0 ? 0 : s.value)
        appender.appendBoolean(s.value === 0 && 1 / s.value < 0)
        appender.appendBigInt(BigInt(s.step))
        appender.appendBigInt(BigInt(s.timestamp))
        appender.appendBoolean(s.has)
        appender.endRow()
        s.dirty = false
      }
      appender.closeSync()
      this.dirty = []
      await this.conn.run(`
        DELETE FROM latest_metric_values USING latest_stage s
          WHERE latest_metric_values.run_id = s.run_id AND latest_metric_values.key = s.key;
        INSERT INTO latest_metric_values SELECT run_id, key, value, negative_zero, step, timestamp FROM latest_stage WHERE present;
        DELETE FROM latest_stage;`)
    }
    await this.stmts.run(
      "UPDATE readmodel_state SET position = $1, last_event_id = $2, points = $3",
      [BIGINT, VARCHAR, BIGINT],
      [BigInt(this.position), this.lastEventId, BigInt(this.points)]
    )
    await this.conn.run("COMMIT")
  }

  /** Undo the open transaction. The Ingest's memory is then ahead of the tables: drop it. */
  async rollback(): Promise<void> {
    try {
      this.writer?.discard()
    } catch {
      // The rollback below discards the rows either way.
    }
    this.writer = null
    await this.conn.run("ROLLBACK")
  }

  close(): void {
    this.stmts.close()
  }

  // -- experiments ------------------------------------------------------------

  private experimentEvent(e: RecordedEvent): Promise<void> | undefined {
    switch (e.type) {
      case "ExperimentCreated":
      case "ExperimentForked": {
        const fork = e.type === "ExperimentForked" ? e.data : null
        return this.stmts.run(
          "INSERT OR REPLACE INTO experiments VALUES ($1, $2, 'active', $3, $4, $5, $6)",
          [VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR, VARCHAR],
          [e.data.experimentId, e.data.name, ms(e.at), fork?.parentExperimentId ?? null, json(e.data.tags), json(fork?.overrides ?? {})]
        )
      }
      case "ExperimentRenamed":
        return this.stmts.run("UPDATE experiments SET name = $1 WHERE experiment_id = $2", [VARCHAR, VARCHAR], [e.data.name, e.data.experimentId])
      case "ExperimentDeleted":
      case "ExperimentRestored":
        return this.stmts.run(
          "UPDATE experiments SET lifecycle = $1 WHERE experiment_id = $2",
          [VARCHAR, VARCHAR],
          [e.type === "ExperimentDeleted" ? "deleted" : "active", e.data.experimentId]
        )
      default:
        return undefined
    }
  }

  // -- runs -------------------------------------------------------------------

  private runEvent(runId: string, e: RecordedEvent): Promise<void> | undefined {
    if (e.type === "RunStarted") return this.runStarted(runId, e)
    const run = this.runs.get(runId)
    // Like evolveRun: nothing but RunStarted creates a run.
    if (run === undefined) return undefined
    switch (e.type) {
      case "MetricsLogged":
        this.metricsLogged(runId, run, e)
        return undefined
      case "ParamsLogged":
        return this.each(Object.entries(e.data.params), ([key, value]) =>
          this.stmts.run("INSERT OR REPLACE INTO params VALUES ($1, $2, $3, $4)", [VARCHAR, VARCHAR, VARCHAR, VARCHAR], [runId, key, String(value), typeof value])
        )
      case "TagsSet":
        return this.setTags(runId, e.data.tags)
      case "TagDeleted":
        return this.stmts.run("DELETE FROM tags WHERE run_id = $1 AND key = $2", [VARCHAR, VARCHAR], [runId, e.data.key])
      case "ArtifactStored":
        return this.stmts.run(
          "INSERT OR REPLACE INTO artifacts VALUES ($1, $2, $3, $4, $5)",
          [VARCHAR, VARCHAR, VARCHAR, BIGINT, VARCHAR],
          [runId, e.data.path, e.data.sha256, BigInt(Math.trunc(e.data.size)), e.data.mediaType]
        )
      case "RunEnded":
        return this.stmts.run(
          "UPDATE runs SET status = $1, end_time = $2, error_message = $3, error_stack = $4 WHERE run_id = $5",
          [VARCHAR, BIGINT, VARCHAR, VARCHAR, VARCHAR],
          [e.data.status, ms(e.at), e.data.error?.message ?? null, e.data.error?.stack ?? null, runId]
        )
      case "RunDeleted":
      case "RunRestored":
        return this.stmts.run("UPDATE runs SET lifecycle = $1 WHERE run_id = $2", [VARCHAR, VARCHAR], [e.type === "RunDeleted" ? "deleted" : "active", runId])
      case "RunResumed":
        return this.runResumed(runId, run, e)
      default:
        return undefined
    }
  }

  private async each<A>(items: ReadonlyArray<A>, f: (a: A) => Promise<void>): Promise<void> {
    for (const a of items) await f(a)
  }

  private setTags(runId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    return this.each(Object.entries(tags), ([key, value]) =>
      this.stmts.run("INSERT OR REPLACE INTO tags VALUES ($1, $2, $3)", [VARCHAR, VARCHAR, VARCHAR], [runId, key, value])
    )
  }

  /**
   * A run starts: its row. A second RunStarted on a stream (the tracker never writes one) starts
   * the fold's state afresh, as evolveRun does: params, tags, artifacts and latest values go, and
   * the points logged so far are set aside (the log, and `metrics`, keep them).
   */
  private async runStarted(runId: string, e: EventOf<"RunStarted">): Promise<void> {
    const d = e.data
    let run = this.runs.get(runId)
    if (run !== undefined) {
      await this.supersede(run, 0)
      for (const table of ["params", "tags", "artifacts"]) {
        await this.stmts.run(`DELETE FROM ${table} WHERE run_id = $1`, [VARCHAR], [runId])
      }
      run.era = 0
    } else {
      run = { era: 0, series: new Map() }
      this.runs.set(runId, run)
    }
    await this.stmts.run(
      `INSERT OR REPLACE INTO runs VALUES ($1, $2, $3, 'RUNNING', $4, NULL, 'active', $5, NULL, NULL, []::BIGINT[], $6, $7, $8)`,
      [VARCHAR, VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR, VARCHAR, VARCHAR],
      [runId, d.experimentId, d.name, ms(e.at), d.parentRunId, d.source.git?.commit ?? null, json(d.source), json(d.environment)]
    )
    await this.setTags(runId, d.tags)
  }

  private async runResumed(runId: string, run: RunEntry, e: EventOf<"RunResumed">): Promise<void> {
    await this.supersede(run, e.data.fromStep)
    run.era++
    await this.stmts.run(
      "UPDATE runs SET status = 'RUNNING', end_time = NULL, error_message = NULL, error_stack = NULL, resumed_from = list_append(resumed_from, $1) WHERE run_id = $2",
      [BIGINT, VARCHAR],
      [BigInt(Math.trunc(e.data.fromStep)), runId]
    )
  }

  /**
   * Set aside every point of the run logged so far at a step >= fromStep, then recompute the
   * latest value of each series whose latest point was set aside, from the points that remain.
   * Series whose latest point stays are unaffected: it still has the highest step among them.
   */
  private async supersede(run: RunEntry, fromStep: number): Promise<void> {
    const all = [...run.series.values()]
    if (all.length === 0) return
    this.writer!.flush() // the points of this transaction must be visible to the UPDATE
    // Series ids are integers this fold assigned: safe to list in the SQL text.
    await this.stmts.run(
      `UPDATE metric_points SET superseded = true WHERE series_id IN (${all.map((s) => s.id).join(",")}) AND step >= $1 AND NOT superseded`,
      [DOUBLE],
      [fromStep]
    )
    const stale = all.filter((s) => s.has && s.step >= fromStep)
    if (stale.length === 0) return
    const rows = await this.stmts.rows(
      `SELECT series_id, step, timestamp, value, negative_zero FROM metric_points
        WHERE series_id IN (${stale.map((s) => s.id).join(",")}) AND NOT superseded
        QUALIFY row_number() OVER (PARTITION BY series_id ORDER BY step DESC, timestamp DESC, position DESC, idx DESC) = 1`,
      [],
      []
    )
    const best = new Map<number, DuckDBValue[]>(rows.map((r) => [toNumber(r[0]), r]))
    for (const s of stale) {
      const r = best.get(s.id)
      s.has = r !== undefined
      if (r !== undefined) {
        s.step = toNumber(r[1])
        s.timestamp = toNumber(r[2])
        s.value = r[4] === true ? -0 : (r[3] as number)
      }
      this.markDirty(s)
    }
  }

  private markDirty(s: Series): void {
    if (!s.dirty) {
      s.dirty = true
      this.dirty.push(s)
    }
  }

  private seriesOf(runId: string, run: RunEntry, key: string): Series {
    let s = run.series.get(key)
    if (s === undefined) {
      s = { id: this.nextSeries++, runId, key, has: false, step: 0, timestamp: 0, value: 0, dirty: false }
      run.series.set(key, s)
      this.newSeries.push(s)
    }
    return s
  }

  /** The hot path: every point to the appender, and the latest value per series kept up to date. */
  private metricsLogged(runId: string, run: RunEntry, e: EventOf<"MetricsLogged"> & { readonly position: number }): void {
    const { keys, values, steps, timestamps } = e.data
    const writer = this.writer!
    const era = run.era
    const position = e.position
    let lastKey: string | undefined
    let s: Series | undefined
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      if (key !== lastKey || s === undefined) {
        s = this.seriesOf(runId, run, key)
        lastKey = key
      }
      const step = steps[i]
      const timestamp = wholeMs(timestamps[i])
      const value = values[i]
      writer.add(s.id, step, timestamp, value, era, position, i)
      // As core's fold: a later point wins at a higher step, or at the same step with a timestamp not older.
      if (!s.has || step > s.step || (step === s.step && timestamp >= s.timestamp)) {
        s.has = true
        s.step = step
        s.timestamp = timestamp
        s.value = value
        if (!s.dirty) {
          s.dirty = true
          this.dirty.push(s)
        }
      }
    }
    this.points += keys.length
  }

  // -- models -----------------------------------------------------------------

  private async modelEvent(name: string, e: RecordedEvent): Promise<void> {
    if (e.type === "ModelRegistered") {
      // Like evolveModel: registering starts the model afresh.
      await this.stmts.run("DELETE FROM model_versions WHERE name = $1", [VARCHAR], [name])
      await this.stmts.run("DELETE FROM model_aliases WHERE name = $1", [VARCHAR], [name])
      await this.stmts.run(
        "INSERT OR REPLACE INTO models VALUES ($1, $2, $3, $4, $4)",
        [VARCHAR, VARCHAR, VARCHAR, BIGINT],
        [name, e.data.description, json(e.data.tags), ms(e.at)]
      )
      this.models.add(name)
      return
    }
    if (!this.models.has(name)) return
    const at = ms(e.at)
    await this.stmts.run("UPDATE models SET updated_at = $1 WHERE name = $2", [BIGINT, VARCHAR], [at, name])
    const setStage = (version: number, stage: string) =>
      this.stmts.run(
        "UPDATE model_versions SET stage = $1, updated_at = $2 WHERE name = $3 AND version = $4",
        [VARCHAR, BIGINT, VARCHAR, INTEGER],
        [stage, at, name, version]
      )
    switch (e.type) {
      case "ModelVersionCreated":
        await this.stmts.run(
          "INSERT OR REPLACE INTO model_versions VALUES ($1, $2, $3, $4, 'None', $5, $5)",
          [VARCHAR, INTEGER, VARCHAR, VARCHAR, BIGINT],
          [name, e.data.version, e.data.runId, e.data.artifactPath, at]
        )
        break
      case "StagePromoted":
        for (const a of e.data.archived) await setStage(a.version, "Archived")
        await setStage(e.data.version, e.data.to)
        break
      case "AliasSet":
        await this.stmts.run("INSERT OR REPLACE INTO model_aliases VALUES ($1, $2, $3)", [VARCHAR, VARCHAR, INTEGER], [name, e.data.alias, e.data.version])
        break
      case "AliasDeleted":
        await this.stmts.run("DELETE FROM model_aliases WHERE name = $1 AND alias = $2", [VARCHAR, VARCHAR], [name, e.data.alias])
        break
    }
  }
}

