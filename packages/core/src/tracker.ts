/**
 * The Tracker service: the Effect API. It turns commands into events through `decide`,
 * appends them under optimistic concurrency (retrying on conflict with fresh state), and
 * answers reads from a projection caught up incrementally from the log.
 */
import { Context, Effect, Layer, Semaphore, Stream } from "effect"
import { type Decision, decideCreateExperiment, decideRun, decideStartRun, type Draft, type RunCommand } from "./decide.ts"
import { type ConcurrencyConflict, invalid, NotFound, type TrackerError } from "./errors.ts"
import { type ArtifactRef, EXPERIMENTS_STREAM, type Meta, type NewEvent, runStream } from "./events.ts"
import { newId, runNameFromId, uuidv7 } from "./ids.ts"
import { ArtifactStore, type AppendResult, EventStore, type ExpectedVersion, RunContext, type StoreError } from "./ports.ts"
import {
  emptyExperiments,
  evolveExperiments,
  type ExperimentView,
  foldRun,
  LogProjection,
  type RunState,
  type RunView
} from "./project.ts"
import { checkArtifactPath, checkName } from "./validate.ts"

export interface StartRunOptions {
  readonly experiment: string
  readonly name?: string
  readonly tags?: Record<string, string>
  readonly parentRunId?: string
}

export interface MetricPoint {
  readonly step: number
  readonly value: number
  readonly timestamp: number
}

export type ArtifactSource = { readonly bytes: Uint8Array } | { readonly file: string }

/** How many times a command is re-decided against fresh state after losing a race. */
const MAX_RETRIES = 8

export interface TrackerShape {
  /** The experiment of that name, created when missing. One name is one experiment, across processes. */
  readonly ensureExperiment: (name: string) => Effect.Effect<ExperimentView, TrackerError>
  readonly startRun: (options: StartRunOptions) => Effect.Effect<RunState, TrackerError>
  /** A run's current state, folded from its stream. */
  readonly loadRun: (runId: string) => Effect.Effect<RunState, NotFound | StoreError>
  /** Append already-decided events to a run's stream under an expected version (the building block of batching writers). */
  readonly appendRun: (
    runId: string,
    drafts: ReadonlyArray<Draft>,
    expectedVersion: ExpectedVersion
  ) => Effect.Effect<AppendResult, ConcurrencyConflict | StoreError>
  /** Decide and append commands to a run, atomically, re-deciding on a lost race. */
  readonly record: (runId: string, commands: ReadonlyArray<RunCommand>) => Effect.Effect<RunState, TrackerError>
  /** Store bytes or a local file in the artifact store; returns its content address (the event is `record`'s job). */
  readonly putArtifact: (source: ArtifactSource) => Effect.Effect<{ sha256: string; size: number }, TrackerError>
  readonly getRun: (runId: string) => Effect.Effect<RunView, NotFound | StoreError>
  readonly listExperiments: () => Effect.Effect<ReadonlyArray<ExperimentView>, StoreError>
  readonly listRuns: (options?: { readonly experiment?: string }) => Effect.Effect<ReadonlyArray<RunView>, NotFound | StoreError>
  readonly metricHistory: (runId: string, key: string) => Effect.Effect<ReadonlyArray<MetricPoint>, NotFound | StoreError>
  readonly readArtifact: (runId: string, path: string) => Effect.Effect<Uint8Array, TrackerError>
  /** The projection of the whole log, caught up to the store's head. */
  readonly projection: Effect.Effect<LogProjection, StoreError>
}

export class Tracker extends Context.Service<Tracker, TrackerShape>()("runledger/Tracker") {}

const fromDecision = (d: Decision): Effect.Effect<ReadonlyArray<Draft>, TrackerError> =>
  d.ok ? Effect.succeed(d.events) : Effect.fail(d.error)

