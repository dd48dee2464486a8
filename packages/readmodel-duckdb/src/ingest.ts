/**
 * Folding events into the read model's tables, inside transactions the caller opens and commits.
 * The folds mirror core's (LogProjection: experiments, runs, models; history.ts for metrics):
 * events are routed by stream, and events for a run or model that was never started or
 * registered are ignored, as the folds ignore them.
 *
 * - Metric points go through the appender in columnar chunks (metric-chunks.ts); the latest value
 *   per (run, key) is kept here in memory and written once per transaction.
 * - Every other change is kept in memory per table and written set-wise at commit (keyed-rows.ts),
 *   so a run with params and tags costs no SQL statement of its own.
 * - Resume semantics (history.ts): a RunResumed(fromStep) supersedes every point of the run logged
 *   before it at a step >= fromStep; the latest value of each key it touched is recomputed from the
 *   points that remain. This, and a run started twice, are the only events that run SQL at once.
 *
 * Everything held in memory is loaded from the tables when an Ingest is made, so after a failed
 * transaction the caller drops the Ingest and the next one starts from what was committed.
 */
import { BIGINT, DOUBLE, type DuckDBConnection, type DuckDBListValue, type DuckDBValue, INTEGER, LIST, listValue, VARCHAR } from "@duckdb/node-api"
import { EXPERIMENTS_STREAM, type EventOf, modelNameOfStream, type RecordedEvent, runIdOfStream } from "@runledger/core"
import { appendRows, KeyedRows, type Row } from "./keyed-rows.ts"
import { BlockSummariser, mergeBlockSummaries, type SummarisedSeries, summariseFromPoints } from "./metric-blocks.ts"
import { MetricPointWriter } from "./metric-chunks.ts"
import {
  ARTIFACTS,
  RUN_INPUTS,
  columnIndex,
  EXPERIMENTS,
  LATEST_METRIC_VALUES,
  METRIC_BLOCK_TABLES,
  METRIC_POINTS,
  METRIC_SERIES,
  MODEL_ALIASES,
  MODEL_VERSIONS,
  MODELS,
  PARAMS,
  READMODEL_STATE,
  RUNS,
  TAGS
} from "./schema.ts"
import { Statements } from "./statements.ts"
import { toNumber, wholeMs } from "@runledger/store-duckdb"

/** One (run, key) metric series, its latest effective point, and its metric blocks' state. */
interface Series extends SummarisedSeries {
  readonly runId: string
  readonly key: string
  /** Whether the series has a non-superseded point; the fields below hold the latest one. */
  has: boolean
  step: number
  timestamp: number
  value: number
  /** Changed in this transaction: rewritten in latest_metric_values at commit. */
  dirty: boolean
  /** Points logged to it (superseded ones included), while it has no metric blocks. */
  logged: number
  /** The log position of its first point, when this fold saw it (else 0: not known). */
  readonly firstPosition: number
  /** metric_series.distinct_steps: each point so far came at a step above the latest one. */
  distinctSteps: boolean
}

interface RunEntry {
  /** Its runs.run_key. */
  readonly key: number
  /** How many resumes so far: the era of the points logged now. */
  era: number
  readonly series: Map<string, Series>
  /** Started in this transaction: its rows are in no table yet, so they are appended, not merged (keyed-rows.ts). */
  fresh: boolean
}

/**
 * Why an event cannot be folded (read-model.ts names the event and stops the catch-up): a value
 * no column can hold. The log accepted it, so skipping it would make the read model disagree
 * with the log; stopping says which event to look at.
 */
export class Unfoldable extends Error {}

// BIGINT holds whole numbers in [-2^63, 2^63); doubles at or beyond 2^63 do not fit.
const INT64_LIMIT = 2 ** 63
/** A whole number for a BIGINT column (`what` names it for the error). */
const int64 = (x: number, what: string): number => {
  if (!(Number.isInteger(x) && x >= -INT64_LIMIT && x < INT64_LIMIT)) throw new Unfoldable(`its ${what} ${x} is not a whole number the read model's BIGINT column holds (-2^63 to 2^63-1)`)
  return x
}
const int32 = (x: number, what: string): number => {
  if (!(Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31)) throw new Unfoldable(`its ${what} ${x} is not a whole number that fits the read model's INTEGER column`)
  return x
}
/** Epoch milliseconds, whole (see wholeMs), as a BIGINT. */
const ms = (x: number, what = "time"): bigint => BigInt(int64(wholeMs(x), what))
/**
 * Which fold takes each event type: the one of the stream kind the type belongs to. A new type does
 * not compile until it is placed here, and then not until its fold's switch handles it (see
 * `unhandled`). An event on another kind of stream is ignored by that stream's fold, as core's
 * folds ignore it.
 */
