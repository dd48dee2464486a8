/**
 * The Tracker service: the Effect API. Commands go through `decide` and are appended under the
 * stream's expected version, re-decided against fresh state when another writer got there first.
 * Reads come from a projection of the whole log, caught up incrementally, or from a fold that
 * stops at a past position or time (`asOf`). A run asked for by its id, in a process that has not
 * folded the log yet, is read from its own stream (and the experiments stream) through the store's
 * index instead: a CLI's `show RUN` on a large store must not fold the whole log.
 */
import { Cause, Context, Effect, Layer, Scope, Semaphore, Stream } from "effect"
import { checkArtifactPath, checkName, checkOwner, decideRun, decideStartRun, type Decision, type Draft, evolveDrafts, makeCommandHandler, type RunCommand, runNameFromId } from "@runledger/core/write"
import {
  checkExperimentActive,
  decideCreateExperiment,
  decideDeleteExperiment,
  decideForkExperiment,
  decideNewExperiment,
  decideRenameExperiment,
  decideRestoreExperiment,
  decideSetExperimentTags
} from "@runledger/core/write"
import {
  decideClaimModelName,
  decideCreateModelVersion,
  decideDeleteAlias,
  decideDeleteModel,
  decideRegisterModel,
  decideSetAlias,
  decideDescribeModel,
  decideDescribeModelVersion,
  decideTransitionStage,
  MAX_RETRIES,
  modelMissing
} from "@runledger/core/write"
import { type AppendResult, ArtifactStore, Clock, type ClockShape, type ConcurrencyConflict, emptyExperiments, EventStore, evolveExperiments, claimOutcome, evolveModel, evolveRun, foldModelStream, modelOrigin, type PendingRename, type RenameClaim, type ExpectedVersion, experimentsList, type ExperimentsState, type ExperimentSummary, type ExperimentView, foldRun, type HistoryPoint, Ids, invalid, type InvalidInput, latestMetricsOf, Liveness, LogProjection, metricHistoryOf, StorageError, runViewOf, type ModelState, type ModelVersionView, type ModelView, NotFound, RunContext, type RunState, type RunStatus, type RunView, StoreCorrupted, type StoreError, type TrackerError, type ViewType, whyGone } from "@runledger/core"
import {
  type ArtifactRef,
  CURRENT_SCHEMA,
  type Event,
  EXPERIMENTS_STREAM,
  type Meta,
  modelStream,
  type NewEvent,
  type ParamValue,
  type RecordedEvent,
  type RunOwner,
  runStream,
  type Stage
} from "@runledger/core"

export interface StartRunOptions {
  readonly experiment: string
  readonly name?: string
  readonly tags?: Record<string, string>
  readonly parentRunId?: string
  /**
   * The run is held by a lease rather than by this process (a server passes one for a remote
   * client): every event renews it, and it is gone after `ttlMs` without one. No pid check.
   */
  readonly lease?: { readonly ttlMs: number }
  /** Nobody holds the run (MLflow's REST clients never say they are gone): never judged dead. */
  readonly unowned?: boolean
}

export type MetricPoint = HistoryPoint

export type ArtifactSource = { readonly bytes: Uint8Array } | { readonly file: string }

/** A past moment: a log position, or a time in epoch milliseconds (events recorded at or before it). */
export type AsOf = { readonly position: number } | { readonly time: number }

export interface ReadOptions {
  readonly asOf?: AsOf
}

export interface ListRunsOptions extends ReadOptions {
  /** Experiment name or id. */
  readonly experiment?: string
  readonly parentRunId?: string
  readonly viewType?: ViewType
}

export type ModelVersionRef = { readonly version: number } | { readonly stage: Stage } | { readonly alias: string }

/** One file of a resolved artifact URI: its path below the URI's path, and its content address. */
export interface ResolvedArtifact {
  readonly relativePath: string
  readonly ref: ArtifactRef
  readonly runId: string
}

