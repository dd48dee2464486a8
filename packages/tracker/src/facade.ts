/**
 * The Promise facade: the API a training script calls without knowing Effect.
 *
 * A Run handle is a thin layer over a RunSession (run-session.ts), which validates every call at
 * once against the run's state (so a bad call is refused with nothing appended), queues what
 * passes, and flushes through the one command handler. The handle adds the Promise edge: queued
 * calls are flushed together on the event loop's next turn, everything called before the handle's
 * previous append finished goes into one append, and consecutive metric calls into one columnar
 * MetricsLogged event. So a tight loop of un-awaited `logMetric` calls pays
 * one fsync per flush, not per call, while an awaited call still resolves only once durable.
 *
 * Every promise a handle returns settles, and none becomes an unhandled rejection. A call that
 * fails (refused at once, or its flush failed) rejects its own promise; if nobody awaited or caught
 * that promise, the handle keeps the error, and the next `flush()` or `end()` rejects with it
 * (`end()` then ends the run FAILED with it rather than FINISHED). The valid calls around a bad
 * one are written all the same.
 */
import { Effect, type Layer, ManagedRuntime } from "effect"
import { type Draft, type RunCommand } from "@runledger/core/write"
import { type DatasetInput, type EndStatus, type ExperimentSummary, type ExperimentView, type InvalidInput, type ModelVersionView, type ModelView, NotFound, type ParamValue, type RecordedEvent, type RunState, type RunStatus, type RunView, type Stage, type TrackerError, type ViewType } from "@runledger/core"
import { type ArtifactUpload, artifactUpload, endCommand, type EndOptions, type LogBatch, type MetricOptions, type Queued, RunSession } from "./run-session.ts"
import {
  type ListRunsOptions,
  type MetricPoint,
  type ModelVersionRef,
  type ReadOptions,
  type ResolvedArtifact,
  type StartRunOptions,
  Tracker,
  type TrackerShape
} from "./tracker.ts"

/**
 * A promise handed to a caller that knows whether anyone has looked at it: `await`, `then`,
 * `catch`, `finally`, `Promise.all` and friends all call `then`. The run handle uses it so that a
 * refusal or a failed flush nobody looked at is neither an unhandled rejection (which kills Node)
 * nor lost: the handle keeps it, and the next `flush()` or `end()` reports it.
 */
class Outcome extends Promise<void> {
  // Promises derived with then/catch/finally are plain ones: only the handed-out one is watched.
  static override get [Symbol.species]() {
    return Promise
  }
  seen = false
  onSeen: (() => void) | undefined = undefined
  override then<A = void, B = never>(
    onFulfilled?: ((value: void) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null
  ): Promise<A | B> {
    if (!this.seen) {
      this.seen = true
      this.onSeen?.()
    }
    return super.then(onFulfilled, onRejected)
  }
}

/** Attach to a promise without counting as someone who looked at it. */
const quietly = <A>(p: Promise<A>, onFulfilled: (a: A) => void, onRejected: (e: unknown) => void): void => {
  void Promise.prototype.then.call(p, onFulfilled, onRejected)
}

interface Deferred {
  /** What callers are given. */
  readonly promise: Outcome
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

/**
 * When a flush starts: on the event loop's next turn rather than the next microtask, so every call
 * made before the script's next real wait joins one append, and a `process.exit()` that follows
 * un-awaited calls finds them still queued (a hand-off can take them) rather than half-appended.
 */
const nextTurn: (f: () => void) => void = typeof setImmediate === "function" ? (f) => void setImmediate(f) : (f) => void setTimeout(f, 0)

/** At most this many unseen failures are kept between reports; beyond that they are the same story. */
const MAX_UNSEEN = 1000

/** The Promise API of one run: a `RunSession` (run-session.ts) with next-turn flushes and unseen-failure reports. */
export class Run {
  readonly id: string
  readonly experimentId: string
  /** The run's writer: call-time checks, the queue, the flush through the command handler. */
  private readonly session: RunSession
  private batch: Deferred
  /** The append in progress; it never rejects (its batch's promise carries the outcome). */
  private inflight: Promise<void> | null = null
  /** The batch being appended now: what a call that queues nothing waits for. */
  private inflightBatch: Deferred | null = null
  private scheduled = false
  /** Artifact uploads whose event is not queued yet: `end()` waits for them. */
  private readonly uploads = new Set<Promise<void>>()
  /** `end()` at work, from its call until its event is appended or refused; never rejects. */
  private closing: Promise<void> | null = null
  /** The end `end()` was asked for, until it is queued. */
  private endAsked: RunCommand | null = null
  /**
   * Failures handed to callers who have not looked at them (yet), oldest first: refusals of
   * un-awaited calls and failed flushes of un-awaited batches. flush() and end() report the first.
   */
  private readonly unseen = new Map<Outcome, unknown>()
  /** A leased run's renewal timer (every third of the lease), while the handle takes calls. */
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined
  /** An append started since the last tick: that renewed the lease, so no heartbeat is due. */
  private appendedSinceTick = false

