/**
 * A run session: the writer of one run. It checks every call at once against the run as the
 * session knows it (so a bad call is refused with nothing queued), queues what passes, and puts
 * consecutive metric calls into one columnar batch. A flush appends everything queued in one
 * append through the command handler (`Tracker.commitRun`), which re-decides the queued commands
 * if another writer got there first.
 *
 * The checking and queueing are synchronous on purpose: `logMetric` in a training loop runs at
 * millions of calls a second, which an Effect per call would not. The I/O (the flush) is Effect.
 *
 * Two front ends share it: the Effect API here (each call an Effect that succeeds once its batch
 * is durable; concurrent callers share one append), and the Promise `Run` of facade.ts, which adds
 * next-turn flush scheduling and the "a failure nobody looked at surfaces at flush()/end()" rule.
 */
import { Deferred, Effect, Semaphore } from "effect"
import { baseName, checkArtifactPath, checkArtifactPlace, checkKey, checkMetricValue, checkRunActive, checkStep, checkTimestamp, decideRun, type Draft, evolveDrafts, isTimestamp, mediaTypeOf, MetricColumns, type RunCommand } from "@runledger/core/write"
import { type DatasetInput, type EndStatus, evolveRun, invalid, type InvalidInput, type MetricsBatch, type ParamValue, RunNotActive, type RunState, type TrackerError } from "@runledger/core"
import { type ArtifactSource, type StartRunOptions, Tracker, type TrackerShape } from "./tracker.ts"

export interface MetricOptions {
  /** Whole number >= 0. Default: one past the largest step logged for this key in this run (0 first). */
  readonly step?: number
  /** Epoch milliseconds. Default: now. */
  readonly timestamp?: number
}

export interface BatchMetric {
  readonly key: string
  readonly value: number
  readonly step: number
  readonly timestamp: number
}

/** MLflow's log-batch: params, tags and metrics in one atomic append. */
export interface LogBatch {
  readonly metrics?: ReadonlyArray<BatchMetric>
  readonly params?: Readonly<Record<string, ParamValue>>
  readonly tags?: Readonly<Record<string, string>>
}

export interface EndOptions {
  readonly status?: EndStatus
  readonly error?: unknown
}

type CommandEntry = { readonly kind: "command"; readonly command: RunCommand; readonly drafts: ReadonlyArray<Draft> }

/** A queued call, as taken for an append: a command's events, or a finished batch of points. */
export type Entry = CommandEntry | { readonly kind: "metrics"; readonly batch: MetricsBatch }

/** A call while queued: consecutive metric calls grow one batch, still open to more points. */
type Queue = CommandEntry | { readonly kind: "metrics"; readonly columns: MetricColumns }

/** An artifact to store: where its bytes come from, the run's path for it, and its media type. */
export interface ArtifactUpload {
  readonly source: ArtifactSource
  readonly path: string
  readonly mediaType: string
}

/** The artifact calls of both APIs, as uploads (a value that cannot be stored is refused here). */
export const artifactUpload = {
  /** A local file, at `path` (default: the file's name). */
  file: (localPath: string, path: string = baseName(localPath)): ArtifactUpload => ({ source: { file: localPath }, path, mediaType: mediaTypeOf(path) }),
  text: (text: string, path: string): ArtifactUpload => ({ source: { bytes: new TextEncoder().encode(text) }, path, mediaType: mediaTypeOf(path) }),
  /** Pretty-printed JSON, whatever `path` ends with. */
  json: (value: unknown, path: string): ArtifactUpload | InvalidInput => {
    const text = JSON.stringify(value, null, 2)
    if (text === undefined) return invalid("artifact", `logJson cannot serialize ${typeof value}; pass a JSON value.`)
    return { source: { bytes: new TextEncoder().encode(text) }, path, mediaType: "application/json" }
  },
  bytes: (bytes: Uint8Array, path: string): ArtifactUpload => ({ source: { bytes }, path, mediaType: mediaTypeOf(path) })
}