const FOLD_OF = {
  ExperimentCreated: "experiments",
  ExperimentRenamed: "experiments",
  ExperimentDeleted: "experiments",
  ExperimentRestored: "experiments",
  ExperimentForked: "experiments",
  ExperimentTagsSet: "experiments",
  RunStarted: "run",
  ParamsLogged: "run",
  MetricsLogged: "run",
  TagsSet: "run",
  TagDeleted: "run",
  RunRenamed: "run",
  ArtifactStored: "run",
  InputLogged: "run",
  RunEnded: "run",
  RunDeleted: "run",
  RunRestored: "run",
  RunResumed: "run",
  RunHeartbeat: "run",
  ModelRegistered: "model",
  ModelVersionCreated: "model",
  StagePromoted: "model",
  AliasSet: "model",
  AliasDeleted: "model",
  ModelDescribed: "model",
  ModelVersionDescribed: "model",
  ModelDeleted: "model",
  ModelRenameClaimed: "model",
  ModelRenamed: "model",
  ModelRenameAbandoned: "model"
} as const satisfies { readonly [T in RecordedEvent["type"]]: "experiments" | "run" | "model" }
type Fold = (typeof FOLD_OF)[RecordedEvent["type"]]
type EventOfFold<F extends Fold> = Extract<RecordedEvent, { readonly type: { [T in keyof typeof FOLD_OF]: (typeof FOLD_OF)[T] extends F ? T : never }[keyof typeof FOLD_OF] }>
const ofFold = <F extends Fold>(fold: F, e: RecordedEvent): e is EventOfFold<F> => FOLD_OF[e.type] === fold

/** Every event type of a fold is handled above a call of this: a new type does not compile until it is. */
const unhandled = (e: never): never => {
  throw new Unfoldable(`the read model has no fold for events of type ${(e as RecordedEvent).type}`)
}
const json = (x: unknown): string => JSON.stringify(x)

const METRIC_SERIES_TYPES = METRIC_SERIES.columns.map((c) => c.type)

const RUN = {
  name: columnIndex(RUNS, "run_name"),
  status: columnIndex(RUNS, "status"),
  endTime: columnIndex(RUNS, "end_time"),
  lifecycle: columnIndex(RUNS, "lifecycle"),
  errorMessage: columnIndex(RUNS, "error_message"),
  errorStack: columnIndex(RUNS, "error_stack"),
  resumedFrom: columnIndex(RUNS, "resumed_from")
}
const EXPERIMENT = { name: columnIndex(EXPERIMENTS, "name"), lifecycle: columnIndex(EXPERIMENTS, "lifecycle"), tags: columnIndex(EXPERIMENTS, "tags") }
const MODEL = { updatedAt: columnIndex(MODELS, "updated_at"), description: columnIndex(MODELS, "description") }
const VERSION = { stage: columnIndex(MODEL_VERSIONS, "stage"), updatedAt: columnIndex(MODEL_VERSIONS, "updated_at") }