  private readonly run: <A>(effect: Effect.Effect<A, TrackerError>) => Promise<A>

  constructor(tracker: TrackerShape, run: <A>(effect: Effect.Effect<A, TrackerError>) => Promise<A>, state: RunState) {
    this.run = run
    this.session = new RunSession(tracker, state)
    this.id = state.id
    this.experimentId = state.experimentId
    this.batch = this.deferred()
    const lease = this.session.lease
    if (lease !== undefined && this.session.running) {
      this.heartbeatTimer = setInterval(() => this.beat(), Math.floor(lease.ttlMs / 3))
      // The lease must not keep a finished script alive.
      this.heartbeatTimer.unref?.()
    }
  }

  /**
   * A tick of a leased run: a heartbeat when nothing was appended in the last third of the lease.
   * Its failure (the run was reaped, or the store failed) is kept like any un-awaited call's, so
   * the next flush() or end() reports it, and it stops the timer.
   */
  private beat(): void {
    if (!this.session.running) return this.stopHeartbeat()
    if (this.appendedSinceTick || this.inflight !== null || this.session.hasQueued) {
      this.appendedSinceTick = false
      return
    }
    // Also while `end()` waits for a long upload: the run is still held until its end is written.
    quietly(this.command({ _tag: "Heartbeat" }, true), () => {}, () => this.stopHeartbeat())
  }

  /** Stop renewing the run's lease: on end, a failed append, an exit hand-off or the client's close. */
  stopHeartbeat(): void {
    if (this.heartbeatTimer === undefined) return
    clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = undefined
  }

  /** The run's name; setting the tag `mlflow.runName` changes it. */
  get name(): string {
    return this.session.name
  }

  get status(): RunStatus {
    return this.session.status
  }

  // -- params and tags ------------------------------------------------------

  logParam(key: string, value: ParamValue): Promise<void> {
    return this.command({ _tag: "LogParams", params: { [key]: value } })
  }

  logParams(params: Readonly<Record<string, ParamValue>>): Promise<void> {
    return this.command({ _tag: "LogParams", params })
  }

  setTag(key: string, value: string): Promise<void> {
    return this.command({ _tag: "SetTags", tags: { [key]: value } })
  }

  setTags(tags: Readonly<Record<string, string>>): Promise<void> {
    return this.command({ _tag: "SetTags", tags })
  }

  deleteTag(key: string): Promise<void> {
    return this.command({ _tag: "DeleteTag", key })
  }

  /** Record a dataset the run used (name, digest, source; tags such as `mlflow.data.context`); the same input again is a no-op. */
  logInput(input: DatasetInput): Promise<void> {
    return this.command({ _tag: "LogInputs", inputs: [input] })
  }

  /** Several dataset inputs, all or none. */
  logInputs(inputs: ReadonlyArray<DatasetInput>): Promise<void> {
    return this.command({ _tag: "LogInputs", inputs })
  }

  // -- metrics --------------------------------------------------------------

  /** The hot path: checks and columnar buffering only; no event, no I/O per call. */
  logMetric(key: string, value: number, options?: MetricOptions): Promise<void> {
    const queued = this.session.queueMetric(key, value, options)
    return queued === true ? this.schedule() : this.settle(queued)
  }

  /** Several metrics at one step (default: one past the largest step of any of these keys); all or none. */
  logMetrics(metrics: Readonly<Record<string, number>>, options?: MetricOptions): Promise<void> {
    return this.settle(this.session.queueMetrics(metrics, options))
  }