/** What queueing a call did: refused it (the error), queued something (true), or found nothing to queue (false). */
export type Queued = TrackerError | boolean

const cloneState = (s: RunState): RunState => ({
  ...s,
  params: { ...s.params },
  tags: { ...s.tags },
  latest: new Map(s.latest),
  artifacts: new Map(s.artifacts),
  inputs: [...s.inputs]
})

export const describeError = (e: unknown): { message: string; stack?: string } => {
  if (e instanceof Error) return e.stack ? { message: e.message, stack: e.stack } : { message: e.message }
  return { message: String(e) }
}

export const endCommand = (status: EndStatus, error?: unknown): RunCommand =>
  error === undefined ? { _tag: "EndRun", status } : { _tag: "EndRun", status, error: describeError(error) }

export const toDrafts = (entries: ReadonlyArray<Entry>): Draft[] => {
  const drafts: Draft[] = []
  for (const entry of entries) {
    if (entry.kind === "command") for (const d of entry.drafts) drafts.push(d)
    else drafts.push({ type: "MetricsLogged", data: entry.batch })
  }
  return drafts
}

/** How many of a batch's keys checkedColumns compares against before the session's set. */
const SEEN_KEYS = 8

export class RunSession {
  readonly id: string
  readonly experimentId: string
  /** The run as this session knows it, including calls not yet flushed. */
  private state: RunState
  /** The store version of the run's stream after the last successful append. */
  private version: number
  private entries: Queue[] = []
  private readonly nextStep = new Map<string, number>()
  private readonly validKeys = new Set<string>()
  /** Set once the run's end is asked for: every later call is refused. */
  ending = false
  private readonly tracker: TrackerShape
  private readonly now: () => number
  // The Effect API's group flush: the batch the queued entries belong to, and one append at a time.
  private pending: Deferred.Deferred<void, TrackerError> | null = null
  private readonly lock = Semaphore.makeUnsafe(1)

  constructor(tracker: TrackerShape, state: RunState) {
    this.tracker = tracker
    this.now = tracker.clock.now
    this.id = state.id
    this.experimentId = state.experimentId
    this.state = cloneState(state)
    this.version = state.version
    for (const [k, m] of state.latest) this.nextStep.set(k, m.step + 1)
  }

  get name(): string {
    return this.state.name
  }

  get status(): RunState["status"] {
    return this.state.status
  }

  /** The run's artifacts as the session knows them (where a new one may go). */
  get artifacts(): RunState["artifacts"] {
    return this.state.artifacts
  }

  get hasQueued(): boolean {
    return this.entries.length > 0
  }

  // -- checking and queueing (synchronous) -------------------------------------

  inactive(): RunNotActive | undefined {
    if (this.ending) {
      return new RunNotActive({ runId: this.id, status: this.state.status, message: `Run ${this.id} has been asked to end; nothing more can be logged to it. Start a new run.` })
    }
    return checkRunActive(this.state)
  }

  /** Decide a command against the session's state and queue its events. `beforeEnd`: one the end waits for. */
  queueCommand(command: RunCommand, beforeEnd = false): Queued {
    if (this.ending && !beforeEnd) return this.inactive()!
    const d = decideRun(this.state, this.id, command)
    if (!d.ok) return d.error
    if (d.events.length === 0) return false
    this.state = this.apply(this.state, d.events)
    this.entries.push({ kind: "command", command, drafts: d.events })
    return true
  }

  /** The hot path: checks and columnar buffering only. */
  queueMetric(key: string, value: number, options?: MetricOptions): Queued {
    const inactive = this.inactive()
    if (inactive) return inactive
    const step = options?.step ?? this.nextStep.get(key) ?? 0
    const timestamp = options?.timestamp ?? this.now()
    const bad = this.checkPoint(key, value, step, options?.timestamp)
    if (bad) return bad
    this.pushPoint(this.metricsTail(), key, value, step, timestamp)
    return true
  }

