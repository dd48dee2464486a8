/**
 * The runs of a large directory store in a search's default order (latest start first), kept
 * beside the read model (`readmodel-runs.jsonl`, next to `readmodel.duckdb`), so that `runledger
 * runs --max N` and any unfiltered search list a 100k-run store's latest runs without loading
 * DuckDB (issue 11: its load and open cost such a command more than everything else together).
 *
 * It is a cache of the read model, never a source of truth, written when the read model answers a
 * search the listing could not. It says where in which log it was read: the position and the id of
 * the event there. Before it is used, its digest is checked and that event compared with the log's
 * (as the read model checks its own), and the events after it are folded over it. Any doubt (no
 * file, altered bytes, another log, a shorter one, a tail too long or with an event it does not
 * fold) and the search goes to the read model instead, which writes a new listing. So the answer is
 * always the read model's, page tokens included (test/analytics.test.ts, "the run listing";
 * test/slow/run-listing-cli.test.ts).
 *
 * Layout: lines of JSON. The first is the header (ListingHeader); then one line per run,
 * `[startTime, runId, experiment, deleted]` (the index of its experiment in the header; 0 or 1),
 * in the default order; then the hex sha256 of every line before it. Lines are decoded only as far
 * as a page needs.
 */
import { EXPERIMENTS_STREAM, type RecordedEvent, runIdOfStream } from "@runledger/core"
import type { BatchReader, SearchRunsOptions } from "@runledger/readmodel-duckdb"
import { compileSearch } from "@runledger/readmodel-duckdb/search"
import { type RunView, toComparator } from "@runledger/search-syntax"
import { writeWholeFile } from "@runledger/store-fs"
import { createHash } from "node:crypto"
import { promises as fs } from "node:fs"

export const RUN_LISTING = "readmodel-runs.jsonl"
const MAGIC = "runledger-run-listing1"
const NEWLINE = 0x0a

/**
 * The most events after the listing's position that a search folds over it. A longer tail goes to
 * the read model, which writes a listing at its own position: the fold reads every event of the
 * tail (points included), and past this many the read model's catch-up is the better use of them.
 */
export const LISTING_TAIL_MAX = 10_000

export interface ListingHeader {
  readonly magic: string
  /** The log position folded in, and the id of the event there: which log, and where in it. */
  readonly position: number
  readonly lastEventId: string
  /** Every experiment's id and whether it is deleted; a run's line names its experiment by index here. */
  readonly experiments: ReadonlyArray<readonly [id: string, deleted: boolean]>
}

/** One run as listed: what the default order and a scope read of it. */
type ListedRun = readonly [startTime: number, runId: string, experimentId: string, deleted: boolean]

/** What the read model hands over (Analytics.runListing): the header's fields, and the runs' lines as the layout has them. */
export interface ListingRows {
  readonly position: number
  readonly lastEventId: string
  readonly experiments: ReadonlyArray<readonly [id: string, deleted: boolean]>
  readonly lines: string
}

export const encodeListing = (rows: ListingRows): Buffer => {
  const header: ListingHeader = { magic: MAGIC, position: rows.position, lastEventId: rows.lastEventId, experiments: rows.experiments }
  const body = `${JSON.stringify(header)}\n${rows.lines === "" ? "" : `${rows.lines}\n`}`
  return Buffer.from(`${body}${createHash("sha256").update(body).digest("hex")}\n`)
}

/**
 * Write the listing whole or not at all (a crash leaves the old one or none). A failure (a full
 * disk) costs the next search its speed, nothing else: it goes to the read model again.
 */
export const writeRunListing = (file: string, rows: ListingRows): Promise<void> => writeWholeFile(file, encodeListing(rows)).catch(() => {})

/** Why the listing did not answer (for tests and for deciding to write a new one), or the page. */
export type Listed = { readonly runIds: string[]; readonly nextPageToken: string | null } | { readonly notUsed: string }

/** Whether a search is one the listing answers: no filter and the default order, any scope and page. */
export const isListingSearch = (options: SearchRunsOptions): boolean => (options.filter ?? "").trim() === "" && (options.orderBy ?? []).length === 0

/** A run as the search's comparator reads it: only its start and id decide the default order. */
const viewOf = (r: ListedRun): RunView => ({ id: r[1], experimentId: r[2], name: "", status: "RUNNING", startTime: r[0], endTime: null, params: {}, tags: {}, metrics: {} })

/**
 * One page of an unfiltered search in the default order, from the listing and the log's events
 * after it, exactly as the read model's searchRunIds would give it; or why it could not.
 */