  /** MLflow's log-batch: params, tags and metrics in one atomic append; the metrics as one event. */
  logBatch(batch: LogBatch): Promise<void> {
    const queued = this.session.queueBatch(batch)
    return typeof queued === "boolean" ? this.settledSoFar() : this.refuse(queued)
  }

  // -- artifacts ------------------------------------------------------------

  /** Store a local file as an artifact of this run, at `path` (default: the file's name). */
  logArtifact(localPath: string, options?: { readonly path?: string }): Promise<void> {
    return this.upload(artifactUpload.file(localPath, options?.path))
  }

  logText(text: string, path: string): Promise<void> {
    return this.upload(artifactUpload.text(text, path))
  }

  logJson(value: unknown, path: string): Promise<void> {
    return this.upload(artifactUpload.json(value, path))
  }

  logBytes(bytes: Uint8Array, path: string): Promise<void> {
    return this.upload(artifactUpload.bytes(bytes, path))
  }

  /** The session's upload, tracked so that `end()` waits for it. */
  private upload(upload: ArtifactUpload | InvalidInput): Promise<void> {
    if ("_tag" in upload) return this.refuse(upload)
    // Checked now too, so a refusal is kept at once, as every other call's is.
    const bad = this.session.checkUpload(upload.path)
    if (bad) return this.refuse(bad)
    const done = this.run(this.session.uploadArtifact(upload)).then((queued) => this.settle(queued))
    this.uploads.add(done)
    const forget = () => {
      this.uploads.delete(done)
    }
    done.then(forget, forget)
    return this.watch(done)
  }

  // -- lifecycle ------------------------------------------------------------

  /**
   * End the run: FINISHED by default, or FAILED or KILLED (with the error, if any). Queued behind
   * every earlier call, artifact uploads still in progress included; any call made after `end()`
   * is refused at once. If a call failed and nobody looked at its promise (an un-awaited
   * `logMetric` with a NaN step, say), the run ends FAILED with that error instead of FINISHED, and
   * `end()` rejects with it; the valid calls around it are written all the same.
   */
  end(options?: EndOptions): Promise<void> {
    const status = options?.status ?? "FINISHED"
    const asked = endCommand(status, options?.error)
    // Refuse a bad status now, before anything changes.
    const bad = this.session.checkEnd(asked)
    if (bad) return this.refuse(bad)
    this.session.ending = true
    this.endAsked = asked
    const ended = (async () => {
      try {
        await this.drain(false)
        const unseen = this.takeUnseen()
        const command = unseen !== undefined && status === "FINISHED" ? endCommand("FAILED", unseen) : asked
        await this.command(command, true)
        if (unseen !== undefined) throw unseen
      } finally {
        this.stopHeartbeat()
        this.session.ending = false
        this.endAsked = null
        this.closing = null
      }
    })()
    // Watch first: the failure is kept before anything waiting on `closing` looks for it.
    const outcome = this.watch(ended)
    this.closing = ended.then(() => {}, () => {})
    return outcome
  }

  /**
   * Resolves when every call made so far is durable, uploads included. Rejects with the first
   * failure nobody has looked at since the last report (a refused un-awaited call, a failed
   * un-awaited flush); a failure whose promise was awaited or caught is its caller's, not reported
   * again.
   */
  flush(): Promise<void> {
    return this.watch(this.drain(true).then(() => {
      const unseen = this.takeUnseen()
      if (unseen !== undefined) throw unseen
    }))
  }

  /** True while the run takes calls, or has calls (or its end) still to write. */
  get live(): boolean {
    return this.active || this.session.ending || this.inflight !== null || this.session.hasQueued || this.uploads.size > 0
  }

  /** True while the run takes calls: RUNNING, not deleted, and `end()` not called. */
  get active(): boolean {
    return this.session.inactive() === undefined
  }

  /**
   * For an exit that leaves no time for I/O (`process.exit()`): take every queued call, plus the
   * run's end (`status`, unless `end()` already asked for one) if it is still active, as events to
   * append by other means, synchronously. The handle takes nothing after this. `busy` when an
   * append is in flight: whether it lands is up to the store, so nothing can safely follow it.
   * Uploads still in progress are not included (their bytes are not stored yet).
   */
  takeForExit(status: EndStatus, error?: unknown): { readonly runId: string; readonly expectedVersion: number; readonly drafts: ReadonlyArray<Draft> } | "busy" | undefined {
    this.stopHeartbeat()
    if (this.inflight !== null) return "busy"
    const taken = this.session.takeForExit(this.endAsked ?? (this.session.running ? endCommand(status, error) : null))
    this.endAsked = null
    return taken
  }

