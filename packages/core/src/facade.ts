/**
 * The Promise facade: the API a training script calls without knowing Effect.
 *
 * A Run handle validates every call at once against the run's state (so a bad call is refused
 * with nothing appended) and queues what passes. Queued calls are flushed together: everything
 * called before the handle's previous append finished goes into one append, and consecutive metric
 * calls into one columnar MetricsLogged event. So a tight loop of un-awaited `logMetric` calls pays
 * one fsync per flush, not per call, while an awaited call still resolves only once durable.
 *
 * Every promise a handle returns settles, and none becomes an unhandled rejection. A call that
 * fails (refused at once, or its flush failed) rejects its own promise; if nobody awaited or caught
 * that promise, the handle keeps the error, and the next `flush()` or `end()` rejects with it
 * (`end()` then ends the run FAILED with it rather than FINISHED). The valid calls around a bad
 * one are written all the same.
 */
import { Effect, type Layer, ManagedRuntime } from "effect"
import { evolveDrafts } from "./command.ts"
import type { Draft } from "./decide/common.ts"
import { checkMetricsBatch, checkRunActive, decideRun, type RunCommand } from "./decide/runs.ts"
import { invalid, type InvalidInput, NotFound, RunNotActive, type TrackerError } from "./errors.ts"
import type { EndStatus, MetricsBatch, ParamValue, RecordedEvent, RunStatus, Stage } from "./events.ts"
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
import { checkArtifactPath, checkArtifactPlace, checkKey, checkMetricValue, checkStep, checkTimestamp } from "./validate.ts"

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