export const searchRunListing = async (file: string, log: BatchReader, options: SearchRunsOptions, tailMax = LISTING_TAIL_MAX): Promise<Listed> => {
  const compiled = compileSearch(options)
  if (!isListingSearch(options)) return { notUsed: "the search has a filter or an order" }
  const bytes = await fs.readFile(file).catch(() => null)
  if (bytes === null) return { notUsed: "there is no listing" }
  // Lines are decoded one by one, only as far as the page needs (a 100k-run listing is megabytes).
  let at = bytes.indexOf(NEWLINE)
  const header = parseHeader(bytes.toString("utf8", 0, Math.max(0, at)))
  if (header === undefined) return { notUsed: "it is of another layout, or damaged" }
  // Where it stands in the log, before its digest is worked out (megabytes): a listing too far behind is not read.
  const head = await log.head()
  if (head < header.position) return { notUsed: `it stands at position ${header.position}, and the log has ${head} events` }
  if (head - header.position > tailMax) return { notUsed: `the log has ${head - header.position} events after it` }
  const digestAt = bytes.lastIndexOf(NEWLINE, bytes.length - 2) + 1
  const digest = createHash("sha256").update(bytes.subarray(0, digestAt)).digest("hex")
  if (digestAt === 0 || bytes[bytes.length - 1] !== NEWLINE || bytes.toString("latin1", digestAt, bytes.length - 1) !== digest) return { notUsed: "its digest does not match its bytes" }

  // The log it was read from, up to its position, and the events since.
  const deleted = new Map<string, boolean>()
  const experiments = new Map(header.experiments)
  const started: ListedRun[] = []
  for await (const batch of log.readAll(header.position - 1)) {
    for (const e of batch) {
      if (e.position === header.position) {
        if (e.id !== header.lastEventId) return { notUsed: `it is a listing of another log (its event ${e.position} differs)` }
        continue
      }
      const why = fold(e, experiments, deleted, started)
      if (why !== undefined) return { notUsed: why }
    }
  }

  // The runs started since, in order, merged into the listed ones; each taken if in scope.
  const order = toComparator(compiled.orderBy)
  started.sort((a, b) => order(viewOf(a), viewOf(b)))
  const scope = options.experimentIds !== undefined && options.experimentIds.length > 0 ? new Set(options.experimentIds) : undefined
  const viewType = options.viewType ?? "active"
  const want = compiled.offset + compiled.limit + 1
  const matched: string[] = []
  const take = (r: ListedRun) => {
    if (scope !== undefined && !scope.has(r[2])) return
    const experimentDeleted = experiments.get(r[2])
    if (experimentDeleted === undefined) return
    const live = !(deleted.get(r[1]) ?? r[3]) && !experimentDeleted
    if (viewType === "active" ? live : viewType === "deleted" ? !live : true) matched.push(r[1])
  }
  let next = 0
  for (at += 1; at < digestAt && matched.length < want; ) {
    const end = bytes.indexOf(NEWLINE, at)
    const [start, id, experiment, gone] = JSON.parse(bytes.toString("utf8", at, end)) as [number, string, number, number]
    at = end + 1
    const listed: ListedRun = [start, id, header.experiments[experiment][0], gone === 1]
    while (next < started.length && order(viewOf(started[next]), viewOf(listed)) < 0) take(started[next++])
    take(listed)
  }
  while (next < started.length && matched.length < want) take(started[next++])
  return { runIds: matched.slice(compiled.offset, compiled.offset + compiled.limit), nextPageToken: compiled.nextToken(matched.length > compiled.offset + compiled.limit) }
}

/** The header, if the first line is one of this layout (it is checked against the digest later). */
const parseHeader = (line: string): ListingHeader | undefined => {
  try {
    const h = JSON.parse(line) as Partial<ListingHeader> | null
    return h !== null && h.magic === MAGIC && Number.isSafeInteger(h.position) && typeof h.lastEventId === "string" && Array.isArray(h.experiments) ? (h as ListingHeader) : undefined
  } catch {
    return undefined
  }
}

/** Events that change nothing a listing holds: a run's values, its end, the registry's. */
const UNLISTED = new Set([
  "ExperimentRenamed", "ExperimentTagsSet", "ParamsLogged", "MetricsLogged", "TagsSet", "TagDeleted", "RunRenamed", "ArtifactStored", "InputLogged", "RunEnded", "RunResumed", "RunHeartbeat",
  "ModelRegistered", "ModelVersionCreated", "StagePromoted", "AliasSet", "AliasDeleted", "ModelDescribed", "ModelVersionDescribed", "ModelDeleted", "ModelRenameClaimed", "ModelRenamed", "ModelRenameAbandoned"
])

/**
 * Fold one event of the tail as the read model's catch-up does (ingest.ts): runs from their
 * streams, experiments from theirs. Why not, for an event it does not fold.
 */
const fold = (e: RecordedEvent, experiments: Map<string, boolean>, deleted: Map<string, boolean>, started: ListedRun[]): string | undefined => {
  const runId = runIdOfStream(e.stream)
  switch (e.type) {
    case "RunStarted":
      // A run started again (its stream's first event is not this one) is listed already: the read model's to answer.
      if (runId === undefined || e.version !== 1) return `the log starts run ${e.stream} again at ${e.position}`
      deleted.delete(runId)
      started.push([e.at, runId, e.data.experimentId, false])
      return undefined
    case "RunDeleted":
    case "RunRestored":
      if (runId !== undefined) deleted.set(runId, e.type === "RunDeleted")
      return undefined
    case "ExperimentCreated":
    case "ExperimentForked":
    case "ExperimentRestored":
      if (e.stream === EXPERIMENTS_STREAM) experiments.set(e.data.experimentId, false)
      return undefined
    case "ExperimentDeleted":
      if (e.stream === EXPERIMENTS_STREAM) experiments.set(e.data.experimentId, true)
      return undefined
    default:
      return UNLISTED.has(e.type) ? undefined : `the log has an event the listing does not fold (${e.type} at ${e.position})`
  }
}