export class Ingest {
  private readonly conn: DuckDBConnection
  private readonly stmts: Statements
  private readonly runs = new Map<string, RunEntry>()
  private nextSeries = 1
  private nextRunKey = 1
  private newSeries: Series[] = []
  /** Series whose distinct_steps turned false in this transaction. */
  private repeatedSteps: Series[] = []
  private dirty: Series[] = []
  /** The runs started in this transaction (fresh until it commits). */
  private freshRuns: RunEntry[] = []
  private writer: MetricPointWriter | null = null
  private blocks: BlockSummariser | null = null
  /** Series that reached `summariseAfter` points in this transaction: summarised at commit. */
  private reached: Series[] = []
  private readonly summariseAfter: number
  private readonly experimentRows = new KeyedRows(EXPERIMENTS, { cacheRows: true })
  private readonly runRows = new KeyedRows(RUNS, { cacheRows: true })
  private readonly params = new KeyedRows(PARAMS, { cacheRows: false })
  private readonly tags = new KeyedRows(TAGS, { cacheRows: false })
  private readonly artifacts = new KeyedRows(ARTIFACTS, { cacheRows: false })
  private readonly inputs = new KeyedRows(RUN_INPUTS, { cacheRows: false })
  private readonly latest = new KeyedRows(LATEST_METRIC_VALUES, { cacheRows: false })
  private readonly models = new KeyedRows(MODELS, { cacheRows: true })
  private readonly versions = new KeyedRows(MODEL_VERSIONS, { cacheRows: true })
  private readonly aliases = new KeyedRows(MODEL_ALIASES, { cacheRows: false })
  private readonly tables = [this.experimentRows, this.runRows, this.params, this.tags, this.artifacts, this.inputs, this.latest, this.models, this.versions, this.aliases]
  /** The last position applied (committed or not), the id of its event, and points so far. */
  position = 0
  /** The position committed when the open transaction began. */
  private committed = 0
  get committedPosition(): number {
    return this.committed
  }
  private lastEventId: string | null = null
  /** The id of the log's first event: which log this read model belongs to (read-model.ts checks it). */
  private firstEventId: string | null = null
  points = 0

  private constructor(conn: DuckDBConnection, summariseAfter: number) {
    this.conn = conn
    this.summariseAfter = summariseAfter
    this.stmts = new Statements(conn)
  }

  /**
   * The fold's state as committed: position, runs and their eras, series and their latest values,
   * and which series are summarised in metric blocks (the others, how many points they have).
   * A series gets metric blocks once it has `summariseAfter` points: short series are charted
   * from their points, and one block row per level for a series of a few points would multiply
   * the rows of a read model of many short runs.
   */
  static async load(conn: DuckDBConnection, summariseAfter: number): Promise<Ingest> {
    const ingest = new Ingest(conn, summariseAfter)
    const read = async (sql: string) => (await conn.runAndReadAll(sql)).getRows()
    const [state] = await read(`SELECT position, last_event_id, points, first_event_id FROM ${READMODEL_STATE.name}`)
    ingest.position = toNumber(state[0])
    ingest.lastEventId = state[1] as string | null
    ingest.points = toNumber(state[2])
    ingest.firstEventId = state[3] as string | null
    for (const [runId, resumes, key] of await read("SELECT run_id, len(resumed_from), run_key FROM runs")) {
      ingest.runs.set(runId as string, { key: toNumber(key), era: toNumber(resumes), series: new Map(), fresh: false })
      ingest.nextRunKey = Math.max(ingest.nextRunKey, toNumber(key) + 1)
    }
    for (const [id, runId, key, distinctSteps] of await read(`SELECT series_id, run_id, key, distinct_steps FROM ${METRIC_SERIES.name}`)) {
      const s: Series = { id: toNumber(id), runId: runId as string, key: key as string, has: false, step: 0, timestamp: 0, value: 0, dirty: false, open: null, logged: 0, blocks: "none", pending: null, firstPosition: 0, distinctSteps: distinctSteps === true }
      // Runs are never removed from the table, so a series always has its run.
      ingest.runs.get(s.runId)?.series.set(s.key, s)
      ingest.nextSeries = Math.max(ingest.nextSeries, s.id + 1)
    }
    for (const [runId, key, value, step, timestamp] of await read("SELECT run_id, key, value, step, timestamp FROM latest_metrics")) {
      const s = ingest.runs.get(runId as string)?.series.get(key as string)
      if (s === undefined) continue
      s.has = true
      s.value = value as number
      s.step = toNumber(step)
      s.timestamp = toNumber(timestamp)
    }
    const byId = new Map<number, Series>()
    for (const run of ingest.runs.values()) for (const s of run.series.values()) byId.set(s.id, s)
    for (const [id] of await read(`SELECT DISTINCT series_id FROM ${METRIC_BLOCK_TABLES.at(-1)!.name}`)) {
      const s = byId.get(toNumber(id))
      if (s !== undefined) s.blocks = "kept"
    }
    for (const [id, n] of await read(`SELECT series_id, count(*) FROM ${METRIC_POINTS.name} GROUP BY series_id`)) {
      const s = byId.get(toNumber(id))
      if (s !== undefined) s.logged = toNumber(n)
    }
    for (const t of ingest.tables) await t.prepare(conn)
    return ingest
  }

