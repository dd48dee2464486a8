/** What the subcommands share: opening the store, finding a run by id, prefix or name, printing. */
import { NotFound, type RunView } from "@runledger/core"
import { type AsOf, type TrackerClient } from "@runledger/tracker"
import { Option } from "effect"
import { Flag } from "effect/cli"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { type OpenTrackerOptions, parseAsOf as parseAsOfText, type Tracker } from "@runledger/runtime"
import { safe } from "../format.ts"
import { progressBar } from "../progress.ts"
import { serverUri, storeDir } from "./root.ts"

/**
 * Text for people on stdout: every line made safe for a terminal (format.ts `safe`: control
 * characters from stored names, tags or params are written as escapes). Idempotent, so text that
 * holds tables (already safe) passes unchanged.
 */
export const out = (text: string): void => {
  process.stdout.write(`${safeLines(text.endsWith("\n") ? text.slice(0, -1) : text)}\n`)
}

/** Text for people on stderr, made safe like `out`. */
export const err = (text: string): void => {
  process.stderr.write(`${safeLines(text.endsWith("\n") ? text.slice(0, -1) : text)}\n`)
}

/** A machine format on stdout, byte for byte (JSON, NDJSON, CSV, SVG): exact, as scripts need it. */
export const outExact = (text: string): void => {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`)
}

const safeLines = (text: string): string => text.split("\n").map(safe).join("\n")

/** Lift a Promise; its rejection (a tagged tracker error, usually) becomes the command's failure. */
export const task = <A>(f: () => Promise<A>): Effect.Effect<A, unknown> => Effect.tryPromise({ try: f, catch: (e) => e })

/** Reads need an existing store: a mistyped --dir must not quietly create an empty one. */
export const requireStore = (dir: string): Effect.Effect<void, unknown> =>
  existsSync(join(dir, "events.log"))
    ? Effect.void
    : Effect.fail(new NotFound({ kind: "store", id: dir, message: `No runledger store in ${dir}. Run \`runledger demo\` to make one, or pass --dir (or set RUNLEDGER_DIR).` }))

/** Run `f` with a tracker on this invocation's store, closing it afterwards. */
export const withTracker = <A>(f: (tracker: Tracker, dir: string) => Promise<A>, options: { readonly create?: boolean; readonly open?: Omit<OpenTrackerOptions, "dir"> } = {}) =>
  Effect.gen(function*() {
    const uri = yield* serverUri
    // Through a server (--uri): `dir` is its URL, for the messages that name the store.
    const dir = uri ?? (yield* storeDir)
    if (!options.create && uri === undefined) yield* requireStore(dir)
    return yield* Effect.acquireUseRelease(
      // Imported when the command runs, not at start: a CLI start loads only what the chosen command needs (issue 11).
      task(async () => (await import("@runledger/runtime")).openTracker(uri !== undefined ? { ...options.open, uri } : { ...options.open, dir })),
      (tracker) => task(() => f(tracker, dir)),
      (tracker) => Effect.promise(() => tracker.close().catch(() => {}))
    )
  })

/** A run named by its full id, a unique id prefix (4+ characters) or its exact name: the tracker's getRun resolves all three. */
export const resolveRun = (tracker: TrackerClient, ref: string, asOf?: AsOf): Promise<RunView> => tracker.getRun(ref, asOf ? { asOf } : {})

export const asOfFlag = Flag.String("as-of").pipe(
  Flag.withDescription("Show the state as it was then: a log position (a whole number) or a time (e.g. 2026-11-16 or 2026-11-16T09:30)"),
  Flag.optional
)

/** `--as-of`: digits are a log position; anything else must parse as a date and time. */
export const parseAsOf = (flag: Option.Option<string>): AsOf | undefined => (Option.isNone(flag) ? undefined : parseAsOfText(flag.value, "--as-of"))

export const viewFlag = Flag.Literals("view", ["active", "deleted", "all"]).pipe(
  Flag.withDescription("Which to list: active (default), deleted, or all"),
  Flag.withDefault("active" as const)
)

/**
 * Run `f` (the analytics commands) with a progress bar for the read model's catch-up, drawn while
 * whichever call needs the read model brings it up to the log. Not caught up first: a small store's
 * search (`runs --filter`) is answered in memory and never loads DuckDB (a server's read model is
 * the server's to keep up, and it reports no progress here).
 */
export const withAnalytics = <A>(f: (tracker: Tracker, dir: string) => Promise<A>, open: Omit<OpenTrackerOptions, "dir"> = {}) => {
  const bar = progressBar("catching up the read model")
  return withTracker(async (tracker, dir) => {
    try {
      return await f(tracker, dir)
    } finally {
      bar.done()
    }
  }, { open: { ...open, readModelProgress: (position, head) => bar.update(position, head) } })
}

/** Repeatable `--experiment` values (names or ids). */
export const experimentsFlag = Flag.String("experiment").pipe(
  Flag.withAlias("e"),
  Flag.withDescription("Only runs of this experiment (name or id; repeatable)"),
  Flag.atLeast(0)
)