type Entry =
  | { readonly kind: "command"; readonly command: RunCommand; readonly drafts: ReadonlyArray<Draft> }
  | { readonly kind: "metrics"; readonly batch: { keys: string[]; values: number[]; steps: number[]; timestamps: number[] } }

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
  /** The run as this handle knows it, including calls not yet flushed. */
  private state: RunState
  /** The store version of the run's stream after the last successful append. */
  private version: number
  private entries: Entry[] = []
  private batch: Deferred
  /** The append in progress; it never rejects (its batch's promise carries the outcome). */
  private inflight: Promise<void> | null = null
  /** The batch being appended now: what a call that queues nothing waits for. */
  private inflightBatch: Deferred | null = null
  private scheduled = false
  private readonly nextStep = new Map<string, number>()
  private readonly validKeys = new Set<string>()
  /** Artifact uploads whose event is not queued yet: `end()` waits for them. */
  private readonly uploads = new Set<Promise<void>>()
  private ending = false
  /** `end()` at work, from its call until its event is appended or refused; never rejects. */
  private closing: Promise<void> | null = null
  /** The end `end()` was asked for, until it is queued. */
  private endAsked: RunCommand | null = null
  /**
   * Failures handed to callers who have not looked at them (yet), oldest first: refusals of
   * un-awaited calls and failed flushes of un-awaited batches. flush() and end() report the first.
   */
  private readonly unseen = new Map<Outcome, unknown>()

  private readonly tracker: TrackerShape
  private readonly now: () => number
  private readonly run: <A>(effect: Effect.Effect<A, TrackerError>) => Promise<A>

  constructor(tracker: TrackerShape, run: <A>(effect: Effect.Effect<A, TrackerError>) => Promise<A>, state: RunState) {
    this.tracker = tracker
    this.now = tracker.clock.now
    this.run = run
    this.id = state.id
    this.experimentId = state.experimentId
    this.state = cloneState(state)
    this.version = state.version
    this.batch = this.deferred()
    for (const [k, m] of state.latest) this.nextStep.set(k, m.step + 1)
  }

  /** The run's name; setting the tag `mlflow.runName` changes it. */
  get name(): string {
    return this.state.name
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
    if (inactive) return this.refuse(inactive)
    const step = options?.step ?? this.nextStep.get(key) ?? 0
    const timestamp = options?.timestamp ?? this.now()
    const bad = this.checkPoint(key, value, step, options?.timestamp)
    if (bad) return this.refuse(bad)
    this.pushPoint(this.metricsTail(), key, value, step, timestamp)
    return this.schedule()
  }

  /** Several metrics at one step (default: one past the largest step of any of these keys); all or none. */
  logMetrics(metrics: Readonly<Record<string, number>>, options?: MetricOptions): Promise<void> {
    const inactive = this.inactive()
    if (inactive) return this.refuse(inactive)
    let step = options?.step
    if (step === undefined) {
      step = 0
      for (const k in metrics) step = Math.max(step, this.nextStep.get(k) ?? 0)
    }
    const timestamp = options?.timestamp ?? this.now()
    for (const k in metrics) {
      const bad = this.checkPoint(k, metrics[k], step, options?.timestamp)
      if (bad) return this.refuse(bad)
    }
    let acc: ReturnType<Run["metricsTail"]> | undefined
    for (const k in metrics) this.pushPoint((acc ??= this.metricsTail()), k, metrics[k], step, timestamp)
    return acc === undefined ? this.settledSoFar() : this.schedule()
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
    if (inactive) return this.refuse(inactive)
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
    if (badMetrics) return this.refuse(badMetrics)
    // Decide everything against a scratch copy first: one bad part refuses the whole batch.
    let scratch = cloneState(this.state)
    const decided: Array<{ command: RunCommand; drafts: ReadonlyArray<Draft> }> = []
    for (const command of commands) {
      const d = decideRun(scratch, this.id, command)
      if (!d.ok) return this.refuse(d.error)
      scratch = this.apply(scratch, d.events)
      decided.push({ command, drafts: d.events })
    }
    this.state = scratch
    // A part that decided no events (a param logged again with its value) queues nothing.
    for (const d of decided) if (d.drafts.length > 0) this.entries.push({ kind: "command", ...d })
    if (columns.keys.length > 0) this.pushMetrics(columns)
    return this.settledSoFar()
  }

  // -- artifacts ------------------------------------------------------------

  /** Store a local file as an artifact of this run, at `path` (default: the file's name). */
  logArtifact(localPath: string, options?: { readonly path?: string }): Promise<void> {
    const path = options?.path ?? baseName(localPath)
    return this.upload({ file: localPath }, path, mediaTypeOf(path))
  }

  logText(text: string, path: string): Promise<void> {
    return this.upload({ bytes: new TextEncoder().encode(text) }, path, mediaTypeOf(path))
  }

  logJson(value: unknown, path: string): Promise<void> {
    const text = JSON.stringify(value, null, 2)
    if (text === undefined) return this.refuse(invalid("artifact", `logJson cannot serialize ${typeof value}; pass a JSON value.`))
    return this.upload({ bytes: new TextEncoder().encode(text) }, path, "application/json")
  }

  /** Store the blob first, then queue the event that names it: an event never points at missing bytes. */
  private upload(source: ArtifactSource, path: string, mediaType: string): Promise<void> {
    // Checked before the upload too, so a refused path costs no bytes.
    const bad = checkArtifactPath(path) ?? this.inactive() ?? checkArtifactPlace(this.state.artifacts, path)
    if (bad) return this.refuse(bad)
    const done = this.run(this.tracker.putArtifact(source)).then((blob) =>
      this.command({ _tag: "StoreArtifact", path, sha256: blob.sha256, size: blob.size, mediaType }, true)
    )
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
  end(options?: { readonly status?: EndStatus; readonly error?: unknown }): Promise<void> {
    const status = options?.status ?? "FINISHED"
    const error = options?.error === undefined ? undefined : describeError(options.error)
    const asked: RunCommand = error ? { _tag: "EndRun", status, error } : { _tag: "EndRun", status }
    const inactive = this.inactive()
    if (inactive) return this.refuse(inactive)
    // Refuse a bad status now, before anything changes.
    const check = decideRun(this.state, this.id, asked)
    if (!check.ok) return this.refuse(check.error)
    this.ending = true
    this.endAsked = asked
    const ended = (async () => {
      try {
        await this.drain(false)
        const unseen = this.takeUnseen()
        const command: RunCommand = unseen !== undefined && status === "FINISHED" ? { _tag: "EndRun", status: "FAILED", error: describeError(unseen) } : asked
        await this.command(command, true)
        if (unseen !== undefined) throw unseen
      } finally {
        this.ending = false
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
    return this.active || this.ending || this.inflight !== null || this.entries.length > 0 || this.uploads.size > 0
  }

  /** True while the run takes calls: RUNNING, not deleted, and `end()` not called. */
  get active(): boolean {
    return this.inactive() === undefined
  }

  /**
   * For an exit that leaves no time for I/O (`process.exit()`): take every queued call, plus the
   * run's end (`status`, unless `end()` already asked for one) if it is still active, as events to
   * append by other means, synchronously. The handle takes nothing after this. `busy` when an
   * append is in flight: whether it lands is up to the store, so nothing can safely follow it.
   * Uploads still in progress are not included (their bytes are not stored yet).
   */
  takeForExit(status: EndStatus, error?: unknown): { readonly runId: string; readonly expectedVersion: number; readonly drafts: ReadonlyArray<Draft> } | "busy" | undefined {
    if (this.inflight !== null) return "busy"
    const drafts = toDrafts(this.entries)
    this.entries = []
    const end: RunCommand | null = this.endAsked ?? (checkRunActive(this.state) === undefined
      ? error === undefined ? { _tag: "EndRun", status } : { _tag: "EndRun", status, error: describeError(error) }
      : null)
    if (end !== null) {
      const d = decideRun(this.state, this.id, end)
      if (d.ok) drafts.push(...d.events)
    }
    this.ending = true
    this.endAsked = null
    return drafts.length === 0 ? undefined : { runId: this.id, expectedVersion: this.version, drafts }
  }

  // -- queueing -------------------------------------------------------------

  /** Wait until nothing is queued, uploading or being appended (nor ending, for `flush()`). Never rejects. */
  private async drain(waitForEnd: boolean): Promise<void> {
    for (;;) {
      if (waitForEnd && this.closing !== null) await this.closing
      else if (this.uploads.size > 0) await Promise.allSettled([...this.uploads])
      else if (this.inflight !== null) await this.inflight
      else if (this.entries.length > 0) this.flushNow()
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

  private inactive(): RunNotActive | undefined {
    if (this.ending) {
      return new RunNotActive({ runId: this.id, status: this.state.status, message: `Run ${this.id} has been asked to end; nothing more can be logged to it. Start a new run.` })
    }
    return checkRunActive(this.state)
  }

  /** Decide against the handle's state and queue. `beforeEnd`: an upload that `end()` is waiting for. */
  private command(command: RunCommand, beforeEnd = false): Promise<void> {
    if (this.ending && !beforeEnd) return this.refuse(this.inactive())
    const d = decideRun(this.state, this.id, command)
    if (!d.ok) return this.refuse(d.error)
    if (d.events.length === 0) return this.settledSoFar()
    this.state = this.apply(this.state, d.events)
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

  /**
   * For a call that queues nothing (a param logged again with its value, an empty batch): settles
   * with everything called before it, since what it asserts may still be on its way to the log.
   * Only a batch that holds entries is handed out, so every promise given has a flush coming.
   */
  private settledSoFar(): Promise<void> {
    if (this.entries.length > 0) return this.schedule()
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
    if (this.inflight !== null || this.entries.length === 0) return
    const entries = this.entries
    const batch = this.batch
    this.entries = []
    this.batch = this.deferred()
    this.inflightBatch = batch
    this.inflight = this.commit(entries).then(batch.resolve, batch.reject).finally(() => {
      this.inflight = null
      this.inflightBatch = null
      if (this.entries.length > 0) this.schedule()
    })
  }

  /**
   * Append the entries as decided; if another writer got there first, the command handler
   * re-decides them against the fresh run (see command.ts). After a lost race or a failure, the
   * handle takes the run as the log has it, so it never believes in events that are not in the
   * log nor misses ones another writer added.
   */
  private async commit(entries: ReadonlyArray<Entry>): Promise<void> {
    const commands = entries.map((entry): RunCommand => (entry.kind === "command" ? entry.command : { _tag: "LogMetrics", batch: entry.batch }))
    try {
      const done = await this.run(this.tracker.commitRun(this.id, commands, { version: this.version, drafts: toDrafts(entries) }))
      this.version = done.version
      // Re-decided after a lost race: the run now holds the other writer's events too, and the
      // calls queued since must be checked against them (a param it logged, a deletion).
      if (done.state !== undefined) this.state = this.reapplyQueued(done.state)
    } catch (e) {
      const fresh = await this.run(this.tracker.loadRun(this.id))
      this.version = fresh.version
      this.state = this.reapplyQueued(fresh)
      throw e
    }
  }

  /** The handle's state evolved with drafts it decided (in place: the handle owns its state). */
  private apply(state: RunState, drafts: ReadonlyArray<Draft>): RunState {
    return evolveDrafts(evolveRun, state, drafts, this.now())!
  }

  /** The state after a failure: the store's truth plus the calls still queued behind the failed flush. */
  private reapplyQueued(fresh: RunState): RunState {
    let s = cloneState(fresh)
    for (const entry of this.entries) if (entry.kind === "command") s = this.apply(s, entry.drafts)
    return s
  }
}

const toDrafts = (entries: ReadonlyArray<Entry>): Draft[] => {
  const drafts: Draft[] = []
  for (const entry of entries) {
    if (entry.kind === "command") drafts.push(...entry.drafts)
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
      await runtime.dispose()
      const failed = results.find((r) => r.status === "rejected")
      if (failed) throw (failed as PromiseRejectedResult).reason
    }
  }
}