  // -- queueing -------------------------------------------------------------

  /** Wait until nothing is queued, uploading or being appended (nor ending, for `flush()`). Never rejects. */
  private async drain(waitForEnd: boolean): Promise<void> {
    for (;;) {
      if (waitForEnd && this.closing !== null) await this.closing
      else if (this.uploads.size > 0) await Promise.allSettled([...this.uploads])
      else if (this.inflight !== null) await this.inflight
      else if (this.session.hasQueued) this.flushNow()
      else return
    }
  }

  private deferred(): Deferred {
    let resolve!: () => void
    let reject!: (e: unknown) => void
    const raw = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise: this.watch(raw), resolve, reject }
  }

  /**
   * The promise a caller gets for `p`: it never becomes an unhandled rejection, and if it rejects
   * before anyone looked at it, the failure is kept for the next flush() or end(). The keeping
   * happens in the first reaction to `p`, ahead of anything the handle itself waits on `p` with.
   */
  private watch(p: Promise<void>): Outcome {
    const outcome: Outcome = new Outcome((resolve, reject) => {
      quietly(p, resolve, (e) => {
        reject(e)
        this.keep(outcome, e)
      })
    })
    quietly(outcome, () => {}, () => {})
    return outcome
  }

  private keep(outcome: Outcome, e: unknown): void {
    if (outcome.seen || this.unseen.size >= MAX_UNSEEN) return
    this.unseen.set(outcome, e)
    outcome.onSeen = () => {
      this.unseen.delete(outcome)
    }
  }

  /** A refusal, kept at once: a flush() called right after the refused call reports it. */
  private refuse(e: unknown): Outcome {
    const outcome = new Outcome((_, reject) => reject(e))
    quietly(outcome, () => {}, () => {})
    this.keep(outcome, e)
    return outcome
  }

  /** The oldest failure nobody looked at; the report covers every one kept so far. */
  private takeUnseen(): unknown {
    const first = this.unseen.values().next()
    this.unseen.clear()
    return first.done ? undefined : first.value
  }

  /** Decide against the session's state and queue. `beforeEnd`: an upload that `end()` is waiting for. */
  private command(command: RunCommand, beforeEnd = false): Promise<void> {
    return this.settle(this.session.queueCommand(command, beforeEnd))
  }

  /** The promise for what queueing a call did: its refusal, its batch's, or everything's so far. */
  private settle(queued: Queued): Promise<void> {
    return queued === true ? this.schedule() : queued === false ? this.settledSoFar() : this.refuse(queued)
  }

  /**
   * For a call that queues nothing (a param logged again with its value, an empty batch): settles
   * with everything called before it, since what it asserts may still be on its way to the log.
   * Only a batch that holds entries is handed out, so every promise given has a flush coming.
   */
  private settledSoFar(): Promise<void> {
    if (this.session.hasQueued) return this.schedule()
    return this.inflightBatch?.promise ?? this.watch(Promise.resolve())
  }

  /** Called with entries queued: hands out their batch's promise and makes sure a flush is coming. */
  private schedule(): Promise<void> {
    if (!this.scheduled && this.inflight === null) {
      this.scheduled = true
      nextTurn(() => this.flushNow())
    }
    return this.batch.promise
  }