export const makeTracker = Effect.gen(function*() {
  const store = yield* EventStore
  const artifacts = yield* ArtifactStore
  const context = yield* RunContext
  const provenance = yield* context.capture
  const meta: Meta = { host: provenance.environment.host, pid: provenance.environment.pid, ...(provenance.environment.user ? { actor: provenance.environment.user } : {}) }

  const stamp = (drafts: ReadonlyArray<Draft>): NewEvent[] => {
    const at = Date.now()
    return drafts.map((d) => ({ id: uuidv7(at), type: d.type, at, data: d.data, meta }) as NewEvent)
  }

  const loadExperiments = store.readStream(EXPERIMENTS_STREAM).pipe(
    Effect.map((events) => events.reduce(evolveExperiments, emptyExperiments()))
  )

  const ensureExperiment = (name: string): Effect.Effect<ExperimentView, TrackerError> =>
    Effect.gen(function*() {
      for (let attempt = 0; ; attempt++) {
        const state = yield* loadExperiments
        const existing = state.byName.get(name)
        if (existing !== undefined) return state.byId.get(existing)!
        const experimentId = newId()
        const drafts = yield* fromDecision(decideCreateExperiment(state, experimentId, name))
        const appended = yield* Effect.result(store.append(EXPERIMENTS_STREAM, stamp(drafts), state.version))
        if (appended._tag === "Success") return { id: experimentId, name, createdAt: Date.now() }
        if (appended.failure._tag !== "ConcurrencyConflict" || attempt >= MAX_RETRIES) return yield* Effect.fail(appended.failure)
        // Another writer created an experiment first (maybe this very name): look again.
      }
    })

  const loadRun = (runId: string): Effect.Effect<RunState, NotFound | StoreError> =>
    store.readStream(runStream(runId)).pipe(
      Effect.flatMap((events) => {
        const state = foldRun(events)
        return state === undefined
          ? Effect.fail(new NotFound({ kind: "run", id: runId, message: `No run with id ${runId}. List runs with \`runledger runs\`.` }))
          : Effect.succeed(state)
      })
    )

  const startRun = (options: StartRunOptions): Effect.Effect<RunState, TrackerError> =>
    Effect.gen(function*() {
      const badName = checkName("experiment", options.experiment) ?? (options.name === undefined ? undefined : checkName("run", options.name))
      if (badName) return yield* Effect.fail(badName)
      if (options.parentRunId !== undefined) yield* loadRun(options.parentRunId)
      const experiment = yield* ensureExperiment(options.experiment)
      const runId = newId()
      const drafts = yield* fromDecision(
        decideStartRun(undefined, {
          runId,
          experimentId: experiment.id,
          name: options.name ?? runNameFromId(runId),
          parentRunId: options.parentRunId ?? null,
          tags: options.tags ?? {},
          source: provenance.source,
          environment: provenance.environment
        })
      )
      const events = stamp(drafts)
      yield* store.append(runStream(runId), events, 0)
      return foldRun(events.map((e, i) => ({ ...e, stream: runStream(runId), version: i + 1 }) as never))!
    })

  const appendRun = (runId: string, drafts: ReadonlyArray<Draft>, expected: ExpectedVersion) =>
    store.append(runStream(runId), stamp(drafts), expected)

  const record = (runId: string, commands: ReadonlyArray<RunCommand>): Effect.Effect<RunState, TrackerError> =>
    Effect.gen(function*() {
      for (let attempt = 0; ; attempt++) {
        const state = yield* loadRun(runId)
        const version = state.version
        const drafts: Draft[] = []
        for (const cmd of commands) {
          const decided = yield* fromDecision(decideRun(state, runId, cmd))
          drafts.push(...decided)
        }
        if (drafts.length === 0) return state
        const appended = yield* Effect.result(appendRun(runId, drafts, version))
        if (appended._tag === "Success") return yield* loadRun(runId)
        if (appended.failure._tag !== "ConcurrencyConflict" || attempt >= MAX_RETRIES) return yield* Effect.fail(appended.failure)
      }
    })

  const putArtifact = (source: ArtifactSource) => ("bytes" in source ? artifacts.put(source.bytes) : artifacts.putFile(source.file))

  // Reads: one projection, caught up from its position under a lock so concurrent reads never double-apply.
  const projection = new LogProjection()
  const lock = Semaphore.makeUnsafe(1)
  const caughtUp: Effect.Effect<LogProjection, StoreError> = lock.withPermit(
    store.readAll(projection.position).pipe(
      Stream.runForEach((e) => Effect.sync(() => projection.apply(e))),
      Effect.as(projection)
    )
  )

  const getRun = (runId: string) =>
    caughtUp.pipe(
      Effect.flatMap((p) => {
        const view = p.runView(runId)
        return view === undefined
          ? Effect.fail(new NotFound({ kind: "run", id: runId, message: `No run with id ${runId}. List runs with \`runledger runs\`.` }))
          : Effect.succeed(view)
      })
    )

  const listRuns = (options: { readonly experiment?: string } = {}) =>
    caughtUp.pipe(
      Effect.flatMap((p) => {
        if (options.experiment === undefined) return Effect.succeed(p.listRuns())
        const id = p.experiments.byName.get(options.experiment) ?? (p.experiments.byId.has(options.experiment) ? options.experiment : undefined)
        return id === undefined
          ? Effect.fail(new NotFound({ kind: "experiment", id: options.experiment, message: `No experiment named ${JSON.stringify(options.experiment)}. List them with \`runledger experiments\`.` }))
          : Effect.succeed(p.listRuns(id))
      })
    )

  const metricHistory = (runId: string, key: string) =>
    store.readStream(runStream(runId)).pipe(
      Effect.flatMap((events) => {
        if (events.length === 0) return Effect.fail(new NotFound({ kind: "run", id: runId, message: `No run with id ${runId}.` }))
        const points: MetricPoint[] = []
        for (const e of events) {
          if (e.type !== "MetricsLogged") continue
          const { keys, values, steps, timestamps } = e.data
          for (let i = 0; i < keys.length; i++) {
            if (keys[i] === key) points.push({ step: steps[i], value: values[i], timestamp: timestamps[i] })
          }
        }
        // Ordered by step; points logged at the same step keep their log order (the sort is stable).
        return Effect.succeed(points.sort((a, b) => a.step - b.step))
      })
    )

  const readArtifact = (runId: string, path: string) =>
    Effect.gen(function*() {
      const bad = checkArtifactPath(path)
      if (bad) return yield* Effect.fail(bad)
      const run = yield* loadRun(runId)
      const ref: ArtifactRef | undefined = run.artifacts.get(path)
      if (ref === undefined) {
        return yield* Effect.fail(new NotFound({ kind: "artifact", id: path, message: `Run ${runId} has no artifact ${JSON.stringify(path)}.` }))
      }
      return yield* artifacts.get(ref.sha256)
    })

  return Tracker.of({
    ensureExperiment,
    startRun,
    loadRun,
    appendRun,
    record,
    putArtifact,
    getRun,
    listExperiments: () => caughtUp.pipe(Effect.map((p) => p.listExperiments())),
    listRuns,
    metricHistory,
    readArtifact,
    projection: caughtUp
  })
})

export const TrackerLive = Layer.effect(Tracker, makeTracker)