  async begin(): Promise<void> {
    await this.conn.run("BEGIN TRANSACTION")
    this.writer = new MetricPointWriter(await this.conn.createAppender(METRIC_POINTS.name))
    this.blocks = new BlockSummariser(this.conn)
    this.committed = this.position
  }

  /**
   * Apply one event (position after the last one). Most events are folded synchronously, so a
   * stream of them costs no promise per event; the rest return the promise of their SQL.
   */
  apply(e: RecordedEvent): Promise<void> | undefined {
    this.position = e.position
    this.lastEventId = e.id
    if (e.position === 1) this.firstEventId = e.id
    if (e.stream === EXPERIMENTS_STREAM) return ofFold("experiments", e) ? this.experimentEvent(e) : undefined
    const runId = runIdOfStream(e.stream)
    if (runId !== undefined) return ofFold("run", e) ? this.runEvent(runId, e) : undefined
    const model = modelNameOfStream(e.stream)
    if (model !== undefined) return this.modelEvent(model, e)
    return undefined
  }

  /** Write what this transaction changed besides the points, record the position, and commit. */
  async commit(): Promise<void> {
    this.writer!.close()
    this.writer = null
    const blocks = this.blocks!
    await blocks.flush()
    this.blocks = null
    await this.summariseReached()
    await mergeBlockSummaries(this.stmts, this.conn, this.committed, blocks.tablesWritten)
    await appendRows(this.conn, METRIC_SERIES, METRIC_SERIES_TYPES, this.newSeries.map((s) => [s.id, s.runId, s.key, this.runs.get(s.runId)!.key, s.distinctSteps]))
    this.newSeries = []
    if (this.repeatedSteps.length > 0) {
      await this.stmts.run(`UPDATE ${METRIC_SERIES.name} SET distinct_steps = false WHERE series_id IN (SELECT unnest($1::INTEGER[]))`, [LIST(INTEGER)], [listValue(this.repeatedSteps.map((s) => s.id))])
      this.repeatedSteps = []
    }
    for (const s of this.dirty) {
      s.dirty = false
      const run = this.runs.get(s.runId)!
      if (!s.has) this.latest.remove([s.runId, s.key])
      // -0 is stored as 0 with a flag (see schema.ts).
      else this.latest.put([s.runId, s.key, s.value === 0 ? 0 : s.value, s.value === 0 && 1 / s.value < 0, BigInt(s.step), BigInt(s.timestamp), run.key], run.fresh)
    }
    this.dirty = []
    for (const t of this.tables) await t.write(this.conn)
    for (const run of this.freshRuns) run.fresh = false
    this.freshRuns = []
    await this.stmts.run(
      `UPDATE ${READMODEL_STATE.name} SET position = $1, last_event_id = $2, points = $3, first_event_id = $4`,
      [BIGINT, VARCHAR, BIGINT, VARCHAR],
      [BigInt(this.position), this.lastEventId, BigInt(this.points), this.firstEventId]
    )
    await this.conn.run("COMMIT")
  }

  /** Summarise the series that reached `summariseAfter` points, from all their points so far. */
  private async summariseReached(): Promise<void> {
    if (this.reached.length === 0) return
    // Their points were all logged at or after the first position of any of them.
    // A loop, not a spread into Math.min: thousands of series can reach the threshold in one catch-up.
    let from = Infinity
    for (const s of this.reached) from = Math.min(from, s.firstPosition)
    await summariseFromPoints(this.stmts, this.conn, this.reached.map((s) => s.id), 0, from)
    for (const s of this.reached) s.blocks = "kept"
    this.reached = []
  }

  /** Undo the open transaction. The Ingest's memory is then ahead of the tables: drop it. */
  async rollback(): Promise<void> {
    for (const w of [this.writer, this.blocks]) {
      try {
        w?.discard()
      } catch {
        // The rollback below discards the rows either way.
      }
    }
    this.writer = null
    this.blocks = null
    await this.conn.run("ROLLBACK")
  }

  close(): void {
    this.stmts.close()
  }

  /** Change a row the table may hold: synchronously when it is known, else after loading it. */
  private update(rows: KeyedRows, key: ReadonlyArray<DuckDBValue>, change: (row: Row) => void): Promise<void> | undefined {
    const apply = (row: Row | null) => {
      if (row === null) return
      const copy = row.slice()
      change(copy)
      rows.put(copy)
    }
    const known = rows.peek(key)
    if (known !== undefined) {
      apply(known)
      return undefined
    }
    return rows.load(this.stmts, key).then(apply)
  }

