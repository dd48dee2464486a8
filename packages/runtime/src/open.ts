/**
 * openTracker: the composition root. The store is chosen by URI (see store.ts); the tracker and
 * the analytics read model share that one open store, with provenance and liveness from this
 * process, and exit hooks that end the runs left open.
 */
import { type Durability, type Recovery } from "@runledger/store-fs"
import type { CompareGroupsOptions, ExportRunsOptions, GroupComparison, MetricBucket, RankedRun, RankRunsOptions, ReadOnlyOptions, RowSink, RunComparison, SearchRunsOptions, SqlParam, SqlRow, StepRange, HistoryRequest } from "@runledger/readmodel-duckdb"
import { ArtifactStore, type ArtifactStoreShape, EventStore, type EventStoreShape, type HistoryPoint, invalid, NotFound, type RunView, type TrackerError } from "@runledger/core"
import { type AsOf, makeTrackerClient, Tracker as TrackerService, type TrackerClient, TrackerLive } from "@runledger/tracker"
import { passTagged } from "@runledger/core/store-kit"
import { Effect, Layer } from "effect"
import { lazyAnalytics } from "./analytics.ts"
import { type DownsampledHistoryColumns, historyOfColumns } from "./api-schemas.ts"
import { remoteTracker } from "./remote/tracker.ts"
import { downloadArtifacts } from "./download.ts"
import { followAtExit } from "./exit.ts"
import { NodeLiveness } from "./liveness.ts"
import { NodeRunContext } from "./provenance.ts"
import { IN_MEMORY_MAX_EVENTS, searchInMemory } from "./projection-search.ts"
import { isListingSearch, searchRunListing, writeRunListing } from "./run-listing.ts"
import { directoryStore, type OpenedStore, openStore, parseStoreUri, type StoreLocation } from "./store.ts"

export interface OpenTrackerOptions {
  /**
   * The store: a directory path, a file: URL, or duckdb:<path to a .duckdb file> (see store.ts).
   * Default: $RUNLEDGER_DIR, else ./runledger.
   */
  readonly uri?: string
  /** The store's directory (always a path, never parsed as a URI); an alias of `uri` kept for existing code. */
  readonly dir?: string
  /** "fsync" (default): an awaited call resolves once its events are on disk. "os": once the OS has them. */
  readonly durability?: Durability
  /** Told when a write cut off a torn tail left by a crash (reads never cut). Default: a line on stderr. */
  readonly onRecover?: (r: Recovery) => void
  /** The most memory the analytics read model may use in this process ("2GB"; default DuckDB's, 80% of RAM). */
  readonly readModelMemoryLimit?: string
  /**
   * How long the read model stays open after this process's last analytics call, for the next one
   * to reuse (default 0: closed at once, so other processes get their turn). For a process that owns
   * the store, such as the server (which passes LINGER_MS): other processes asking meanwhile wait.
   * Closing the tracker closes it at once.
   */
  readonly readModelLingerMs?: number
  /**
   * Told as the read model catches up with the log, whichever call makes it (a search of a large
   * store, a ranking, SQL): the position folded so far, and the log's head when known. The CLI
   * draws its progress bar from it; a call that needs no read model (a small store's search) never
   * opens DuckDB, so it is never told.
   */
  readonly readModelProgress?: (position: number, head: number | undefined) => void
  /** A server's token (`uri: "http://..."`): sent as `Authorization: Bearer <token>`. Default: $RUNLEDGER_TOKEN. */
  readonly token?: string
  /**
   * Where a server's appends wait while it is unreachable (`uri: "http://..."`); default
   * `~/.runledger/spool/<host_port>`. See @runledger/store-http.
   */
  readonly spoolDir?: string
  /**
   * A remote client's runs are held by a lease, renewed by its heartbeats: a client gone for this
   * long shows its runs as KILLED (no pid check across machines). Default 60 s.
   */
  readonly leaseMs?: number
}

/** How long a remote client's run outlives its last heartbeat. */
export const DEFAULT_REMOTE_LEASE_MS = 60_000

export const defaultDir = (): string => process.env.RUNLEDGER_DIR || "runledger"

/** The store `options` name: `dir` as a path, `uri` by its scheme; both at once is refused. */
export const storeLocation = (options: Pick<OpenTrackerOptions, "uri" | "dir"> = {}): StoreLocation => {
  if (options.uri !== undefined && options.dir !== undefined) {
    throw invalid("uri", `Both uri (${JSON.stringify(options.uri)}) and dir (${JSON.stringify(options.dir)}) were given; pass one of them (dir is the older name for a directory).`)
  }
  if (options.dir !== undefined) return directoryStore(options.dir)
  return parseStoreUri(options.uri ?? defaultDir())
}

