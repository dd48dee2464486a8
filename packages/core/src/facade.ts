/**
 * The Promise facade: the API a training script calls without knowing Effect.
 *
 * A Run handle validates every call at once against the run's state (so a bad call is refused
 * with nothing appended) and queues what passes. Queued calls are flushed together: everything
 * called before the handle's previous append finished goes into one append, and consecutive metric
 * calls into one columnar MetricsLogged event. So a tight loop of un-awaited `logMetric` calls pays
 * one fsync per flush, not per call, while an awaited call still resolves only once durable.
 */
import { Effect, type Layer, ManagedRuntime } from "effect"
import type { Draft } from "./decide/common.ts"
import { checkMetricsBatch, checkRunActive, decideRun, type RunCommand } from "./decide/runs.ts"
import { invalid, type InvalidInput, NotFound, RunNotActive, type TrackerError } from "./errors.ts"
import type { EndStatus, Event, MetricsBatch, ParamValue, RecordedEvent, RunStatus, Stage } from "./events.ts"
import { baseName, mediaTypeOf } from "./media-type.ts"
import type { ExperimentView } from "./project/experiments.ts"
import type { ViewType } from "./project/log.ts"
import type { ModelVersionView, ModelView } from "./project/models.ts"
import { evolveRun, type RunState, type RunView } from "./project/runs.ts"
import {
  type ArtifactSource,
  type ListRunsOptions,
  type MetricPoint,
  type ModelVersionRef,
  type ReadOptions,
  type ResolvedArtifact,
  type StartRunOptions,
  Tracker,
  type TrackerShape
} from "./tracker.ts"
import { checkArtifactPath, checkKey, checkMetricValue, checkStep, checkTimestamp } from "./validate.ts"

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