export interface TrackerShape {
  // experiments
  /** The experiment of that name, created when missing. One name is one experiment, across processes. */
  readonly ensureExperiment: (name: string) => Effect.Effect<ExperimentView, TrackerError>
  /** A new experiment with these tags; a name in use (by an active or deleted experiment) is refused. */
  readonly createExperiment: (name: string, options?: { readonly tags?: Record<string, string> }) => Effect.Effect<ExperimentView, TrackerError>
  readonly renameExperiment: (ref: string, name: string) => Effect.Effect<ExperimentView, TrackerError>
  /** Set tags on an experiment (other tags stay); a deleted experiment refuses. */
  readonly setExperimentTags: (ref: string, tags: Record<string, string>) => Effect.Effect<ExperimentView, TrackerError>
  readonly deleteExperiment: (ref: string) => Effect.Effect<ExperimentView, TrackerError>
  readonly restoreExperiment: (ref: string) => Effect.Effect<ExperimentView, TrackerError>
  readonly forkExperiment: (
    ref: string,
    options: { readonly name: string; readonly overrides?: Record<string, ParamValue>; readonly tags?: Record<string, string> }
  ) => Effect.Effect<ExperimentView, TrackerError>
  // runs
  readonly startRun: (options: StartRunOptions) => Effect.Effect<RunState, TrackerError>
  /** A run's current state, folded from its stream. */
  readonly loadRun: (runId: string) => Effect.Effect<RunState, NotFound | StoreError>
  /**
   * Append already-decided events to a run's stream under an expected version, deciding nothing
   * and never retrying: for the exit hand-off, which writes what a handle had queued as it was.
   */
  readonly appendRun: (runId: string, drafts: ReadonlyArray<Draft>, expectedVersion: ExpectedVersion) => Effect.Effect<AppendResult, ConcurrencyConflict | StoreError>
  /** Decide and append commands to a run, atomically, re-deciding on a lost race. */
  readonly record: (runId: string, commands: ReadonlyArray<RunCommand>) => Effect.Effect<RunState, TrackerError>
  /**
   * Record commands on a run even when it has ended (MLflow's post-hoc writes), without lying in
   * the audit: an ended run is reopened around them, in one append of RunResumed (one past its
   * highest step, so nothing is set aside) -> the commands -> RunEnded with the status and error it
   * had. A running run takes them as `record` does; a deleted one refuses (RunNotActive). `commands`
   * may be computed from the run (a tag appended to), decided again on a lost race.
   */
  readonly recordReopening: (runId: string, commands: ReadonlyArray<RunCommand> | ((state: RunState) => ReadonlyArray<RunCommand>)) => Effect.Effect<RunState, TrackerError>
  /**
   * Set a run's status as MLflow's runs/update does, with `extra` commands in the same append:
   * RUNNING reopens an ended run (RunResumed); an end status ends a running run, or changes an
   * ended run's status (reopened, then ended with it); the status it already has records `extra`
   * alone (reopening around them when it has ended).
   */
  readonly setRunStatus: (runId: string, status: RunStatus, extra?: ReadonlyArray<RunCommand>) => Effect.Effect<RunState, TrackerError>
  /**
   * A run handle's flush: `decided` (its queued calls, decided against its copy of the run at
   * `decided.version`) is appended at once; if another writer got there first, `commands` are
   * re-decided against the fresh run, as `record` does. Returns the stream's version after, and
   * the run after when it was read again (undefined when `decided` went in as it was).
   */
  readonly commitRun: (
    runId: string,
    commands: ReadonlyArray<RunCommand>,
    decided: { readonly version: number; readonly drafts: ReadonlyArray<Draft> }
  ) => Effect.Effect<{ readonly version: number; readonly state: RunState | undefined }, TrackerError>
  readonly deleteRun: (runId: string) => Effect.Effect<RunState, TrackerError>
  readonly restoreRun: (runId: string) => Effect.Effect<RunState, TrackerError>
  /** Resume a run from a step: later points at steps >= fromStep replace the older ones in projections. */
  readonly resumeRun: (runId: string, fromStep: number) => Effect.Effect<RunState, TrackerError>
  /** Store bytes or a local file in the artifact store; returns its content address (the event is `record`'s job). */
  readonly putArtifact: (source: ArtifactSource) => Effect.Effect<{ sha256: string; size: number }, TrackerError>
  readonly readArtifact: (runId: string, path: string) => Effect.Effect<Uint8Array, TrackerError>
  /** The bytes of a blob the log points at (from resolveArtifacts); missing or altered bytes are StoreCorrupted. */
  readonly readBlob: (sha256: string) => Effect.Effect<Uint8Array, TrackerError>
  /** The files behind `runs:/<id>/<path>` or `models:/<name>/<version | stage | @alias>`. */
  readonly resolveArtifacts: (uri: string) => Effect.Effect<ReadonlyArray<ResolvedArtifact>, TrackerError>
  // reads
  /** A run by its full id, a unique id prefix (4+ characters) or its exact name; an ambiguous one is refused, naming the matches. */
  readonly getRun: (run: string, options?: ReadOptions) => Effect.Effect<RunView, TrackerError>
  /** Several runs at once, in the order given (the views a search or ranking returns). */
  readonly getRuns: (runIds: ReadonlyArray<string>, options?: ReadOptions) => Effect.Effect<ReadonlyArray<RunView>, TrackerError>
  readonly listExperiments: (options?: ReadOptions & { readonly viewType?: ViewType }) => Effect.Effect<ReadonlyArray<ExperimentView>, TrackerError>
  /** listExperiments with each experiment's run count and last activity (the UI's experiment list). */
  readonly listExperimentSummaries: (options?: ReadOptions & { readonly viewType?: ViewType }) => Effect.Effect<ReadonlyArray<ExperimentSummary>, TrackerError>
  readonly listRuns: (options?: ListRunsOptions) => Effect.Effect<ReadonlyArray<RunView>, TrackerError>
  readonly metricHistory: (runId: string, key: string, options?: ReadOptions & { readonly all?: boolean }) => Effect.Effect<ReadonlyArray<MetricPoint>, NotFound | StoreError>
  // model registry
  readonly registerModel: (name: string, options?: { readonly description?: string; readonly tags?: Record<string, string> }) => Effect.Effect<ModelView, TrackerError>
  /** A new version (1, 2, 3, ...) of a run's stored artifact; `register` registers a new model in the same append. */
  readonly createModelVersion: (
    name: string,
    options: { readonly runId: string; readonly artifactPath: string; readonly register?: { readonly description?: string; readonly tags?: Record<string, string> } }
  ) => Effect.Effect<ModelVersionView, TrackerError>
  readonly transitionStage: (name: string, version: number, stage: Stage, options?: { readonly archiveExisting?: boolean }) => Effect.Effect<ModelVersionView, TrackerError>
  readonly setAlias: (name: string, alias: string, version: number) => Effect.Effect<ModelVersionView, TrackerError>
  /** Replace a registered model's description. */
  readonly setModelDescription: (name: string, description: string) => Effect.Effect<ModelView, TrackerError>
  /** Replace a model version's description. */
  readonly setModelVersionDescription: (name: string, version: number, description: string) => Effect.Effect<ModelVersionView, TrackerError>
  readonly deleteAlias: (name: string, alias: string) => Effect.Effect<void, TrackerError>
  /**
   * Delete a registered model: its events stay in the log (audit, and reads as of an earlier
   * moment still show it), but reads no longer find it or its versions and `models:/<name>/...`
   * no longer resolves. The name may be registered again, as a new model from version 1.
   */
  readonly deleteModel: (name: string) => Effect.Effect<void, TrackerError>
  /**
   * Rename a registered model: its versions, stages, aliases and tags go with it; the old name is
   * free and no longer found; reads as of before the rename show the old name. Refused when the
   * new name is taken or reserved by another unfinished rename. Crash-safe across the two streams
   * it writes (the protocol is in core's project/models.ts).
   */
  readonly renameModel: (name: string, newName: string) => Effect.Effect<ModelView, TrackerError>
  /**
   * Abandon renames interrupted between their two appends (`runledger repair`): each model keeps
   * its old name and the claimed name is free again. Returns the renames abandoned.
   */
  readonly abandonPendingRenames: Effect.Effect<ReadonlyArray<PendingRename>, StoreError>
  readonly getModelVersion: (name: string, ref: ModelVersionRef, options?: ReadOptions) => Effect.Effect<ModelVersionView, TrackerError>
  readonly listModels: (options?: ReadOptions) => Effect.Effect<ReadonlyArray<ModelView>, TrackerError>
  readonly listModelVersions: (name: string, options?: ReadOptions) => Effect.Effect<ReadonlyArray<ModelVersionView>, TrackerError>
  // audit
  /** Every event of a stream (`run-<id>`, `model-<name>`, `experiments`), oldest first. */
  readonly streamEvents: (stream: string) => Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError>
  /** The projection of the whole log, caught up to the store's head (or folded up to `asOf`). */
  readonly projection: (options?: ReadOptions) => Effect.Effect<LogProjection, StoreError>
  /**
   * Record RUNNING runs whose process is gone, or whose lease ran out, as KILLED (appends RunEnded); returns the ids marked.
   * A writer's job (`runledger repair`): reads only show such runs as KILLED, appending nothing.
   */
  readonly reapDeadRuns: Effect.Effect<ReadonlyArray<string>, StoreError>
  /** The clock the tracker stamps events with; run handles take default metric times from it. */
  readonly clock: ClockShape
}