  /** Several metrics at one step (default: one past the largest step of any of these keys); all or none. */
  queueMetrics(metrics: Readonly<Record<string, number>>, options?: MetricOptions): Queued {
    const inactive = this.inactive()
    if (inactive) return inactive
    let step = options?.step
    if (step === undefined) {
      step = 0
      for (const k in metrics) step = Math.max(step, this.nextStep.get(k) ?? 0)
    }
    const timestamp = options?.timestamp ?? this.now()
    for (const k in metrics) {
      const bad = this.checkPoint(k, metrics[k], step, options?.timestamp)
      if (bad) return bad
    }
    let acc: MetricColumns | undefined
    for (const k in metrics) this.pushPoint((acc ??= this.metricsTail()), k, metrics[k], step, timestamp)
    return acc !== undefined
  }

  /** Params, tags and metrics as one atomic part of the next append, the metrics as one event; all or none. */
  queueBatch(batch: LogBatch): Queued {
    const inactive = this.inactive()
    if (inactive) return inactive
    const commands: RunCommand[] = []
    if (batch.params) commands.push({ _tag: "LogParams", params: batch.params })
    if (batch.tags) commands.push({ _tag: "SetTags", tags: batch.tags })
    const m = batch.metrics ?? []
    const columns = this.checkedColumns(m)
    if (!(columns instanceof MetricColumns)) return columns
    // Decide everything against a scratch copy first: one bad part refuses the whole batch. A
    // batch of metrics alone (a training loop's log-batch) decides nothing, so copies nothing.
    const decided: Array<{ command: RunCommand; drafts: ReadonlyArray<Draft> }> = []
    if (commands.length > 0) {
      let scratch = cloneState(this.state)
      for (const command of commands) {
        const d = decideRun(scratch, this.id, command)
        if (!d.ok) return d.error
        scratch = this.apply(scratch, d.events)
        decided.push({ command, drafts: d.events })
      }
      this.state = scratch
    }
    let queued = false
    // A part that decided no events (a param logged again with its value) queues nothing.
    for (const d of decided) {
      if (d.drafts.length > 0) {
        this.entries.push({ kind: "command", ...d })
        queued = true
      }
    }
    if (columns.length > 0) {
      this.pushMetrics(columns)
      queued = true
    }
    return queued
  }

  /** Whether an artifact may go to `path` now: checked before its upload, so a refused one costs no bytes. */
  checkUpload(path: string): TrackerError | undefined {
    return checkArtifactPath(path) ?? this.inactive() ?? checkArtifactPlace(this.state.artifacts, path)
  }

  /**
   * Store an artifact's blob, then queue the event that names it: an event never points at
   * missing bytes. Checked first (see checkUpload). The event is queued as one the end waits for:
   * the Promise handle's `end()` waits for uploads in progress (the Effect API's caller waits for
   * its own). Succeeds with what queueing did; the append is the caller's to wait for.
   */
  uploadArtifact(upload: ArtifactUpload): Effect.Effect<Queued, TrackerError> {
    return Effect.suspend(() => {
      const bad = this.checkUpload(upload.path)
      if (bad) return Effect.fail(bad)
      return this.tracker.putArtifact(upload.source).pipe(
        Effect.flatMap((blob) => {
          const queued = this.queueCommand({ _tag: "StoreArtifact", path: upload.path, sha256: blob.sha256, size: blob.size, mediaType: upload.mediaType }, true)
          return typeof queued === "boolean" ? Effect.succeed(queued) : Effect.fail(queued)
        })
      )
    })
  }