interface Deferred {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

const deferred = (): Deferred => {
  let resolve!: () => void
  let reject!: (e: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  // A caller that never awaits must not turn a failed flush into an unhandled rejection of this
  // internal promise; each caller still receives the rejection through the promise it was given.
  promise.catch(() => {})
  return { promise, resolve, reject }
}

type Entry =
  | { readonly kind: "command"; readonly command: RunCommand; readonly drafts: ReadonlyArray<Draft> }
  | { readonly kind: "metrics"; readonly batch: { keys: string[]; values: number[]; steps: number[]; timestamps: number[] } }

const apply = (state: RunState, drafts: ReadonlyArray<Draft>): RunState => {
  let s: RunState | undefined = state
  const at = Date.now()
  for (const d of drafts) {
    s = evolveRun(s, { id: "", stream: "", version: (s?.version ?? 0) + 1, at, type: d.type, data: d.data } as Event)
  }
  return s!
}

const cloneState = (s: RunState): RunState => ({
  ...s,
  params: { ...s.params },
  tags: { ...s.tags },
  latest: new Map(s.latest),
  artifacts: new Map(s.artifacts)
})

export class Run {
  readonly id: string
  readonly experimentId: string
  readonly name: string
  /** The run as this handle knows it, including calls not yet flushed. */
  private state: RunState
  /** The store version of the run's stream after the last successful append. */
  private version: number
  private entries: Entry[] = []
  private batch: Deferred = deferred()
  private inflight: Promise<void> | null = null
  private scheduled = false
  private readonly nextStep = new Map<string, number>()
  private readonly validKeys = new Set<string>()
  /** Artifact uploads whose event is not queued yet: `end()` waits for them. */
  private readonly uploads = new Set<Promise<void>>()
  private ending = false

  private readonly tracker: TrackerShape
  private readonly run: <A>(effect: Effect.Effect<A, TrackerError>) => Promise<A>

  constructor(tracker: TrackerShape, run: <A>(effect: Effect.Effect<A, TrackerError>) => Promise<A>, state: RunState) {
    this.tracker = tracker
    this.run = run
    this.id = state.id
    this.experimentId = state.experimentId
    this.name = state.name
    this.state = cloneState(state)
    this.version = state.version
    for (const [k, m] of state.latest) this.nextStep.set(k, m.step + 1)
  }

  get status(): RunStatus {
    return this.state.status
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

  // -- metrics --------------------------------------------------------------

  /** The hot path: checks and columnar buffering only; no event, no I/O per call. */
  logMetric(key: string, value: number, options?: MetricOptions): Promise<void> {
    const inactive = this.inactive()
    if (inactive) return Promise.reject(inactive)
    const step = options?.step ?? this.nextStep.get(key) ?? 0
    const timestamp = options?.timestamp ?? Date.now()
    const bad = this.checkPoint(key, value, step, options?.timestamp)
    if (bad) return Promise.reject(bad)
    this.pushPoint(this.metricsTail(), key, value, step, timestamp)
    return this.schedule()
  }

  /** Several metrics at one step (default: one past the largest step of any of these keys); all or none. */
  logMetrics(metrics: Readonly<Record<string, number>>, options?: MetricOptions): Promise<void> {
    const inactive = this.inactive()
    if (inactive) return Promise.reject(inactive)
    let step = options?.step
    if (step === undefined) {
      step = 0
      for (const k in metrics) step = Math.max(step, this.nextStep.get(k) ?? 0)
    }
    const timestamp = options?.timestamp ?? Date.now()
    for (const k in metrics) {
      const bad = this.checkPoint(k, metrics[k], step, options?.timestamp)
      if (bad) return Promise.reject(bad)
    }
    const acc = this.metricsTail()
    for (const k in metrics) this.pushPoint(acc, k, metrics[k], step, timestamp)
    return this.schedule()
  }

  /** The checks of one point; keys repeat in a training loop, so each is checked once per handle. */
  private checkPoint(key: string, value: unknown, step: number, timestamp: number | undefined): InvalidInput | undefined {
    if (!this.validKeys.has(key)) {
      const bad = checkKey("metric", key)
      if (bad) return bad
      this.validKeys.add(key)
    }
    if (typeof value !== "number") return checkMetricValue(key, value)
    if (!(Number.isSafeInteger(step) && step >= 0)) return checkStep(key, step)
    return timestamp === undefined ? undefined : checkTimestamp(key, timestamp)
  }

  private pushPoint(acc: { keys: string[]; values: number[]; steps: number[]; timestamps: number[] }, key: string, value: number, step: number, timestamp: number): void {
    acc.keys.push(key)
    acc.values.push(value)
    acc.steps.push(step)
    acc.timestamps.push(timestamp)
    if (step + 1 > (this.nextStep.get(key) ?? 0)) this.nextStep.set(key, step + 1)
  }

  /** MLflow's log-batch: params, tags and metrics in one atomic append; the metrics as one event. */
  logBatch(batch: {
    readonly metrics?: ReadonlyArray<BatchMetric>
    readonly params?: Readonly<Record<string, ParamValue>>
    readonly tags?: Readonly<Record<string, string>>
  }): Promise<void> {
    const inactive = this.inactive()
    if (inactive) return Promise.reject(inactive)
    const commands: RunCommand[] = []
    if (batch.params) commands.push({ _tag: "LogParams", params: batch.params })
    if (batch.tags) commands.push({ _tag: "SetTags", tags: batch.tags })
    const m = batch.metrics ?? []
    const n = m.length
    const columns = { keys: new Array<string>(n), values: new Array<number>(n), steps: new Array<number>(n), timestamps: new Array<number>(n) }
    for (let i = 0; i < n; i++) {
      const p = m[i]
      columns.keys[i] = p.key
      columns.values[i] = p.value
      columns.steps[i] = p.step
      columns.timestamps[i] = p.timestamp
    }
    const badMetrics = checkMetricsBatch(columns)
    if (badMetrics) return Promise.reject(badMetrics)
    // Decide everything against a scratch copy first: one bad part refuses the whole batch.
    let scratch = cloneState(this.state)
    const decided: Array<{ command: RunCommand; drafts: ReadonlyArray<Draft> }> = []
    for (const command of commands) {
      const d = decideRun(scratch, this.id, command)
      if (!d.ok) return Promise.reject(d.error)
      scratch = apply(scratch, d.events)
      decided.push({ command, drafts: d.events })
    }
    this.state = scratch
    for (const d of decided) this.entries.push({ kind: "command", ...d })
    if (columns.keys.length > 0) this.pushMetrics(columns)
    return this.schedule()
  }

  // -- artifacts ------------------------------------------------------------

  /** Store a local file as an artifact of this run, at `path` (default: the file's name). */
  async logArtifact(localPath: string, options?: { readonly path?: string }): Promise<void> {
    const path = options?.path ?? baseName(localPath)
    const bad = checkArtifactPath(path) ?? this.inactive()
    if (bad) throw bad
    return this.upload({ file: localPath }, path, mediaTypeOf(path))
  }

  async logText(text: string, path: string): Promise<void> {
    return this.logBytes(new TextEncoder().encode(text), path)
  }

  async logJson(value: unknown, path: string): Promise<void> {
    const text = JSON.stringify(value, null, 2)
    if (text === undefined) throw invalid("artifact", `logJson cannot serialize ${typeof value}; pass a JSON value.`)
    return this.logBytes(new TextEncoder().encode(text), path, "application/json")
  }

  private async logBytes(bytes: Uint8Array, path: string, mediaType?: string): Promise<void> {
    const bad = checkArtifactPath(path) ?? this.inactive()
    if (bad) throw bad
    return this.upload({ bytes }, path, mediaType ?? mediaTypeOf(path))
  }

  /** Store the blob first, then queue the event that names it: an event never points at missing bytes. */
  private upload(source: ArtifactSource, path: string, mediaType: string): Promise<void> {
    const done = this.run(this.tracker.putArtifact(source)).then((blob) =>
      this.command({ _tag: "StoreArtifact", path, sha256: blob.sha256, size: blob.size, mediaType }, true)
    )
    this.uploads.add(done)
    const forget = () => {
      this.uploads.delete(done)
    }
    done.then(forget, forget)
    return done
  }

  // -- lifecycle ------------------------------------------------------------

  /** End the run: FINISHED by default, or FAILED or KILLED (with the error, if any). */
  /**
   * Queued behind every earlier call, artifact uploads still in progress included; any call made
   * after `end()` is refused at once.
   */
  end(options?: { readonly status?: EndStatus; readonly error?: unknown }): Promise<void> {
    const status = options?.status ?? "FINISHED"
    const error = options?.error === undefined ? undefined : describeError(options.error)
    const command: RunCommand = error ? { _tag: "EndRun", status, error } : { _tag: "EndRun", status }
    if (this.uploads.size === 0) return this.command(command)
    const inactive = this.inactive()
    if (inactive) return Promise.reject(inactive)
    this.ending = true
    return Promise.allSettled([...this.uploads]).then(() => {
      this.ending = false
      return this.command(command)
    })
  }

  /** Resolves when every call made so far is durable (or rejects with the first failure). */
  async flush(): Promise<void> {
    while (this.inflight !== null || this.entries.length > 0) {
      if (this.inflight !== null) await this.inflight
      else {
        const b = this.batch
        this.flushNow()
        await b.promise
      }
    }
  }

  // -- queueing -------------------------------------------------------------

  private inactive(): RunNotActive | undefined {
    if (this.ending) {
      return new RunNotActive({ runId: this.id, status: this.state.status, message: `Run ${this.id} has been asked to end; nothing more can be logged to it. Start a new run.` })
    }
    return checkRunActive(this.state)
  }

  /** Decide against the handle's state and queue. `beforeEnd`: an upload that `end()` is waiting for. */
  private command(command: RunCommand, beforeEnd = false): Promise<void> {
    if (this.ending && !beforeEnd) return Promise.reject(this.inactive())
    const d = decideRun(this.state, this.id, command)
    if (!d.ok) return Promise.reject(d.error)
    if (d.events.length === 0) return this.entries.length === 0 && this.inflight === null ? Promise.resolve() : this.schedule()
    this.state = apply(this.state, d.events)
    this.entries.push({ kind: "command", command, drafts: d.events })
    return this.schedule()
  }

  /** Append checked columns to the queue; a batch that starts a new entry is adopted, not copied. */
  private pushMetrics(batch: { keys: string[]; values: number[]; steps: number[]; timestamps: number[] }): void {
    const last = this.entries[this.entries.length - 1]
    if (last === undefined || last.kind !== "metrics") {
      this.entries.push({ kind: "metrics", batch })
      for (let i = 0; i < batch.keys.length; i++) {
        const key = batch.keys[i]
        if (batch.steps[i] + 1 > (this.nextStep.get(key) ?? 0)) this.nextStep.set(key, batch.steps[i] + 1)
      }
      return
    }
    const acc = last.batch
    for (let i = 0; i < batch.keys.length; i++) {
      const key = batch.keys[i]
      acc.keys.push(key)
      acc.values.push(batch.values[i])
      acc.steps.push(batch.steps[i])
      acc.timestamps.push(batch.timestamps[i])
      if (batch.steps[i] + 1 > (this.nextStep.get(key) ?? 0)) this.nextStep.set(key, batch.steps[i] + 1)
    }
  }

  private metricsTail() {
    const last = this.entries[this.entries.length - 1]
    if (last !== undefined && last.kind === "metrics") return last.batch
    const batch = { keys: [] as string[], values: [] as number[], steps: [] as number[], timestamps: [] as number[] }
    this.entries.push({ kind: "metrics", batch })
    return batch
  }

  private schedule(): Promise<void> {
    if (!this.scheduled && this.inflight === null) {
      this.scheduled = true
      queueMicrotask(() => this.flushNow())
    }
    return this.batch.promise
  }

  private flushNow(): void {
    this.scheduled = false
    if (this.inflight !== null || this.entries.length === 0) return
    const entries = this.entries
    const batch = this.batch
    this.entries = []
    this.batch = deferred()
    this.inflight = this.commit(entries).then(batch.resolve, batch.reject).finally(() => {
      this.inflight = null
      if (this.entries.length > 0) this.schedule()
    })
  }

  private async commit(entries: ReadonlyArray<Entry>): Promise<void> {
    let drafts = toDrafts(entries)
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.run(this.tracker.appendRun(this.id, drafts, this.version))
        this.version = result.version
        return
      } catch (e) {
        // Lost a race with another writer of this run (say, a delete from the CLI), or the store
        // failed: re-read the run, so the handle never believes in events that are not in the log.
        const fresh = await this.run(this.tracker.loadRun(this.id))
        this.version = fresh.version
        const isConflict = (e as { _tag?: string })._tag === "ConcurrencyConflict"
        if (!isConflict || attempt >= 8) {
          this.state = this.reapplyQueued(fresh)
          throw e
        }
        const redecided: Draft[] = []
        let scratch = cloneState(fresh)
        for (const entry of entries) {
          const command: RunCommand = entry.kind === "command" ? entry.command : { _tag: "LogMetrics", batch: entry.batch }
          const d = decideRun(scratch, this.id, command)
          if (!d.ok) {
            this.state = this.reapplyQueued(fresh)
            throw d.error
          }
          scratch = apply(scratch, d.events)
          for (const e of d.events) redecided.push(e)
        }
        drafts = redecided
      }
    }
  }

  /** The state after a failure: the store's truth plus the calls still queued behind the failed flush. */
  private reapplyQueued(fresh: RunState): RunState {
    let s = cloneState(fresh)
    for (const entry of this.entries) if (entry.kind === "command") s = apply(s, entry.drafts)
    return s
  }
}

const toDrafts = (entries: ReadonlyArray<Entry>): Draft[] => {
  const drafts: Draft[] = []
  for (const entry of entries) {
    if (entry.kind === "command") for (const d of entry.drafts) drafts.push(d)
    else drafts.push({ type: "MetricsLogged", data: entry.batch })
  }
  return drafts
}

const describeError = (e: unknown): { message: string; stack?: string } => {
  if (e instanceof Error) return e.stack ? { message: e.message, stack: e.stack } : { message: e.message }
  return { message: String(e) }
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
  renameExperiment(ref: string, name: string): Promise<ExperimentView>
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
  deleteAlias(name: string, alias: string): Promise<void>
  getModelVersion(name: string, ref: ModelVersionRef, options?: ReadOptions): Promise<ModelVersionView>
  listModels(options?: ReadOptions): Promise<ReadonlyArray<ModelView>>
  listModelVersions(name: string, options?: ReadOptions): Promise<ReadonlyArray<ModelVersionView>>
  /** Every event of a stream (`run-<id>`, `model-<name>`, `experiments`), oldest first: who, when, what. */
  streamEvents(stream: string): Promise<ReadonlyArray<RecordedEvent>>
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
        if (h.status === "RUNNING") {
          await h.flush().catch(() => {})
          await h.end({ status: "FAILED", error: e })
        }
        throw e
      }
      if (h.status === "RUNNING") await h.end()
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
    renameExperiment: (ref, name) => run(tracker.renameExperiment(ref, name)),
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
    setAlias: (name, alias, version) => run(tracker.setAlias(name, alias, version)),
    deleteAlias: (name, alias) => run(tracker.deleteAlias(name, alias)),
    getModelVersion: (name, ref, options) => run(tracker.getModelVersion(name, ref, options)),
    listModels: (options) => run(tracker.listModels(options)),
    listModelVersions: (name, options) => run(tracker.listModelVersions(name, options)),
    streamEvents: (stream) => run(tracker.streamEvents(stream)),
    effect: tracker,
    async close() {
      if (closed) return
      closed = true
      const results = await Promise.allSettled([...open].map((r) => r.flush()))
      await runtime.dispose()
      const failed = results.find((r) => r.status === "rejected")
      if (failed) throw (failed as PromiseRejectedResult).reason
    }
  }
}