export class Tracker extends Context.Service<Tracker, TrackerShape>()("runledger/Tracker") {}

/** Runs read from their own streams (see `runsById`) before a process folds the whole log instead. */
const FOLD_AFTER = 64

const fromDecision = (d: Decision): Effect.Effect<ReadonlyArray<Draft>, TrackerError> => (d.ok ? Effect.succeed(d.events) : Effect.fail(d.error))

const runMissing = (runId: string) => new NotFound({ kind: "run", id: runId, message: `No run with id ${runId}. List runs with \`runledger runs\`.` })

/**
 * A run by its full id, a unique id prefix (4+ characters) or its exact name, among every run
 * (deleted ones too). The one resolver for the library and the CLI.
 */
export const findRun = (runs: ReadonlyMap<string, RunState>, ref: string): RunState | NotFound | InvalidInput => {
  const exact = runs.get(ref)
  if (exact !== undefined) return exact
  const matches: RunState[] = []
  for (const r of runs.values()) if ((ref.length >= 4 && r.id.startsWith(ref)) || r.name === ref) matches.push(r)
  if (matches.length === 1) return matches[0]
  if (matches.length === 0) {
    return new NotFound({ kind: "run", id: ref, message: `No run with id, id prefix or name ${JSON.stringify(ref)}. List runs with \`runledger runs\`.` })
  }
  matches.sort((a, b) => b.startTime - a.startTime || a.id.localeCompare(b.id))
  return invalid("run", `${JSON.stringify(ref)} matches ${matches.length} runs (${matches.slice(0, 5).map((r) => r.id.slice(0, 12)).join(", ")}${matches.length > 5 ? ", ..." : ""}); give more of the id.`)
}

/** Fold a chunk of the log's events into a projection, those `keep` takes (all by default). */
const applyAll = (p: LogProjection, events: ReadonlyArray<RecordedEvent>, keep?: (e: RecordedEvent) => boolean): void => {
  for (const e of events) if (keep === undefined || keep(e)) p.apply(e)
}

const isCut = (asOf: AsOf | undefined) =>
  asOf === undefined ? () => true : "position" in asOf ? (e: RecordedEvent) => e.position <= asOf.position : (e: RecordedEvent) => e.at <= asOf.time

/** Why an as-of moment is refused (not a number >= 0), or undefined. */
export const checkAsOf = (asOf: AsOf | undefined) => {
  if (asOf === undefined) return undefined
  const n = "position" in asOf ? asOf.position : asOf.time
  return Number.isFinite(n) && n >= 0 ? undefined : invalid("asOf", `An as-of position or time must be a number >= 0, not ${String(n)}.`)
}