  // -- experiments ------------------------------------------------------------

  private experimentEvent(e: EventOfFold<"experiments">): Promise<void> | undefined {
    switch (e.type) {
      case "ExperimentCreated":
      case "ExperimentForked": {
        const fork = e.type === "ExperimentForked" ? e.data : null
        this.experimentRows.put([e.data.experimentId, e.data.name, "active", ms(e.at), fork?.parentExperimentId ?? null, json(e.data.tags), json(fork?.overrides ?? {})])
        return undefined
      }
      case "ExperimentRenamed": {
        const name = e.data.name
        return this.update(this.experimentRows, [e.data.experimentId], (row) => {
          row[EXPERIMENT.name] = name
        })
      }
      case "ExperimentTagsSet": {
        const tags = e.data.tags
        return this.update(this.experimentRows, [e.data.experimentId], (row) => {
          // The row holds the experiment's tags as JSON (see ExperimentCreated above): merged, as core's fold merges them.
          row[EXPERIMENT.tags] = json({ ...(JSON.parse(row[EXPERIMENT.tags] as string) as Record<string, string>), ...tags })
        })
      }
      case "ExperimentDeleted":
      case "ExperimentRestored": {
        const lifecycle = e.type === "ExperimentDeleted" ? "deleted" : "active"
        return this.update(this.experimentRows, [e.data.experimentId], (row) => {
          row[EXPERIMENT.lifecycle] = lifecycle
        })
      }
      default:
        return unhandled(e)
    }
  }

  // -- runs -------------------------------------------------------------------

  private runEvent(runId: string, e: EventOfFold<"run">): Promise<void> | undefined {
    if (e.type === "RunStarted") return this.runStarted(runId, e)
    const run = this.runs.get(runId)
    // Like evolveRun: nothing but RunStarted creates a run.
    if (run === undefined) return undefined
    switch (e.type) {
      case "MetricsLogged":
        this.metricsLogged(runId, run, e)
        return undefined
      case "ParamsLogged":
        for (const [key, value] of Object.entries(e.data.params)) this.params.put([runId, key, String(value), typeof value, run.key], run.fresh)
        return undefined
      case "TagsSet":
        for (const [key, value] of Object.entries(e.data.tags)) this.tags.put([runId, key, value, run.key], run.fresh)
        return undefined
      case "TagDeleted":
        this.tags.remove([runId, e.data.key])
        return undefined
      case "RunRenamed": {
        const name = e.data.name
        return this.update(this.runRows, [runId], (row) => {
          row[RUN.name] = name
        })
      }
      case "ArtifactStored": {
        const d = e.data
        this.artifacts.put([runId, d.path, d.sha256, BigInt(int64(Math.trunc(d.size), "artifact size")), d.mediaType], run.fresh)
        return undefined
      }
      case "InputLogged": {
        const d = e.data
        this.inputs.put([
          runId, BigInt(e.position), d.name, d.digest, d.sourceType, d.source, d.schema ?? null, d.profile ?? null,
          Object.hasOwn(d.tags, "mlflow.data.context") ? d.tags["mlflow.data.context"] : null, json(d.tags)
        ], run.fresh)
        return undefined
      }
      case "RunEnded": {
        const { status, error } = e.data
        const end = ms(e.at)
        return this.update(this.runRows, [runId], (row) => {
          row[RUN.status] = status
          row[RUN.endTime] = end
          row[RUN.errorMessage] = error?.message ?? null
          row[RUN.errorStack] = error?.stack ?? null
        })
      }
      case "RunDeleted":
      case "RunRestored": {
        const lifecycle = e.type === "RunDeleted" ? "deleted" : "active"
        return this.update(this.runRows, [runId], (row) => {
          row[RUN.lifecycle] = lifecycle
        })
      }
      case "RunResumed":
        return this.runResumed(runId, run, e)
      case "RunHeartbeat":
        // It renews a lease, which the read model does not keep (liveness is judged by the tracker's reads).
        return undefined
      default:
        return unhandled(e)
    }
  }