/** The tracker on a store already open (its owner closes it). */
const trackerOn = (store: OpenedStore) =>
  TrackerLive.pipe(
    Layer.provide(Layer.mergeAll(Layer.succeed(EventStore, store.events), Layer.succeed(ArtifactStore, store.artifacts), NodeRunContext, NodeLiveness))
  )

/**
 * A remote client's runs are leased (the server cannot see the client's process): a start that
 * names no owner takes a lease; one that passes `lease` or `unowned` keeps it.
 */
const leasedByDefault = (layer: Layer.Layer<TrackerService, TrackerError>, ttlMs: number): Layer.Layer<TrackerService, TrackerError> =>
  Layer.effect(
    TrackerService,
    Effect.gen(function*() {
      const tracker = yield* TrackerService
      return TrackerService.of({ ...tracker, startRun: (o) => tracker.startRun(o.lease !== undefined || o.unowned === true ? o : { ...o, lease: { ttlMs } }) })
    })
  ).pipe(Layer.provide(layer))

/** The tracker over an open store: leased runs when the store is a server's. */
const trackerFor = (store: OpenedStore, options: OpenTrackerOptions) =>
  store.location.kind === "http" ? leasedByDefault(trackerOn(store), options.leaseMs ?? DEFAULT_REMOTE_LEASE_MS) : trackerOn(store)

/** The tracker as an Effect layer (for the Effect API): the store is opened with the layer and closed with it. */
export const trackerLayer = (options: OpenTrackerOptions = {}) =>
  Layer.unwrap(
    Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => openStore(storeLocation(options), storeOptions(options)),
        catch: passTagged<TrackerError>(`Opening the store ${options.uri ?? options.dir ?? defaultDir()}`)
      }),
      (store) => Effect.promise(() => store.close())
    ).pipe(Effect.map((store) => trackerFor(store, options)))
  )

const storeOptions = (options: OpenTrackerOptions) => {
  const token = options.token ?? process.env.RUNLEDGER_TOKEN
  return {
    durability: options.durability ?? "fsync",
    ...(options.onRecover ? { onRecover: options.onRecover } : {}),
    ...(token !== undefined && token !== "" ? { token } : {}),
    ...(options.spoolDir !== undefined ? { spoolDir: options.spoolDir } : {})
  }
}

/** A metric's history downsampled for charts: per bucket, `value` is the last point's. */
export interface HistoryBucket extends MetricBucket {
  readonly value: number
}

/** One run's downsampled history: `points` is its effective point count (within the step range). */
export interface DownsampledHistory {
  readonly runId: string
  readonly key: string
  readonly points: number
  readonly buckets: ReadonlyArray<HistoryBucket>
}

/** The Promise API, plus what needs the local file system and the analytics read model. */
export interface Tracker extends TrackerClient {
  /** The open store's ports, read-only: a server serves them over HTTP (its native event API). */
  readonly store: { readonly events: EventStoreShape; readonly artifacts: ArtifactStoreShape }
  /** Write the exact bytes behind `runs:/<id>/<path>` or `models:/<name>/<version | stage | @alias>` under `dest`; returns the paths written. */
  downloadArtifacts(uri: string, dest: string): Promise<string[]>
  /** MLflow's search: filter (plus OR, NOT, parentheses), order_by, pages. `experiments` by name or id. */
  searchRuns(options: SearchOptions): Promise<{ readonly runs: ReadonlyArray<RunView>; readonly nextPageToken: string | null }>
  /** Params side by side (differing ones marked) and each metric's last, min and max. */
  compareRuns(runIds: ReadonlyArray<string>): Promise<RunComparison>
  /** Runs ordered by a metric, with an optional normalized score (higher is better for the goal). */
  rankRuns(options: Omit<RankRunsOptions, "experimentIds"> & { readonly experiments?: ReadonlyArray<string> }): Promise<ReadonlyArray<RankedRun>>
  /**
   * A metric's history downsampled on read: whole when it has at most `maxPoints` points, else at
   * most `maxPoints` buckets (aligned ranges of 2^k steps; first, last, min, max, count each).
   */
  downsampledHistory(runId: string, key: string, options: { readonly maxPoints: number }): Promise<ReadonlyArray<HistoryBucket>>
  /**
   * The same for up to 100 runs in one call (MLflow's get-history-bulk-interval), optionally of the
   * steps startStep..endStep only (inclusive), in the order of `runIds`; a run without the metric
   * has no buckets. More than 100 runs, or an unknown run, is refused. With `asOf`, the histories
   * as they were at that moment, read from the log (the read model holds the present only).
   */
  downsampledHistories(runIds: ReadonlyArray<string>, key: string, options: HistoriesOptions & StepRange): Promise<ReadonlyArray<DownsampledHistory>>
  /**
   * `downsampledHistories` as columns (bucket i is index i of each): what a chart draws, with no
   * object per bucket. With `fields`, only those are sure to be computed: the others may be NaN.
   */
  downsampledHistoryColumns(runIds: ReadonlyArray<string>, key: string, options: HistoriesOptions & HistoryRequest): Promise<ReadonlyArray<DownsampledHistoryColumns>>
  /** Welch's t-test and a bootstrap interval of the difference between two groups of runs. */
  compareGroups(options: Omit<CompareGroupsOptions, "experimentIds"> & { readonly experiments?: ReadonlyArray<string> }): Promise<GroupComparison>
  /**
   * One read-only SELECT over the read model: experiments, runs, params, tags, metrics, latest_metrics,
   * artifacts, models. Stopped after `timeoutMs` (default 60 s).
   */
  sql(query: string, params?: ReadonlyArray<SqlParam>, options?: ReadOnlyOptions): Promise<ReadonlyArray<SqlRow>>
  /** Like `sql`, for results of any size: rows go to `sink` a chunk at a time (it returns false to stop). */
  sqlStream(query: string, params: ReadonlyArray<SqlParam>, options: ReadOnlyOptions, sink: RowSink): Promise<{ readonly columns: ReadonlyArray<string>; readonly rows: number }>
  /** The selected runs as one wide table in Parquet, Arrow IPC or CSV. */
  exportRuns(options: Omit<ExportRunsOptions, "experimentIds"> & { readonly experiments?: ReadonlyArray<string> }): Promise<{ path: string; rows: number; columns: number }>
  /** Drop the read model and fold the whole log into it again. */
  rebuildReadModel(options?: { readonly onProgress?: (position: number, head: number | undefined) => void }): Promise<{ position: number; events: number }>
  /** Bring the read model up to the log now (it also happens before every analytics call). */
  catchUpReadModel(options?: { readonly onProgress?: (position: number, head: number | undefined) => void }): Promise<{ position: number; events: number }>
}