  /**
   * MLflow's point objects, checked and transposed into columns in one pass: each field is read
   * once, each point checked as `checkMetricsBatch` (decide/runs.ts) checks a columnar batch, with
   * the same messages, and the first bad point refuses the whole batch before anything is queued.
   * Keys repeat, so each is checked once per session; within a batch, the few keys that take turns
   * point by point are compared against (`seen`), not hashed into the session's set each time.
   */
  private checkedColumns(points: ReadonlyArray<BatchMetric>): MetricColumns | TrackerError {
    const n = points.length
    const columns = new MetricColumns(n)
    const seen: string[] = []
    for (let i = 0; i < n; i++) {
      const p = points[i]
      const key = p.key
      const value = p.value
      const step = p.step
      const timestamp = p.timestamp
      let known = false
      for (let j = 0; j < seen.length; j++) {
        if (seen[j] === key) {
          known = true
          break
        }
      }
      if (!known) {
        if (!this.validKeys.has(key)) {
          const bad = checkKey("metric", key)
          if (bad) return bad
          this.validKeys.add(key)
        }
        if (seen.length < SEEN_KEYS) seen.push(key)
      }
      if (typeof value !== "number") return checkMetricValue(key, value)!
      if (!(Number.isSafeInteger(step) && step >= 0)) return checkStep(key, step)!
      if (!isTimestamp(timestamp)) return checkTimestamp(key, timestamp)!
      columns.push(key, value, step, timestamp)
    }
    return columns
  }

  /** Whether the run can end as asked: refused at once, before anything changes. */
  checkEnd(asked: RunCommand): TrackerError | undefined {
    const inactive = this.inactive()
    if (inactive) return inactive
    const check = decideRun(this.state, this.id, asked)
    return check.ok ? undefined : check.error
  }

  /** The checks of one point; keys repeat in a training loop, so each is checked once per session. */
  private checkPoint(key: string, value: unknown, step: number, timestamp: number | undefined): TrackerError | undefined {
    if (!this.validKeys.has(key)) {
      const bad = checkKey("metric", key)
      if (bad) return bad
      this.validKeys.add(key)
    }
    if (typeof value !== "number") return checkMetricValue(key, value)
    if (!(Number.isSafeInteger(step) && step >= 0)) return checkStep(key, step)
    return timestamp === undefined ? undefined : checkTimestamp(key, timestamp)
  }

  private pushPoint(acc: MetricColumns, key: string, value: number, step: number, timestamp: number): void {
    acc.push(key, value, step, timestamp)
    if (step + 1 > (this.nextStep.get(key) ?? 0)) this.nextStep.set(key, step + 1)
  }

  /** Queue checked columns; columns that start a new entry are adopted, not copied. */
  private pushMetrics(columns: MetricColumns): void {
    const last = this.entries[this.entries.length - 1]
    if (last === undefined || last.kind !== "metrics") this.entries.push({ kind: "metrics", columns })
    else last.columns.pushAll(columns)
    columns.forEachMaxStep((key, step) => {
      if (step + 1 > (this.nextStep.get(key) ?? 0)) this.nextStep.set(key, step + 1)
    })
  }

  private metricsTail(): MetricColumns {
    const last = this.entries[this.entries.length - 1]
    if (last !== undefined && last.kind === "metrics") return last.columns
    const columns = new MetricColumns()
    this.entries.push({ kind: "metrics", columns })
    return columns
  }

  /** The session's state evolved with drafts it decided (in place: the session owns its state). */
  private apply(state: RunState, drafts: ReadonlyArray<Draft>): RunState {
    return evolveDrafts(evolveRun, state, drafts, this.now())!
  }

  // -- flushing ------------------------------------------------------------------

  /** Everything queued, for one append; the queue starts afresh. */
  take(): ReadonlyArray<Entry> {
    const entries = this.entries
    this.entries = []
    return entries.map((e): Entry => (e.kind === "command" ? e : { kind: "metrics", batch: e.columns.finish() }))
  }