  /**
   * A run starts: its row and tags. A second RunStarted on a stream (the tracker never writes one)
   * starts the fold's state afresh, as evolveRun does: params, tags, artifacts, inputs and latest values
   * go, and the points logged so far are set aside (the log, and `metrics`, keep them).
   */
  private runStarted(runId: string, e: EventOf<"RunStarted">): Promise<void> | undefined {
    const d = e.data
    const start = (run: RunEntry) => {
      this.runRows.put([
        runId, d.experimentId, d.name, "RUNNING", ms(e.at), null, "active", d.parentRunId, null, null, listValue([]),
        d.source.git?.commit ?? null, json(d.source), json(d.environment), run.key
      ], run.fresh)
      for (const [tag, value] of Object.entries(d.tags)) this.tags.put([runId, tag, value, run.key], run.fresh)
    }
    const run = this.runs.get(runId)
    if (run === undefined) {
      const fresh: RunEntry = { key: this.nextRunKey++, era: 0, series: new Map(), fresh: true }
      this.runs.set(runId, fresh)
      this.freshRuns.push(fresh)
      start(fresh)
      return undefined
    }
    return (async () => {
      await this.supersede(run, 0)
      run.era = 0
      for (const rows of [this.params, this.tags, this.artifacts, this.inputs]) {
        await this.stmts.run(`DELETE FROM ${rows.def.name} WHERE run_id = $1`, [VARCHAR], [runId])
        rows.forget(runId)
      }
      start(run)
    })()
  }