export const makeTracker = Effect.gen(function*() {
  const store = yield* EventStore
  const artifacts = yield* ArtifactStore
  const context = yield* RunContext
  const liveness = yield* Liveness
  const clock = yield* Clock
  const ids = yield* Ids
  /** The tracker's lifetime: a background fold runs in it, and closing the tracker stops it. */
  const lifetime = yield* Scope.Scope
  const provenance = yield* context.capture
  const env = provenance.environment
  const meta: Meta = { host: env.host, pid: env.pid, ...(env.user ? { actor: env.user } : {}) }

  const stamp = (drafts: ReadonlyArray<Draft>, extraMeta?: Partial<Meta>): NewEvent[] => {
    const at = clock.now()
    return drafts.map((d) => {
      const schema = CURRENT_SCHEMA[d.type]
      return { id: ids.eventId(at), type: d.type, at, data: d.data, meta: extraMeta ? { ...meta, ...extraMeta } : meta, ...(schema ? { schema } : {}) } as NewEvent
    })
  }

  const handle = makeCommandHandler(store, stamp)
  /** Decide on a stream through the command handler; the state after. */
  const decideOn = <S>(stream: string, fold: (events: ReadonlyArray<Event>) => S, decide: (state: S) => Decision | Effect.Effect<Decision, TrackerError>) =>
    handle({ stream, fold, decide }).pipe(Effect.map((h) => h.state as S))

  // -- experiments ----------------------------------------------------------

  const foldExperiments = (events: ReadonlyArray<Event>): ExperimentsState => events.reduce(evolveExperiments, emptyExperiments())
  const experimentNamed = (state: ExperimentsState, name: string) => state.byId.get(state.byName.get(name)!)!

  const ensureExperiment = (name: string) =>
    Effect.gen(function*() {
      const bad = checkName("experiment", name)
      if (bad) return yield* Effect.fail(bad)
      const id = ids.newId()
      const state = yield* decideOn(EXPERIMENTS_STREAM, foldExperiments, (s) => decideCreateExperiment(s, id, name))
      return experimentNamed(state, name)
    })

  const createExperiment = (name: string, options: { readonly tags?: Record<string, string> } = {}) => {
    const id = ids.newId()
    return decideOn(EXPERIMENTS_STREAM, foldExperiments, (s) => decideNewExperiment(s, id, name, options.tags ?? {})).pipe(Effect.map((s) => s.byId.get(id)!))
  }

  const renameExperiment = (ref: string, name: string) =>
    decideOn(EXPERIMENTS_STREAM, foldExperiments, (s) => decideRenameExperiment(s, ref, name)).pipe(Effect.map((s) => experimentNamed(s, name)))

  const experimentAfter = (decide: (s: ExperimentsState, ref: string) => Decision) => (ref: string) =>
    Effect.gen(function*() {
      let id = ""
      const state = yield* decideOn(EXPERIMENTS_STREAM, foldExperiments, (s) => {
        id = s.byName.get(ref) ?? ref
        return decide(s, ref)
      })
      return state.byId.get(id)!
    })

  const forkExperiment = (ref: string, options: { readonly name: string; readonly overrides?: Record<string, ParamValue>; readonly tags?: Record<string, string> }) => {
    const id = ids.newId()
    return decideOn(EXPERIMENTS_STREAM, foldExperiments, (s) => decideForkExperiment(s, ref, id, options.name, options.overrides ?? {}, options.tags ?? {})).pipe(
      Effect.map((s) => s.byId.get(id)!)
    )
  }

  // -- runs -------------------------------------------------------------------

  const loadRun = (runId: string): Effect.Effect<RunState, NotFound | StoreError> =>
    store.readStream(runStream(runId)).pipe(
      Effect.flatMap((events) => {
        const state = foldRun(events)
        return state === undefined ? Effect.fail(runMissing(runId)) : Effect.succeed(state)
      })
    )

  const startRun = (options: StartRunOptions): Effect.Effect<RunState, TrackerError> =>
    Effect.gen(function*() {
      const badName = checkName("experiment", options.experiment) ?? (options.name === undefined ? undefined : checkName("run", options.name))
      if (badName) return yield* Effect.fail(badName)
      if (options.lease !== undefined && options.unowned === true) {
        return yield* Effect.fail(invalid("lease", "A run is held by a lease or by nobody, not both: pass `lease` or `unowned`."))
      }
      const owner: RunOwner | undefined = options.lease !== undefined
        ? { kind: "lease", ttlMs: options.lease.ttlMs }
        : options.unowned === true
        ? { kind: "none" }
        : undefined
      // Checked before the experiment is ensured: a refused start writes nothing.
      const badOwner = checkOwner(owner)
      if (badOwner) return yield* Effect.fail(badOwner)
      if (options.parentRunId !== undefined) yield* loadRun(options.parentRunId)
      const experiment = yield* ensureExperiment(options.experiment)
      const inactive = checkExperimentActive(experiment)
      if (inactive) return yield* Effect.fail(inactive)
      const runId = ids.newId()
      const drafts = yield* fromDecision(
        decideStartRun(undefined, {
          runId,
          experimentId: experiment.id,
          name: options.name ?? runNameFromId(runId),
          parentRunId: options.parentRunId ?? null,
          tags: options.tags ?? {},
          source: provenance.source,
          environment: provenance.environment,
          ...(owner !== undefined ? { owner } : {})
        })
      )
      const events = stamp(drafts)
      yield* store.append(runStream(runId), events, 0)
      return foldRun(events.map((e, i) => ({ ...e, stream: runStream(runId), version: i + 1 }) as Event))!
    })

  const appendRun = (runId: string, drafts: ReadonlyArray<Draft>, expected: ExpectedVersion) => store.append(runStream(runId), stamp(drafts), expected)

  /**
   * Commands decided in order, each against the state the earlier ones make: all or none. The
   * state is a fresh fold of the stream, so evolving it in place harms nothing.
   */
  const decideRunCommands = (runId: string, commands: ReadonlyArray<RunCommand>) => (state: RunState | undefined): Decision => {
    if (state === undefined) return { ok: false, error: runMissing(runId) }
    const drafts: Draft[] = []
    let s: RunState | undefined = state
    for (const cmd of commands) {
      const d = decideRun(s, runId, cmd)
      if (!d.ok) return d
      for (const e of d.events) drafts.push(e)
      s = evolveDrafts(evolveRun, s, d.events, clock.now())
    }
    return { ok: true, events: drafts }
  }
  const record = (runId: string, commands: ReadonlyArray<RunCommand>) =>
    decideOn(runStream(runId), foldRun, decideRunCommands(runId, commands)).pipe(
      Effect.flatMap((s) => (s === undefined ? Effect.fail(runMissing(runId)) : Effect.succeed(s)))
    )
  /** One past the highest step logged: a resume from there sets nothing aside. */
  const reopen = (state: RunState): RunCommand => {
    let max = -1
    for (const m of state.latest.values()) if (m.step > max) max = m.step
    return { _tag: "ResumeRun", fromStep: max + 1 }
  }
  const endAgain = (state: RunState): RunCommand => {
    const status = state.status === "RUNNING" ? "FINISHED" : state.status
    return state.error ? { _tag: "EndRun", status, error: state.error } : { _tag: "EndRun", status }
  }
  /** `commands`, reopened around when the run has ended; nothing to record stays nothing. */
  const reopening = (state: RunState, commands: ReadonlyArray<RunCommand>): ReadonlyArray<RunCommand> =>
    commands.length > 0 && !state.deleted && state.status !== "RUNNING" ? [reopen(state), ...commands, endAgain(state)] : commands
  const decideWith = (runId: string, commandsOf: (state: RunState) => ReadonlyArray<RunCommand>) => (state: RunState | undefined): Decision =>
    state === undefined ? { ok: false, error: runMissing(runId) } : decideRunCommands(runId, commandsOf(state))(state)
  const recordOn = (runId: string, commandsOf: (state: RunState) => ReadonlyArray<RunCommand>) =>
    decideOn(runStream(runId), foldRun, decideWith(runId, commandsOf)).pipe(
      Effect.flatMap((s) => (s === undefined ? Effect.fail(runMissing(runId)) : Effect.succeed(s)))
    )
  const recordReopening = (runId: string, commands: ReadonlyArray<RunCommand> | ((state: RunState) => ReadonlyArray<RunCommand>)) =>
    recordOn(runId, (state) => reopening(state, typeof commands === "function" ? commands(state) : commands))
  const setRunStatus = (runId: string, status: RunStatus, extra: ReadonlyArray<RunCommand> = []) =>
    recordOn(runId, (state): ReadonlyArray<RunCommand> => {
      // A deleted run is handed on too: deciding refuses it (deleted runs take no writes).
      if (status === "RUNNING") return state.status !== "RUNNING" || state.deleted ? [reopen(state), ...extra] : extra
      if (state.status === "RUNNING" || state.deleted) return [...extra, { _tag: "EndRun", status }]
      if (state.status !== status) return [reopen(state), ...extra, { _tag: "EndRun", status }]
      return reopening(state, extra)
    })
  const commitRun = (runId: string, commands: ReadonlyArray<RunCommand>, decided: { readonly version: number; readonly drafts: ReadonlyArray<Draft> }) =>
    handle({ stream: runStream(runId), fold: foldRun, decide: decideRunCommands(runId, commands), decided })

  const putArtifact = (source: ArtifactSource) => ("bytes" in source ? artifacts.put(source.bytes) : artifacts.putFile(source.file))

  // -- reads ------------------------------------------------------------------

  const live = new LogProjection()
  const lock = Semaphore.makeUnsafe(1)
  // Suspended: every catch-up starts from the projection's position at that moment.
  const caughtUp: Effect.Effect<LogProjection, StoreError> = lock.withPermit(
    Effect.suspend(() =>
      store.readAll(live.position).pipe(
        // A chunk at a time: one effect per event cost more than folding the event.
        Stream.runForEachArray((events) => Effect.sync(() => applyAll(live, events))),
        Effect.as(live)
      )
    )
  ).pipe(
    Effect.tap(() =>
      Effect.sync(() => {
        firstFold = "done"
      })
    )
  )

  /**
   * The last fold up to a past moment, kept while the log has not grown: the next read at the same
   * moment (a search, then the views of the runs it found) takes it instead of folding the log again.
   * The same events give the same fold, so a moment of either kind is safe to reuse on an unchanged log.
   */
  let lastPast: { readonly moment: string; readonly head: number; readonly projection: LogProjection } | undefined
  const projection = (options: ReadOptions = {}): Effect.Effect<LogProjection, StoreError> => {
    const asOf = options.asOf
    if (asOf === undefined) return caughtUp
    return Effect.gen(function*() {
      const moment = "position" in asOf ? `position ${asOf.position}` : `time ${asOf.time}`
      const head = yield* store.head
      if (lastPast !== undefined && lastPast.moment === moment && lastPast.head === head) return lastPast.projection
      const keep = isCut(asOf)
      const past = new LogProjection()
      yield* store.readAll(0).pipe(Stream.runForEachArray((events) => Effect.sync(() => applyAll(past, events, keep))))
      // Kept only if nothing was appended meanwhile: then it is the fold of exactly `head` events.
      if ((yield* store.head) === head) lastPast = { moment, head, projection: past }
      return past
    })
  }

  /**
   * Runs by id without folding the log: each run's stream and the experiments stream (its name and
   * whether it is deleted), read through the store's index. Undefined for an id with no run. Used
   * while this process has no projection yet; once it has one, catching that up costs only the
   * events since, and the two give the same views (replay.test.ts). A process that keeps asking (a
   * server, a script) folds the log once, in the background, after FOLD_AFTER runs read this way:
   * once that is done each read costs a lookup, not a read of the run's records.
   */
  const runsById = (runIds: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<{ readonly state: RunState; readonly view: RunView } | undefined>, StoreError> =>
    Effect.gen(function*() {
      pointReads += runIds.length
      if (pointReads >= FOLD_AFTER && firstFold === "none") yield* foldInBackground
      // Several streams read at once: each is a few small reads far apart in the log.
      const states = yield* Effect.forEach(runIds, (id) => store.readStream(runStream(id)).pipe(Effect.map((events) => foldRun(events))), { concurrency: 8 })
      if (states.every((s) => s === undefined)) return states.map(() => undefined)
      const experiments = foldExperiments(yield* store.readStream(EXPERIMENTS_STREAM))
      return states.map((state) => (state === undefined ? undefined : { state, view: runViewOf(state, experiments) }))
    })

  let pointReads = 0
  /**
   * This process's first fold of the whole log: not started, running in the background, or done
   * (by the background fold, or by a read that needs every run, such as listRuns).
   */
  let firstFold: "none" | "running" | "done" = "none"
  /** Whether live reads go through the projection: once this process has folded the log, catching up is cheap. */
  const folded = () => firstFold === "done"

  /**
   * The first fold, started when FOLD_AFTER runs have been read by id, and run in the background:
   * a server must not fold a large log (seconds) inside the request that crossed the threshold.
   * Reads by id go on from the runs' streams until it is done, then switch to the projection. A
   * failure is logged and changes nothing for reads: they go on from the streams, and the fold is
   * tried again after another FOLD_AFTER of them. Closing the tracker interrupts it.
   */
  const foldInBackground: Effect.Effect<void> = Effect.suspend(() => {
    firstFold = "running"
    return caughtUp.pipe(
      Effect.asVoid,
      Effect.catchCause((cause) =>
        Effect.sync(() => {
          if (firstFold === "running") firstFold = "none"
          pointReads = 0
        }).pipe(
          Effect.andThen(Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("Folding the log in the background failed; runs are read from their own streams meanwhile, and the fold is tried again later.", cause))
        )
      ),
      Effect.forkIn(lifetime),
      Effect.asVoid
    )
  })

  /** A resume set aside some keys' latest values; recompute those from the stream (rare, so cheap overall). */
  const withEffectiveMetrics = (state: RunState | undefined, view: RunView, asOf: AsOf | undefined): Effect.Effect<RunView, StoreError> => {
    if (state === undefined || state.staleKeys.size === 0) return Effect.succeed(view)
    const keep = isCut(asOf)
    return store.readStream(runStream(view.id)).pipe(
      Effect.map((events) => {
        const latest = latestMetricsOf(events.filter(keep), state.staleKeys)
        const metrics = { ...view.metrics }
        const metricSteps = { ...view.metricSteps }
        for (const [k, m] of latest) {
          // Own keys only: a metric may be named "constructor" or "toString".
          const current = Object.hasOwn(metricSteps, k) ? metricSteps[k] : undefined
          if (current === undefined || m.step > current.step || (m.step === current.step && m.timestamp >= current.timestamp)) {
            metrics[k] = m.value
            metricSteps[k] = { step: m.step, timestamp: m.timestamp }
          }
        }
        return { ...view, metrics, metricSteps }
      })
    )
  }

  /** Why a RUNNING run is gone (its process by the pid check, its lease by the Clock), or undefined. */
  const deathOf = (s: RunState): string | undefined => whyGone(s, clock.now(), liveness.isGone)

  const reapDeadRuns: Effect.Effect<ReadonlyArray<string>, StoreError> = Effect.gen(function*() {
    const p = yield* caughtUp
    const reaped: string[] = []
    for (const s of p.runs.values()) {
      const death = deathOf(s)
      if (death === undefined) continue
      const drafts: ReadonlyArray<Draft> = [{ type: "RunEnded", data: { status: "KILLED", error: { message: `${death}.` } } }]
      // Under the run's version: if the holder wrote meanwhile (a heartbeat too), it is alive and this is skipped.
      const appended = yield* Effect.result(store.append(runStream(s.id), stamp(drafts, { actor: "runledger (dead-run check)" }), s.version))
      if (appended._tag === "Success") reaped.push(s.id)
      else if (appended.failure._tag !== "ConcurrencyConflict") return yield* Effect.fail(appended.failure)
    }
    return reaped
  })

  const readable = (options: ReadOptions = {}) =>
    Effect.gen(function*() {
      const bad = checkAsOf(options.asOf)
      if (bad) return yield* Effect.fail(bad)
      return yield* projection(options)
    })

  /**
   * A run as a read shows it. A read never appends (the store may be read-only, or another
   * process's), so a live view shows a RUNNING run whose process is gone as KILLED without
   * recording it; `runledger repair` records it. A past view (`asOf`) shows what was true then.
   */
  const present = (state: RunState | undefined, view: RunView, asOf: AsOf | undefined): Effect.Effect<RunView, StoreError> => {
    const death = asOf === undefined && state !== undefined ? deathOf(state) : undefined
    const shown = death !== undefined
      ? { ...view, status: "KILLED" as const, error: { message: `${death}; not yet recorded in the log (\`runledger repair\` records it).` } }
      : view
    return withEffectiveMetrics(state, shown, asOf)
  }

  const fromProjection = (ref: string, options: ReadOptions) =>
    readable(options).pipe(
      Effect.flatMap((p): Effect.Effect<RunView, TrackerError> => {
        const found = findRun(p.runs, ref)
        return "_tag" in found ? Effect.fail(found) : present(found, p.runView(found.id)!, options.asOf)
      })
    )

  /** An exact id is read from its stream (while unfolded); a prefix or a name needs every run's, so the projection. */
  const getRun = (ref: string, options: ReadOptions = {}): Effect.Effect<RunView, TrackerError> =>
    options.asOf !== undefined || folded()
      ? fromProjection(ref, options)
      : runsById([ref]).pipe(
        Effect.flatMap(([found]): Effect.Effect<RunView, TrackerError> => (found === undefined ? fromProjection(ref, options) : present(found.state, found.view, undefined)))
      )

  const getRuns = (runIds: ReadonlyArray<string>, options: ReadOptions = {}): Effect.Effect<ReadonlyArray<RunView>, TrackerError> =>
    options.asOf !== undefined || folded()
      ? readable(options).pipe(
        Effect.flatMap((p): Effect.Effect<ReadonlyArray<RunView>, TrackerError> =>
          Effect.forEach(runIds, (id): Effect.Effect<RunView, TrackerError> => {
            const view = p.runView(id)
            return view === undefined ? Effect.fail(runMissing(id)) : present(p.runs.get(id), view, options.asOf)
          })
        )
      )
      : runsById(runIds).pipe(
        Effect.flatMap((found) =>
          Effect.forEach(found, (f, i): Effect.Effect<RunView, TrackerError> => (f === undefined ? Effect.fail(runMissing(runIds[i])) : present(f.state, f.view, undefined)))
        )
      )

  const listRuns = (options: ListRunsOptions = {}) =>
    readable(options).pipe(
      Effect.flatMap((p): Effect.Effect<ReadonlyArray<RunView>, TrackerError> => {
        let experimentId: string | undefined
        if (options.experiment !== undefined) {
          const e = p.findExperiment(options.experiment)
          if (e === undefined) {
            return Effect.fail(new NotFound({ kind: "experiment", id: options.experiment, message: `No experiment named ${JSON.stringify(options.experiment)}. List them with \`runledger experiments\`.` }))
          }
          experimentId = e.id
        }
        const views = p.listRuns({
          ...(experimentId !== undefined ? { experimentId } : {}),
          ...(options.parentRunId !== undefined ? { parentRunId: options.parentRunId } : {}),
          ...(options.viewType !== undefined ? { viewType: options.viewType } : {})
        })
        return Effect.forEach(views, (v) => present(p.runs.get(v.id), v, options.asOf))
      })
    )

  const metricHistory = (runId: string, key: string, options: ReadOptions & { readonly all?: boolean } = {}) =>
    store.readStream(runStream(runId)).pipe(
      Effect.flatMap((events) => {
        if (events.length === 0) return Effect.fail(runMissing(runId))
        return Effect.succeed(metricHistoryOf(events.filter(isCut(options.asOf)), key, { all: options.all ?? false }))
      })
    )

  /**
   * The bytes of a blob an event of the log points at. Such a blob missing from the artifact store
   * is damage (StoreCorrupted), not an unknown thing a caller named: no caller names blobs itself.
   */
  const loggedBlob = (sha256: string) =>
    artifacts.get(sha256).pipe(Effect.catchTag("NotFound", (e) => Effect.fail(new StoreCorrupted({ file: "", offset: 0, message: e.message }))))

  const readArtifact = (runId: string, path: string) =>
    Effect.gen(function*() {
      const bad = checkArtifactPath(path)
      if (bad) return yield* Effect.fail(bad)
      const run = yield* loadRun(runId)
      const ref = run.artifacts.get(path)
      if (ref === undefined) return yield* Effect.fail(new NotFound({ kind: "artifact", id: path, message: `Run ${runId} has no artifact ${JSON.stringify(path)}.` }))
      return yield* loggedBlob(ref.sha256).pipe(
        // Name the artifact as the caller knows it, not only by its blob's digest.
        Effect.catchTag("StoreCorrupted", (e) => Effect.fail(new StoreCorrupted({ file: e.file, offset: e.offset, message: `Artifact ${JSON.stringify(path)} of run ${runId}: ${e.message}` })))
      )
    })

  // -- model registry -----------------------------------------------------------

  /** A model name's state: the model living under it, or the unfinished rename that reserves it. */
  interface ModelLife {
    readonly model: ModelState | undefined
    readonly pending?: RenameClaim
  }

  /**
   * The model on a stream, given its events. A model that came by a rename goes on from the old
   * stream's model (read, and judged, here: see core's project/models.ts); a chain of renames
   * reads each stream once, back to the registration.
   */
  const modelLife = (name: string, events: ReadonlyArray<Event>): Effect.Effect<ModelLife, StoreError> =>
    Effect.suspend(() => {
      const origin = modelOrigin(events)
      if (origin.kind !== "claimed") return Effect.succeed({ model: foldModelStream(events) })
      const { from, fromVersion } = origin.claim.data
      return store.readStream(modelStream(from)).pipe(
        Effect.flatMap((old): Effect.Effect<ModelLife, StoreError> => {
          const outcome = claimOutcome(name, origin.claim, old)
          if (outcome === "pending") return Effect.succeed({ model: undefined, pending: origin.claim })
          if (outcome === "abandoned") return Effect.succeed({ model: undefined })
          const renamed = old[fromVersion] as Extract<Event, { type: "ModelRenamed" }>
          return modelLife(from, old.slice(0, fromVersion)).pipe(
            Effect.map(({ model }) => ({ model: model === undefined ? undefined : foldModelStream(events, { model, renamed }) }))
          )
        })
      )
    })

  /** A command on a model's stream, decided on its state (folded across renames). */
  const onModel = (name: string, decide: (life: ModelLife) => Decision | Effect.Effect<Decision, TrackerError>) =>
    handle({
      stream: modelStream(name),
      fold: (events: ReadonlyArray<Event>) => events,
      decide: (events) =>
        modelLife(name, events).pipe(Effect.flatMap((life) => {
          const d = decide(life)
          return Effect.isEffect(d) ? d : Effect.succeed(d)
        }))
    })


  const getModelVersion = (name: string, ref: ModelVersionRef, options: ReadOptions = {}) =>
    readable(options).pipe(
      Effect.flatMap((p): Effect.Effect<ModelVersionView, TrackerError> => {
        if (!p.models.has(name)) return Effect.fail(modelMissing(name))
        const v = p.modelVersion(name, ref)
        if (v !== undefined) return Effect.succeed(v)
        const what = "version" in ref ? `has no version ${ref.version}` : "stage" in ref ? `has no version in ${ref.stage}` : `has no alias ${JSON.stringify(ref.alias)}`
        return Effect.fail(new NotFound({ kind: "model version", id: name, message: `Model ${JSON.stringify(name)} ${what}${options.asOf ? " at that time" : ""}.` }))
      })
    )

  const afterModelWrite = (name: string, version: number) => getModelVersion(name, { version })

  const registerModel = (name: string, options: { readonly description?: string; readonly tags?: Record<string, string> } = {}) =>
    onModel(name, ({ model, pending }) => decideRegisterModel(model, name, options.description ?? "", options.tags ?? {}, pending)).pipe(
      Effect.flatMap(() => caughtUp),
      Effect.map((p) => p.listModels().find((m) => m.name === name)!)
    )

  /**
   * A new version; with `register`, a model not registered yet is registered by the same atomic
   * append, so a refused version leaves no empty model behind.
   */
  const createModelVersion = (
    name: string,
    options: { readonly runId: string; readonly artifactPath: string; readonly register?: { readonly description?: string; readonly tags?: Record<string, string> } }
  ) =>
    Effect.gen(function*() {
      let created = 0
      yield* onModel(name, (life) =>
        store.readStream(runStream(options.runId)).pipe(
          Effect.map((events): Decision => {
            let model = life.model
            const drafts: Draft[] = []
            if (model === undefined && options.register !== undefined) {
              const registered = decideRegisterModel(undefined, name, options.register.description ?? "", options.register.tags ?? {}, life.pending)
              if (!registered.ok) return registered
              for (const e of registered.events) drafts.push(e)
              model = evolveDrafts(evolveModel, undefined, registered.events, clock.now())
            }
            const d = decideCreateModelVersion(model, name, foldRun(events), options.runId, options.artifactPath)
            if (!d.ok) return d
            created = (d.events[0] as Extract<Draft, { type: "ModelVersionCreated" }>).data.version
            return { ok: true, events: [...drafts, ...d.events] }
          })
        ))
      return yield* afterModelWrite(name, created)
    })

  const transitionStage = (name: string, version: number, stage: Stage, options: { readonly archiveExisting?: boolean } = {}) =>
    onModel(name, ({ model: m }) => decideTransitionStage(m, name, version, stage, options.archiveExisting ?? false)).pipe(
      Effect.flatMap(() => afterModelWrite(name, version))
    )

  const setAlias = (name: string, alias: string, version: number) =>
    onModel(name, ({ model: m }) => decideSetAlias(m, name, alias, version)).pipe(Effect.flatMap(() => afterModelWrite(name, version)))

  const setModelDescription = (name: string, description: string) =>
    onModel(name, ({ model: m }) => decideDescribeModel(m, name, description)).pipe(
      Effect.flatMap(() => caughtUp),
      Effect.map((p) => p.listModels().find((m) => m.name === name)!)
    )

  const setModelVersionDescription = (name: string, version: number, description: string) =>
    onModel(name, ({ model: m }) => decideDescribeModelVersion(m, name, version, description)).pipe(Effect.flatMap(() => afterModelWrite(name, version)))

  const deleteAlias = (name: string, alias: string) => onModel(name, ({ model: m }) => decideDeleteAlias(m, name, alias)).pipe(Effect.asVoid)

  const deleteModel = (name: string) => onModel(name, ({ model: m }) => decideDeleteModel(m, name)).pipe(Effect.asVoid)

  const renameModel = (name: string, newName: string) =>
    Effect.gen(function*() {
      for (let attempt = 0; ; attempt++) {
        // Step 1: the claim on the new name's stream, decided on both streams as read now (nothing
        // to append when this same rename's claim is pending: only its step 2 is left).
        const events = yield* store.readStream(modelStream(newName))
        const target = yield* modelLife(newName, events)
        const fromEvents = yield* store.readStream(modelStream(name))
        const from = yield* modelLife(name, fromEvents)
        const fromVersion = fromEvents.length
        const d = decideClaimModelName(target, newName, from.model, name, fromVersion)
        if (!d.ok) return yield* Effect.fail(d.error)
        let toVersion = events.length
        if (d.events.length > 0) {
          const claimed = yield* Effect.result(store.append(modelStream(newName), stamp(d.events), events.length))
          if (claimed._tag === "Failure") {
            if (claimed.failure._tag === "ConcurrencyConflict" && attempt < MAX_RETRIES) continue
            return yield* Effect.fail(claimed.failure)
          }
          // Position 0: a remote client spooled the claim while its server is away (store-http).
          // Step 2 must not be spooled behind it: if the server refused the claim when it comes
          // back, a ModelRenamed landing anyway would point at a name the model never got.
          if (claimed.success.position === 0) {
            return yield* Effect.fail(new StorageError({ message: `Renaming model ${JSON.stringify(name)}: the server is unreachable, so the new name ${JSON.stringify(newName)} is only claimed in the local spool and the model keeps its name. Run the rename again once the server is back: it completes this one.` }))
          }
          toVersion = claimed.success.version
        }
        // Step 2: the old stream at exactly the version the claim names. A conflict means the model
        // was written meanwhile: this claim is dead (its name is free again), so start over.
        const renamed: Draft = { type: "ModelRenamed", data: { to: newName, toVersion } }
        const appended = yield* Effect.result(store.append(modelStream(name), stamp([renamed]), fromVersion))
        if (appended._tag === "Success") {
          // Spooled (position 0): it takes effect when the server accepts it, unless the model changed meanwhile.
          if (appended.success.position === 0) {
            return yield* Effect.fail(new StorageError({ message: `Renaming model ${JSON.stringify(name)}: the server went away before the rename's last step, which is spooled; it takes effect when the server accepts it, unless the model is written meanwhile (then it keeps its name). \`runledger models\` shows which, once the server is back.` }))
          }
          break
        }
        if (appended.failure._tag !== "ConcurrencyConflict" || attempt >= MAX_RETRIES) return yield* Effect.fail(appended.failure)
      }
      const p = yield* caughtUp
      return p.listModels().find((m) => m.name === newName)!
    })

  const abandonPendingRenames: Effect.Effect<ReadonlyArray<PendingRename>, StoreError> = Effect.gen(function*() {
    const p = yield* caughtUp
    const abandoned: PendingRename[] = []
    for (const r of [...p.pendingRenames.values()]) {
      const drafts: ReadonlyArray<Draft> = [{ type: "ModelRenameAbandoned", data: { to: r.to, toVersion: r.toVersion } }]
      // Where the rename's own step 2 would go: if it lands first (a rename still in flight), this is skipped.
      const appended = yield* Effect.result(store.append(modelStream(r.from), stamp(drafts, { actor: "runledger repair" }), r.fromVersion))
      if (appended._tag === "Success") abandoned.push(r)
      else if (appended.failure._tag !== "ConcurrencyConflict") return yield* Effect.fail(appended.failure)
    }
    return abandoned
  })

  const listModelVersions = (name: string, options: ReadOptions = {}) =>
    readable(options).pipe(
      Effect.flatMap((p): Effect.Effect<ReadonlyArray<ModelVersionView>, TrackerError> => {
        const versions = p.listModelVersions(name)
        return versions === undefined ? Effect.fail(modelMissing(name)) : Effect.succeed(versions)
      })
    )

  const resolveArtifacts = (uri: string): Effect.Effect<ReadonlyArray<ResolvedArtifact>, TrackerError> =>
    Effect.gen(function*() {
      let runId: string
      let path: string
      const runUri = /^runs:\/([^/]+)\/(.+)$/.exec(uri)
      const modelUri = /^models:\/([^/]+)\/([^/]+)\/?$/.exec(uri)
      if (runUri) {
        runId = runUri[1]
        path = runUri[2].replace(/\/+$/, "")
      } else if (modelUri) {
        const [, name, which] = modelUri
        const ref: ModelVersionRef = /^\d+$/.test(which)
          ? { version: Number(which) }
          : which.startsWith("@")
          ? { alias: which.slice(1) }
          : { stage: which as Stage }
        if ("stage" in ref && !["None", "Staging", "Production", "Archived"].includes(ref.stage)) {
          return yield* Effect.fail(invalid("uri", `${JSON.stringify(which)} in ${uri} is not a version number, a stage (None, Staging, Production, Archived) or an @alias.`))
        }
        const v = yield* getModelVersion(name, ref)
        runId = v.runId
        path = v.artifactPath
      } else {
        return yield* Effect.fail(invalid("uri", `${JSON.stringify(uri)} is not runs:/<run id>/<path> or models:/<name>/<version | stage | @alias>.`))
      }
      const bad = checkArtifactPath(path)
      if (bad) return yield* Effect.fail(bad)
      const run = yield* loadRun(runId)
      const out: ResolvedArtifact[] = []
      for (const [p, ref] of run.artifacts) {
        if (p === path) out.push({ relativePath: p.slice(p.lastIndexOf("/") + 1), ref, runId })
        else if (p.startsWith(`${path}/`)) out.push({ relativePath: p.slice(path.length + 1), ref, runId })
      }
      if (out.length === 0) return yield* Effect.fail(new NotFound({ kind: "artifact", id: uri, message: `Nothing is stored at ${uri}.` }))
      return out.sort((a, b) => a.relativePath.localeCompare(b.relativePath))
    })

  return Tracker.of({
    ensureExperiment,
    createExperiment,
    renameExperiment,
    setExperimentTags: (ref, tags) => experimentAfter((s, r) => decideSetExperimentTags(s, r, tags))(ref),
    deleteExperiment: experimentAfter(decideDeleteExperiment),
    restoreExperiment: experimentAfter(decideRestoreExperiment),
    forkExperiment,
    startRun,
    loadRun,
    appendRun,
    record,
    recordReopening,
    setRunStatus,
    commitRun,
    deleteRun: (runId) => record(runId, [{ _tag: "DeleteRun" }]),
    restoreRun: (runId) => record(runId, [{ _tag: "RestoreRun" }]),
    resumeRun: (runId, fromStep) => record(runId, [{ _tag: "ResumeRun", fromStep }]),
    putArtifact,
    readArtifact,
    readBlob: loggedBlob,
    resolveArtifacts,
    getRun,
    getRuns,
    // The present, before this process has folded the log: the experiments stream alone answers it
    // (folding a 100k-run log first took 50 s, and a search by experiment name asks this).
    listExperiments: (options = {}) =>
      options.asOf === undefined && !folded()
        ? store.readStream(EXPERIMENTS_STREAM).pipe(Effect.map((events) => experimentsList(foldExperiments(events), options.viewType)))
        : readable(options).pipe(Effect.map((p) => p.listExperiments(options.viewType))),
    listExperimentSummaries: (options = {}) => readable(options).pipe(Effect.map((p) => p.listExperimentSummaries(options.viewType))),
    listRuns,
    metricHistory,
    registerModel,
    createModelVersion,
    transitionStage,
    setModelDescription,
    setModelVersionDescription,
    setAlias,
    deleteAlias,
    deleteModel,
    renameModel,
    abandonPendingRenames,
    getModelVersion,
    listModels: (options = {}) => readable(options).pipe(Effect.map((p) => p.listModels())),
    listModelVersions,
    streamEvents: (stream) => store.readStream(stream),
    projection,
    reapDeadRuns,
    clock
  })
})

/** The Tracker, given an EventStore, an ArtifactStore, a RunContext and a Liveness. */
export const TrackerLive = Layer.effect(Tracker, makeTracker)