/** How finely to downsample histories (`maxPoints` buckets at most), and of which moment (default: now). */
export interface HistoriesOptions {
  readonly maxPoints: number
  readonly asOf?: AsOf
}

export interface SearchOptions extends Omit<SearchRunsOptions, "experimentIds"> {
  /** Experiment names or ids (as named now); default all. */
  readonly experiments?: ReadonlyArray<string>
  /** Search the store as it was at a log position or time: later runs, metrics and tags are not seen. */
  readonly asOf?: AsOf
}

export const openTracker = async (options: OpenTrackerOptions = {}): Promise<Tracker> => {
  const store = await openStore(storeLocation(options), storeOptions(options))
  let client: TrackerClient
  try {
    client = await makeTrackerClient(trackerFor(store, options))
  } catch (e) {
    await store.close()
    throw e
  }
  // Runs left open when the process ends are ended and written (see exit.ts).
  const unfollow = followAtExit(client, store.location, options.durability ?? "fsync")
  if (store.location.kind === "http") return remoteTracker(client, store, unfollow, storeOptions(options).token)
  // The read model catches up from the very store object the tracker appends through.
  const analytics = lazyAnalytics(store.location.dir, {
    log: store.reader,
    ...(options.readModelMemoryLimit !== undefined ? { memoryLimit: options.readModelMemoryLimit } : {}),
    ...(options.readModelLingerMs !== undefined ? { lingerMs: options.readModelLingerMs } : {}),
    ...(options.readModelProgress !== undefined ? { onProgress: options.readModelProgress } : {})
  })
  /** Names or ids to ids; an unknown one is refused. */
  const experimentIds = async (refs: ReadonlyArray<string> | undefined): Promise<ReadonlyArray<string> | undefined> => {
    if (refs === undefined || refs.length === 0) return undefined
    const all = await client.listExperiments({ viewType: "all" })
    return refs.map((ref) => {
      const e = all.find((x) => x.name === ref) ?? all.find((x) => x.id === ref)
      if (e === undefined) throw new NotFound({ kind: "experiment", id: ref, message: `No experiment named ${JSON.stringify(ref)}. List them with \`runledger experiments\`.` })
      return e.id
    })
  }
  const scoped = async <O extends { readonly experiments?: ReadonlyArray<string> }>(o: O) => {
    const { experiments, ...rest } = o
    const ids = await experimentIds(experiments)
    return { ...rest, ...(ids ? { experimentIds: ids } : {}) }
  }
  const close = client.close.bind(client)
  /**
   * A large store's search: an unfiltered one in the default order from the read model's run
   * listing when it can answer (run-listing.ts), else from the read model, which then leaves a
   * listing for the next. Directory stores only: a DuckDB store has loaded DuckDB to open.
   */
  const searchLarge = async (scope: Awaited<ReturnType<typeof scoped<SearchOptions>>>) => {
    // Where the read model is open already (a server, a lingering one), it answers in milliseconds.
    const file = store.location.kind === "fs" && isListingSearch(scope) && !analytics.isOpen() ? analytics.listingFile() : null
    if (file === null) return analytics.use((a) => a.searchRunIds(scope))
    const listed = await searchRunListing(file, store.reader, scope)
    if (!("notUsed" in listed)) return listed
    return analytics.use(async (a) => {
      const found = await a.searchRunIds(scope)
      const rows = await a.runListing()
      if (rows !== null) await writeRunListing(file, rows)
      return found
    })
  }
  const historyColumns = async (runIds: ReadonlyArray<string>, key: string, o: HistoriesOptions & HistoryRequest): Promise<ReadonlyArray<DownsampledHistoryColumns>> => {
    // The request is checked before the runs are looked up: 101 runs is refused as too many, not as unknown.
    // Loaded here, as the read model is: importing it with this module would load DuckDB with every store.
    const { checkHistoryRequest, historyColumnsOfPoints } = await import("@runledger/readmodel-duckdb")
    const bounds = checkHistoryRequest(runIds, o.maxPoints, o)
    if (o.asOf !== undefined) {
      // A past moment: each run's history as the log held it then (an unknown run is refused by metricHistory).
      const histories = new Map<string, ReadonlyArray<HistoryPoint>>()
      for (const id of new Set(runIds)) histories.set(id, await client.metricHistory(id, key, { asOf: o.asOf }))
      return historyColumnsOfPoints(runIds, key, histories, o.maxPoints, bounds)
    }
    // An unknown id is refused as getRuns refuses it. Only ids the read model lacks are asked of
    // the log: reading a run from its stream decodes every point it has (seconds for 100 long runs).
    return analytics.use((a) => a.metricHistoryColumns(runIds, key, o.maxPoints, o, (unknown) => client.getRuns(unknown)))
  }
  return Object.assign(client, {
    store: { events: store.events, artifacts: store.artifacts },
    downloadArtifacts: (uri: string, dest: string) => downloadArtifacts(client, uri, dest),
    async searchRuns(o: SearchOptions) {
      const { asOf, ...rest } = o
      const scope = await scoped(rest)
      // A small store, or a past moment, is searched in memory (projection-search.ts says why).
      const found = asOf !== undefined || (await store.reader.head()) <= IN_MEMORY_MAX_EVENTS
        ? await searchInMemory(client.effect, scope, asOf)
        : await searchLarge(scope)
      return { runs: await client.getRuns(found.runIds, asOf === undefined ? {} : { asOf }), nextPageToken: found.nextPageToken }
    },
    compareRuns: (ids: ReadonlyArray<string>) => analytics.use((a) => a.compareRuns(ids)),
    rankRuns: async (o: Parameters<Tracker["rankRuns"]>[0]) => {
      const scope = await scoped(o)
      return analytics.use((a) => a.rankRuns(scope))
    },
    async downsampledHistory(runId: string, key: string, o: { readonly maxPoints: number }) {
      await client.getRun(runId)
      const [series] = await analytics.use((a) => a.metricHistoryColumns([runId], key, o.maxPoints))
      return historyOfColumns(series).buckets
    },
    downsampledHistories: async (runIds: ReadonlyArray<string>, key: string, o: HistoriesOptions & StepRange) => (await historyColumns(runIds, key, o)).map(historyOfColumns),
    downsampledHistoryColumns: historyColumns,
    compareGroups: async (o: Parameters<Tracker["compareGroups"]>[0]) => {
      const scope = await scoped(o)
      return analytics.use((a) => a.compareGroups(scope))
    },
    sql: (query: string, params?: ReadonlyArray<SqlParam>, o?: ReadOnlyOptions) => analytics.use((a) => a.sql(query, params ?? [], o)),
    sqlStream: (query: string, params: ReadonlyArray<SqlParam>, o: ReadOnlyOptions, sink: RowSink) => analytics.use((a) => a.sqlStream(query, params, o, sink)),
    exportRuns: async (o: Parameters<Tracker["exportRuns"]>[0]) => {
      const scope = await scoped(o)
      return analytics.use((a) => a.exportRuns(scope))
    },
    async rebuildReadModel(o: { readonly onProgress?: (position: number, head: number | undefined) => void } = {}) {
      const r = await analytics.use((a) => a.rebuild(o.onProgress ? { onProgress: o.onProgress } : {}))
      return { position: r.position, events: r.events }
    },
    async catchUpReadModel(o: { readonly onProgress?: (position: number, head: number | undefined) => void } = {}) {
      const r = await analytics.use((a) => a.catchUp(o.onProgress ? { onProgress: o.onProgress } : {}))
      return { position: r.position, events: r.events }
    },
    async close() {
      unfollow()
      try {
        await close()
      } finally {
        try {
          await analytics.close()
        } finally {
          await store.close()
        }
      }
    }
  })
}