  private async runResumed(runId: string, run: RunEntry, e: EventOf<"RunResumed">): Promise<void> {
    const from = e.data.fromStep
    await this.supersede(run, from)
    run.era++
    await this.update(this.runRows, [runId], (row) => {
      row[RUN.status] = "RUNNING"
      row[RUN.endTime] = null
      row[RUN.errorMessage] = null
      row[RUN.errorStack] = null
      row[RUN.resumedFrom] = listValue([...(row[RUN.resumedFrom] as DuckDBListValue).items, BigInt(int64(Math.trunc(from), "fromStep"))])
    })
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
    // Blocks from fromStep on are summarised again from the points that remain.
    await this.blocks!.flush()
    // Series ids are integers this fold assigned: safe to list in the SQL text.
    await this.stmts.run(
      `UPDATE ${METRIC_POINTS.name} SET superseded = true WHERE series_id IN (${all.map((s) => s.id).join(",")}) AND step >= $1 AND NOT superseded`,
      [DOUBLE],
      [fromStep]
    )
    await summariseFromPoints(this.stmts, this.conn, all.filter((s) => s.blocks === "kept").map((s) => s.id), fromStep, 0)
    const stale = all.filter((s) => s.has && s.step >= fromStep)
    if (stale.length === 0) return
    const rows = await this.stmts.rows(
      `SELECT series_id, step, timestamp, value, negative_zero FROM ${METRIC_POINTS.name}
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
      if (!s.dirty) {
        s.dirty = true
        this.dirty.push(s)
      }
    }
  }

  private seriesOf(runId: string, run: RunEntry, key: string): Series {
    let s = run.series.get(key)
    if (s === undefined) {
      s = { id: this.nextSeries++, runId, key, has: false, step: 0, timestamp: 0, value: 0, dirty: false, open: null, logged: 0, blocks: "none", pending: null, firstPosition: this.position, distinctSteps: true }
      run.series.set(key, s)
      this.newSeries.push(s)
      // Summarised in memory from its first point: most series that reach the size for blocks
      // do so in the transaction that starts them, and then need no pass over their points.
      this.blocks!.track(s)
    }
    return s
  }

  /** The hot path: every point to the appender, and the latest value per series kept up to date. */
  private metricsLogged(runId: string, run: RunEntry, e: EventOf<"MetricsLogged"> & { readonly position: number }): void {
    const { keys, values, steps, timestamps } = e.data
    const writer = this.writer!
    const blocks = this.blocks!
    const summariseAfter = this.summariseAfter
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
      // Checked before the appender sees them: a value it cannot cast fails the whole chunk, later.
      const step = int64(steps[i], `step (point ${i})`)
      const timestamp = int64(wholeMs(timestamps[i]), `timestamp (point ${i})`)
      const value = values[i]
      writer.add(s.id, step, timestamp, value, era, position, i)
      if (s.blocks === "kept") blocks.add(s, step, timestamp, value, position, i)
      else {
        if (s.blocks === "pending") blocks.add(s, step, timestamp, value, position, i)
        if (++s.logged >= summariseAfter) {
          if (s.blocks === "pending") blocks.keep(s)
          else if (s.blocks === "none") {
            s.blocks = "at commit"
            this.reached.push(s)
          }
        }
      }
      if (s.has && step <= s.step && s.distinctSteps) {
        s.distinctSteps = false
        this.repeatedSteps.push(s)
      }
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

  /**
   * Like core's renamedModel: the model's rows, its versions' and its aliases' move to the new name
   * (which holds none: a rename claims only a free name), and its updated_at is the rename's time.
   * This catch-up's pending rows of those tables are written first, so the UPDATEs see them all;
   * the caches of both names are then dropped, to be loaded again if needed.
   */
  private async renameModel(name: string, to: string, at: DuckDBValue): Promise<void> {
    for (const rows of [this.models, this.versions, this.aliases]) await rows.write(this.conn)
    for (const rows of [this.versions, this.aliases]) {
      await this.stmts.run(`UPDATE ${rows.def.name} SET name = $2 WHERE name = $1`, [VARCHAR, VARCHAR], [name, to])
    }
    await this.stmts.run(`UPDATE ${MODELS.name} SET name = $2, updated_at = $3 WHERE name = $1`, [VARCHAR, VARCHAR, MODELS.columns[MODEL.updatedAt].type], [name, to, at])
    for (const rows of [this.models, this.versions, this.aliases]) {
      rows.forget(name)
      rows.forget(to)
    }
  }

  private modelEvent(name: string, e: RecordedEvent): Promise<void> | undefined {
    const at = ms(e.at)
    if (e.type === "ModelRegistered") {
      // Like evolveModel: registering starts the model afresh.
      const d = e.data
      return (async () => {
        for (const rows of [this.versions, this.aliases]) {
          await this.stmts.run(`DELETE FROM ${rows.def.name} WHERE name = $1`, [VARCHAR], [name])
          rows.forget(name)
        }
        this.models.put([name, d.description, json(d.tags), at, at])
      })()
    }
    // Like evolveModel: a claim shows nothing by itself (the ModelRenamed on the old stream moves
    // the model), and an abandoned rename changes nothing about the model.
    if (e.type === "ModelRenameClaimed" || e.type === "ModelRenameAbandoned") return undefined
    const known = this.models.peek([name])
    if (known === undefined) return this.models.load(this.stmts, [name]).then(() => this.modelEvent(name, e))
    if (known === null) return undefined
    if (e.type === "ModelRenamed") return this.renameModel(name, e.data.to, at)
    if (e.type === "ModelDeleted") {
      // Like evolveModel: the model and its versions and aliases are gone from reads (the log keeps them).
      return (async () => {
        for (const rows of [this.versions, this.aliases]) {
          await this.stmts.run(`DELETE FROM ${rows.def.name} WHERE name = $1`, [VARCHAR], [name])
          rows.forget(name)
        }
        this.models.remove([name])
      })()
    }
    this.update(this.models, [name], (row) => {
      row[MODEL.updatedAt] = at
    })
    const setStage = (version: number, stage: string) =>
      this.update(this.versions, [name, version], (row) => {
        row[VERSION.stage] = stage
        row[VERSION.updatedAt] = at
      })
    // Like evolveModel: any event on the model's stream touches updated_at; only a model event changes more.
    if (!ofFold("model", e)) return undefined
    switch (e.type) {
      case "ModelVersionCreated":
        this.versions.put([name, int32(e.data.version, "version"), e.data.runId, e.data.artifactPath, "None", at, at])
        return undefined
      case "StagePromoted": {
        const d = e.data
        return (async () => {
          for (const a of d.archived) await setStage(a.version, "Archived")
          await setStage(d.version, d.to)
        })()
      }
      case "AliasSet":
        this.aliases.put([name, e.data.alias, int32(e.data.version, "version")])
        return undefined
      case "AliasDeleted":
        this.aliases.remove([name, e.data.alias])
        return undefined
      case "ModelDescribed": {
        const description = e.data.description
        return this.update(this.models, [name], (row) => {
          row[MODEL.description] = description
        })
      }
      case "ModelVersionDescribed":
        // model_versions has no description column (core's view has it); the version's updated_at moves, as in evolveModel.
        return this.update(this.versions, [name, e.data.version], (row) => {
          row[VERSION.updatedAt] = at
        })
      default:
        return unhandled(e)
    }
  }
}