  /**
   * Append taken entries as decided; if another writer got there first, the command handler
   * re-decides them against the fresh run (see command.ts). After a lost race or a failure, the
   * session takes the run as the log has it, so it never believes in events that are not in the
   * log nor misses ones another writer added.
   */
  commit(entries: ReadonlyArray<Entry>): Effect.Effect<void, TrackerError> {
    const commands = entries.map((entry): RunCommand => (entry.kind === "command" ? entry.command : { _tag: "LogMetrics", batch: entry.batch }))
    return this.tracker.commitRun(this.id, commands, { version: this.version, drafts: toDrafts(entries) }).pipe(
      Effect.map((done) => {
        this.version = done.version
        // Re-decided after a lost race: the run now holds the other writer's events too, and the
        // calls queued since must be checked against them (a param it logged, a deletion).
        if (done.state !== undefined) this.state = this.reapplyQueued(done.state)
      }),
      Effect.catch((e) =>
        this.tracker.loadRun(this.id).pipe(
          Effect.flatMap((fresh) => {
            this.version = fresh.version
            this.state = this.reapplyQueued(fresh)
            return Effect.fail(e)
          })
        )
      )
    )
  }

  /** The state after a flush: the store's truth plus the calls still queued behind it. */
  private reapplyQueued(fresh: RunState): RunState {
    let s = cloneState(fresh)
    for (const entry of this.entries) if (entry.kind === "command") s = this.apply(s, entry.drafts)
    return s
  }

  /**
   * For an exit that leaves no time for I/O: every queued call, plus `end` (when given and the run
   * still takes it), as events to append by other means under the version the session last saw.
   * The session takes nothing after this.
   */
  takeForExit(end: RunCommand | null): { readonly runId: string; readonly expectedVersion: number; readonly drafts: ReadonlyArray<Draft> } | undefined {
    const drafts = toDrafts(this.take())
    if (end !== null) {
      const d = decideRun(this.state, this.id, end)
      if (d.ok) for (const e of d.events) drafts.push(e)
    }
    this.ending = true
    return drafts.length === 0 ? undefined : { runId: this.id, expectedVersion: this.version, drafts }
  }

  /** True while the run is RUNNING and not deleted (whether or not its end was asked). */
  get running(): boolean {
    return checkRunActive(this.state) === undefined
  }

  // -- the Effect API --------------------------------------------------------------
  // Each call is checked at once (a refusal fails it with nothing queued), then waits for the
  // append of its batch: calls made while an append is in flight share the next one.