  private flushNow(): void {
    this.scheduled = false
    if (this.inflight !== null || !this.session.hasQueued) return
    const entries = this.session.take()
    const batch = this.batch
    this.batch = this.deferred()
    this.inflightBatch = batch
    this.appendedSinceTick = true
    this.inflight = this.run(this.session.commit(entries)).then(batch.resolve, (e: unknown) => {
      this.stopHeartbeat()
      batch.reject(e)
    }).finally(() => {
      this.inflight = null
      this.inflightBatch = null
      if (this.session.hasQueued) this.schedule()
    })
  }
}

/** The Promise API of a tracker. */
export interface TrackerClient {
  startRun(options: StartRunOptions): Promise<Run>
  /** Run `fn` in a new run: it ends FINISHED, or FAILED with the error recorded (and the error is rethrown). */
  withRun<A>(options: StartRunOptions, fn: (run: Run) => Promise<A>): Promise<A>
  /** Go on logging to a run from `fromStep`: newer points replace older ones at steps >= fromStep in every view. */
  resumeRun(runId: string, options: { readonly fromStep: number }): Promise<Run>
  deleteRun(runId: string): Promise<void>
  restoreRun(runId: string): Promise<void>
  getRun(runId: string, options?: ReadOptions): Promise<RunView>
  /** Several runs, in the order given. */
  getRuns(runIds: ReadonlyArray<string>, options?: ReadOptions): Promise<ReadonlyArray<RunView>>
  listExperiments(options?: ReadOptions & { readonly viewType?: ViewType }): Promise<ReadonlyArray<ExperimentView>>
  /** listExperiments with each one's run count (runs not deleted) and the time of its runs' newest event. */
  listExperimentSummaries(options?: ReadOptions & { readonly viewType?: ViewType }): Promise<ReadonlyArray<ExperimentSummary>>
  renameExperiment(ref: string, name: string): Promise<ExperimentView>
  /** Set tags on an experiment (other tags stay; a key set again takes the new value); a deleted experiment refuses. */
  setExperimentTags(ref: string, tags: Record<string, string>): Promise<ExperimentView>
  deleteExperiment(ref: string): Promise<ExperimentView>
  restoreExperiment(ref: string): Promise<ExperimentView>
  forkExperiment(ref: string, options: { readonly name: string; readonly overrides?: Record<string, ParamValue>; readonly tags?: Record<string, string> }): Promise<ExperimentView>
  listRuns(options?: ListRunsOptions): Promise<ReadonlyArray<RunView>>
  metricHistory(runId: string, key: string, options?: ReadOptions & { readonly all?: boolean }): Promise<ReadonlyArray<MetricPoint>>
  /** The bytes of an artifact a run stored at `path`. */
  readArtifact(runId: string, path: string): Promise<Uint8Array>
  /** The files behind `runs:/<id>/<path>` or `models:/<name>/<version | stage | @alias>`, with their bytes. */
  readArtifacts(uri: string): Promise<ReadonlyArray<ResolvedArtifact & { readonly bytes: Uint8Array }>>
  registerModel(name: string, options?: { readonly description?: string; readonly tags?: Record<string, string> }): Promise<ModelView>
  createModelVersion(
    name: string,
    options: { readonly runId: string; readonly artifactPath: string; readonly register?: { readonly description?: string; readonly tags?: Record<string, string> } }
  ): Promise<ModelVersionView>
  transitionStage(name: string, version: number, stage: Stage, options?: { readonly archiveExisting?: boolean }): Promise<ModelVersionView>
  setAlias(name: string, alias: string, version: number): Promise<ModelVersionView>
  /** Replace a registered model's description. */
  setModelDescription(name: string, description: string): Promise<ModelView>
  /** Replace a model version's description. */
  setModelVersionDescription(name: string, version: number, description: string): Promise<ModelVersionView>
  deleteAlias(name: string, alias: string): Promise<void>
  /** Delete a registered model: the log keeps its events; reads and models:/ URIs no longer find it. */
  deleteModel(name: string): Promise<void>
  /** Rename a registered model; its versions, stages, aliases and tags go with it, and the old name is free. */
  renameModel(name: string, newName: string): Promise<ModelView>
  getModelVersion(name: string, ref: ModelVersionRef, options?: ReadOptions): Promise<ModelVersionView>
  listModels(options?: ReadOptions): Promise<ReadonlyArray<ModelView>>
  listModelVersions(name: string, options?: ReadOptions): Promise<ReadonlyArray<ModelVersionView>>
  /** Every event of a stream (`run-<id>`, `model-<name>`, `experiments`), oldest first: who, when, what. */
  streamEvents(stream: string): Promise<ReadonlyArray<RecordedEvent>>
  /** The run handles of this client that are still active or still have calls to write. */
  liveRuns(): ReadonlyArray<Run>
  /** The Effect API behind this client. */
  readonly effect: TrackerShape
  /** Flush every open run handle and release the store. */
  close(): Promise<void>
}

/** Build the Promise API over a layer that provides the Tracker service. */
export const makeTrackerClient = async (layer: Layer.Layer<Tracker, TrackerError>): Promise<TrackerClient> => {
  const runtime = ManagedRuntime.make(layer)
  const run = <A>(effect: Effect.Effect<A, TrackerError>): Promise<A> => runtime.runPromise(effect)
  const tracker = await runtime.runPromise(Effect.gen(function*() {
    return yield* Tracker
  }))
  const open = new Set<Run>()
  let closed = false
  const ensureOpen = () => {
    if (closed) throw new NotFound({ kind: "tracker", id: "", message: "This tracker is closed; open a new one with openTracker()." })
  }
  const handle = (state: RunState): Run => {
    const h = new Run(tracker, run, state)
    open.add(h)
    return h
  }
  const startRun = async (options: StartRunOptions): Promise<Run> => {
    ensureOpen()
    return handle(await run(tracker.startRun(options)))
  }
  return {
    startRun,
    async withRun(options, fn) {
      const h = await startRun(options)
      let result
      try {
        result = await fn(h)
      } catch (e) {
        if (h.active) {
          await h.flush().catch(() => {})
          await h.end({ status: "FAILED", error: e })
        }
        throw e
      }
      // Ends FAILED, and rejects, if a call failed that nobody looked at.
      if (h.active) await h.end()
      else await h.flush()
      return result
    },
    async resumeRun(runId, options) {
      ensureOpen()
      return handle(await run(tracker.resumeRun(runId, options.fromStep)))
    },
    deleteRun: (id) => run(tracker.deleteRun(id)).then(() => undefined),
    restoreRun: (id) => run(tracker.restoreRun(id)).then(() => undefined),
    getRun: (id, options) => run(tracker.getRun(id, options)),
    getRuns: (ids, options) => run(tracker.getRuns(ids, options)),
    listExperiments: (options) => run(tracker.listExperiments(options)),
    listExperimentSummaries: (options) => run(tracker.listExperimentSummaries(options)),
    renameExperiment: (ref, name) => run(tracker.renameExperiment(ref, name)),
    setExperimentTags: (ref, tags) => run(tracker.setExperimentTags(ref, tags)),
    deleteExperiment: (ref) => run(tracker.deleteExperiment(ref)),
    restoreExperiment: (ref) => run(tracker.restoreExperiment(ref)),
    forkExperiment: (ref, options) => run(tracker.forkExperiment(ref, options)),
    listRuns: (options) => run(tracker.listRuns(options)),
    metricHistory: (id, key, options) => run(tracker.metricHistory(id, key, options)),
    readArtifact: (id, path) => run(tracker.readArtifact(id, path)),
    readArtifacts: (uri) =>
      run(tracker.resolveArtifacts(uri).pipe(Effect.flatMap((files) => Effect.forEach(files, (f) => Effect.map(tracker.readBlob(f.ref.sha256), (bytes) => ({ ...f, bytes })))))),
    registerModel: (name, options) => run(tracker.registerModel(name, options)),
    createModelVersion: (name, options) => run(tracker.createModelVersion(name, options)),
    transitionStage: (name, version, stage, options) => run(tracker.transitionStage(name, version, stage, options)),
    setModelDescription: (name, description) => run(tracker.setModelDescription(name, description)),
    setModelVersionDescription: (name, version, description) => run(tracker.setModelVersionDescription(name, version, description)),
    setAlias: (name, alias, version) => run(tracker.setAlias(name, alias, version)),
    deleteAlias: (name, alias) => run(tracker.deleteAlias(name, alias)),
    deleteModel: (name) => run(tracker.deleteModel(name)),
    renameModel: (name, newName) => run(tracker.renameModel(name, newName)),
    getModelVersion: (name, ref, options) => run(tracker.getModelVersion(name, ref, options)),
    listModels: (options) => run(tracker.listModels(options)),
    listModelVersions: (name, options) => run(tracker.listModelVersions(name, options)),
    streamEvents: (stream) => run(tracker.streamEvents(stream)),
    liveRuns: () => {
      // A handle that is done (ended, nothing left to write) is forgotten here.
      for (const h of open) if (!h.live) open.delete(h)
      return [...open]
    },
    effect: tracker,
    async close() {
      if (closed) return
      closed = true
      const results = await Promise.allSettled([...open].map((r) => r.flush()))
      for (const r of open) r.stopHeartbeat()
      await runtime.dispose()
      const failed = results.find((r) => r.status === "rejected")
      if (failed) throw (failed as PromiseRejectedResult).reason
    }
  }
}