  logParam(key: string, value: ParamValue): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueCommand({ _tag: "LogParams", params: { [key]: value } }))
  }

  logParams(params: Readonly<Record<string, ParamValue>>): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueCommand({ _tag: "LogParams", params }))
  }

  setTag(key: string, value: string): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueCommand({ _tag: "SetTags", tags: { [key]: value } }))
  }

  setTags(tags: Readonly<Record<string, string>>): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueCommand({ _tag: "SetTags", tags }))
  }

  deleteTag(key: string): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueCommand({ _tag: "DeleteTag", key }))
  }

  /** Record a dataset the run used (name, digest, source; tags such as `mlflow.data.context`); the same input again is a no-op. */
  logInput(input: DatasetInput): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueCommand({ _tag: "LogInputs", inputs: [input] }))
  }

  /** Several dataset inputs, all or none. */
  logInputs(inputs: ReadonlyArray<DatasetInput>): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueCommand({ _tag: "LogInputs", inputs }))
  }

  logMetric(key: string, value: number, options?: MetricOptions): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueMetric(key, value, options))
  }

  logMetrics(metrics: Readonly<Record<string, number>>, options?: MetricOptions): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueMetrics(metrics, options))
  }

  logBatch(batch: LogBatch): Effect.Effect<void, TrackerError> {
    return this.call(() => this.queueBatch(batch))
  }

  /** Store a local file as an artifact of this run, at `path` (default: the file's name); succeeds once its event is durable. */
  logArtifact(localPath: string, options?: { readonly path?: string }): Effect.Effect<void, TrackerError> {
    return this.store(artifactUpload.file(localPath, options?.path))
  }

  logText(text: string, path: string): Effect.Effect<void, TrackerError> {
    return this.store(artifactUpload.text(text, path))
  }

  logJson(value: unknown, path: string): Effect.Effect<void, TrackerError> {
    return this.store(artifactUpload.json(value, path))
  }

  logBytes(bytes: Uint8Array, path: string): Effect.Effect<void, TrackerError> {
    return this.store(artifactUpload.bytes(bytes, path))
  }

  /**
   * Renew the run's lease (see StartRunOptions.lease): a holder with nothing else to log calls it
   * within each lease. Calls already queued renew it by themselves, so then it only waits for them;
   * otherwise it appends one RunHeartbeat. Fails with RunNotActive once the run has ended (a
   * reaped holder learns so here).
   */
  get heartbeat(): Effect.Effect<void, TrackerError> {
    return this.call(() => (this.hasQueued ? this.inactive() ?? false : this.queueCommand({ _tag: "Heartbeat" })))
  }

  /** The lease the run is held by, if any (its holder renews it within each `ttlMs`). */
  get lease(): { readonly ttlMs: number } | undefined {
    return this.state.owner.kind === "lease" ? { ttlMs: this.state.owner.ttlMs } : undefined
  }

  /** Succeeds when every call made so far is durable; fails with the failure of the last batch, if it failed. */
  get flush(): Effect.Effect<void, TrackerError> {
    return Effect.suspend(() => this.join())
  }

  /**
   * End the run (FINISHED by default) after every earlier call. A failed earlier call failed its
   * own Effect, so it does not stop the end; any call after `end` is refused.
   */
  end(options?: EndOptions): Effect.Effect<void, TrackerError> {
    return Effect.suspend(() => {
      const asked = endCommand(options?.status ?? "FINISHED", options?.error)
      const bad = this.checkEnd(asked)
      if (bad) return Effect.fail(bad)
      this.ending = true
      return Effect.ignore(this.join()).pipe(
        Effect.andThen(Effect.suspend(() => {
          const queued = this.queueCommand(asked, true)
          return typeof queued === "boolean" ? this.join() : Effect.fail(queued)
        })),
        Effect.ensuring(Effect.sync(() => {
          this.ending = false
        }))
      )
    })
  }

  private store(upload: ArtifactUpload | InvalidInput): Effect.Effect<void, TrackerError> {
    if ("_tag" in upload) return Effect.fail(upload)
    return this.uploadArtifact(upload).pipe(Effect.andThen(Effect.suspend(() => this.join())))
  }

  private call(queue: () => Queued): Effect.Effect<void, TrackerError> {
    return Effect.suspend(() => {
      const queued = queue()
      return typeof queued === "boolean" ? this.join() : Effect.fail(queued)
    })
  }

  /**
   * Wait for the batch that holds everything queued so far: the first waiter to get the lock
   * appends it for all of them. With nothing queued, wait for the append in flight (its outcome
   * is its own callers').
   */
  private join(): Effect.Effect<void, TrackerError> {
    if (this.entries.length === 0 && this.pending === null) return this.lock.withPermit(Effect.void)
    const batch = (this.pending ??= Deferred.makeUnsafe<void, TrackerError>())
    const append = Effect.suspend(() => {
      if (this.pending !== batch) return Effect.void
      this.pending = null
      return this.commit(this.take()).pipe(Effect.exit, Effect.flatMap((exit) => Deferred.done(batch, exit)))
    })
    // Uninterruptible: a waiter interrupted mid-append must not leave the others waiting forever.
    return this.lock.withPermit(Effect.uninterruptible(append)).pipe(Effect.andThen(Deferred.await(batch)))
  }
}

/** Start a run and open a session on it (the Effect API's `startRun` for a writer). */
export const startRunSession = (options: StartRunOptions): Effect.Effect<RunSession, TrackerError, Tracker> =>
  Effect.gen(function*() {
    const tracker = yield* Tracker
    return new RunSession(tracker, yield* tracker.startRun(options))
  })

/** Resume a run from a step and open a session on it. */
export const resumeRunSession = (runId: string, fromStep: number): Effect.Effect<RunSession, TrackerError, Tracker> =>
  Effect.gen(function*() {
    const tracker = yield* Tracker
    return new RunSession(tracker, yield* tracker.resumeRun(runId, fromStep))
  })
