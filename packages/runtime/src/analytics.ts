/**
 * The analytics half of a store: the DuckDB read model in `<dir>/readmodel.duckdb` (the store's
 * directory, or the one beside its DuckDB file), shared by every process that asks questions of
 * the store. It catches up from the store object the tracker writes through, never a second one.
 *
 * DuckDB lets one process at a time open a database file (for reading too), so a process holds
 * the read model only while it answers: it is opened for a call, shared by the calls in flight at
 * that moment (in this process, across trackers on the same store), and closed when the last one
 * is done. A process that owns the store (the server) asks for `lingerMs`: the file then stays open
 * that long after its last call, and the next call reuses it instead of opening DuckDB again, which
 * was most of a search's time on a small store. Lingering is off by default because DuckDB's lock
 * is not fair: a process that asks again within the linger (a script polling every 100 ms) would
 * keep the file forever and push every other process to a private copy. The fold's state
 * is loaded from the file on each open, so whichever process caught up last, the next one resumes
 * from the position it recorded: no process folds more than what is new.
 *
 * - Another process holding the file (its catch-up or query) is waited for, retrying with a short
 *   backoff, up to `waitMs`; only after that does this process fold a private in-memory copy
 *   instead, and it says so once.
 * - A damaged file (truncated, empty, garbage, a directory) or one folded from another log is set
 *   aside as `readmodel.duckdb.broken-<time>` and rebuilt from the log, with a line on stderr.
 * - A store this process may not write (read-only media, another user's store) keeps its read
 *   model in `$XDG_CACHE_HOME/runledger/<hash of the store's path>/` (default ~/.cache), or in
 *   memory when that is not writable either; said once.
 */
import type { Analytics, BatchReader, CatchUpOptions, ReadModel } from "@runledger/readmodel-duckdb"
import { createHash } from "node:crypto"
import { accessSync, constants, existsSync, mkdirSync, realpathSync, renameSync, statSync } from "node:fs"
import { homedir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { RUN_LISTING } from "./run-listing.ts"

export const READ_MODEL_FILE = "readmodel.duckdb"

/**
 * DuckDB and the read model's queries are loaded by the first analytics call, not with the store: `show RUN`,
 * `--help` and a training script that never searches do not pay for loading them.
 */
const duckdb = () => import("@runledger/readmodel-duckdb")

export interface AnalyticsHandle {
  /** Run `f` with the read model open; it is closed again once no call needs it. */
  readonly use: <A>(f: (analytics: Analytics) => Promise<A>) => Promise<A>
  /**
   * Where the read model's run listing is kept (run-listing.ts): beside its file, wherever that
   * is. Null while the store does not exist, or when the read model is kept in memory.
   */
  readonly listingFile: () => string | null
  /** Whether the read model is open in this process (in use, or lingering): a query then costs milliseconds. */
  readonly isOpen: () => boolean
  readonly close: () => Promise<void>
}

export interface AnalyticsOptions extends CatchUpOptions {
  /** Told about busy, damaged, foreign or relocated read models. Default: a line on stderr. */
  readonly onNotice?: (line: string) => void
  /** How long to wait for another process to let go of the read model (default 30 s). */
  readonly waitMs?: number
  /** The store's events, read through the object that writes them (the caller opens and closes it). */
  readonly log: BatchReader
  /** DuckDB's memory limit for the read model ("2GB"), when this process opens it. */
  readonly memoryLimit?: string
  /** How long the read model stays open after the last call (default 0: closed at once; a store's owner, such as the server, passes LINGER_MS). */
  readonly lingerMs?: number
}

const DEFAULT_WAIT_MS = 30_000

/**
 * How long a store's owner (the server) keeps its read model open after its last call (see the top
 * of this file). A chart's zoom comes seconds after the chart: one that found the file closed took
 * about 500 ms where one that found it open took 130 (100 runs x 100k steps: DuckDB's open, then
 * its first scan of the points from a cold cache). Another process asking for the file meanwhile
 * waits at most this long.
 */
export const LINGER_MS = 10_000

const writable = (dir: string): boolean => {
  try {
    accessSync(dir, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Where the read model of the store in `dir` lives: beside the log when this process may write
 * there; else in the user's cache directory, one per store (by a hash of its real path); else
 * nowhere on disk (null: in memory). Told to `notice` when not beside the log.
 */
export const readModelLocation = (dir: string, notice: (line: string) => void): string | null => {
  if (writable(dir)) return resolve(join(dir, READ_MODEL_FILE))
  const store = realpathSync(dir)
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "runledger", createHash("sha256").update(store).digest("hex").slice(0, 16))
  try {
    mkdirSync(cache, { recursive: true })
    if (writable(cache)) {
      const file = join(cache, READ_MODEL_FILE)
      notice(`runledger: the store ${store} is not writable by this process; keeping its read model in ${file}.`)
      return file
    }
  } catch {
    // Not creatable either: in memory, below.
  }
  notice(`runledger: neither the store ${store} nor ${cache} is writable by this process; keeping its read model in memory (folded again by each process).`)
  return null
}

interface Lease {
  readonly model: Promise<ReadModel>
  users: number
  /** Why the file must be set aside once the last user lets go (damaged, or folded from another log). */
  setAside?: string
  /** Set while it lingers open with no user (see `lingerMs`). */
  linger?: ReturnType<typeof setTimeout> | undefined
  /** Settles once the last user has closed it. */
  readonly closed: Promise<void>
  readonly settle: () => void
}

// Per process, by file: every handle on the same store shares one open read model (DuckDB
// refuses a second instance of a file within a process too, see file-claims.ts).
const leases = new Map<string, Lease>()
const closing = new Map<string, Promise<void>>()

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Move a damaged or foreign read model (and its write-ahead log) out of the way; returns where to. */
const setAside = (file: string): string => {
  const aside = `${file}.broken-${new Date().toISOString().replaceAll(":", "-")}`
  renameSync(file, aside)
  if (existsSync(`${file}.wal`)) renameSync(`${file}.wal`, `${aside}.wal`)
  return aside
}

// DuckDB's messages for a file that opened but whose blocks turn out to be damaged when read.
const DAMAGE = /Corrupt database file|checksum[^\n]*does not match|Could not read enough bytes/i

/** The damage a failed call ran into, if that is why it failed. */
const damageFoundIn = (file: string, e: unknown): string | undefined => {
  const text = e instanceof Error ? e.message : typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
  const line = text.split("\n").find((l) => DAMAGE.test(l))
  return line === undefined ? undefined : `The read model ${file} is damaged (${line.trim()})`
}

/** How long a file that DuckDB calls invalid is watched for another process still writing it. */
const CREATING_MS = 200

/** A file's size and modification time, to tell whether it changes ("gone" when there is none). */
const lookAt = (file: string): string => {
  try {
    const st = statSync(file)
    return `${st.size}:${st.mtimeMs}`
  } catch {
    return "gone"
  }
}

const openShared = async (file: string, waitMs: number, memoryLimit: string | undefined, notice: (line: string) => void): Promise<ReadModel> => {
  const deadline = Date.now() + waitMs
  let delay = 10
  let setAsideOnce = false
  const { ReadModel, ReadModelBusy, ReadModelDamaged } = await duckdb()
  for (;;) {
    const before = lookAt(file)
    try {
      return await ReadModel.open({ file, ...(memoryLimit !== undefined ? { memoryLimit } : {}) })
    } catch (e) {
      if (e instanceof ReadModelBusy && Date.now() < deadline) {
        await sleep(delay)
        delay = Math.min(delay * 2, 250)
        continue
      }
      if (e instanceof ReadModelDamaged && !setAsideOnce) {
        // Another process may be creating the file this moment (DuckDB writes its headers after
        // creating it): a file that has changed since just before this open, or changes a moment
        // later, is being written, not damaged.
        await sleep(CREATING_MS)
        if (lookAt(file) !== before && Date.now() < deadline) continue
        setAsideOnce = true
        notice(`runledger: ${e.message.split("\n")[0]}. Set it aside as ${setAside(file)}; rebuilding the read model from the log.`)
        continue
      }
      throw e
    }
  }
}

const acquire = async (file: string, open: () => Promise<ReadModel>): Promise<{ lease: Lease; model: ReadModel }> => {
  for (;;) {
    const pending = closing.get(file)
    if (pending !== undefined) {
      await pending
      continue
    }
    let lease = leases.get(file)
    if (lease === undefined) {
      let settle = () => {}
      const closed = new Promise<void>((r) => (settle = r))
      const fresh: Lease = { model: open(), users: 0, closed, settle }
      leases.set(file, fresh)
      fresh.model.catch(() => {
        if (leases.get(file) === fresh) leases.delete(file)
      })
      lease = fresh
    }
    lease.users++
    if (lease.linger !== undefined) {
      clearTimeout(lease.linger)
      lease.linger = undefined
    }
    try {
      return { lease, model: await lease.model }
    } catch (e) {
      lease.users--
      throw e
    }
  }
}

/** No new user joins a lease that is closing or to be set aside: they wait for it to close. */
const retire = (file: string, lease: Lease): void => {
  if (leases.get(file) !== lease) return
  leases.delete(file)
  closing.set(file, lease.closed)
}

/**
 * The last user leaves the file open for LINGER_MS (the timer does not keep the process alive),
 * unless it is to be set aside; then it is closed.
 */
const release = async (file: string, lease: Lease, notice: (line: string) => void, lingerMs: number): Promise<void> => {
  if (--lease.users > 0) return
  if (lease.setAside === undefined && lingerMs > 0 && leases.get(file) === lease) {
    lease.linger = setTimeout(() => {
      lease.linger = undefined
      if (lease.users === 0) shut(file, lease, notice).catch((e) => notice(`runledger: closing the read model ${file} failed: ${e instanceof Error ? e.message : String(e)}`))
    }, lingerMs)
    lease.linger.unref()
    return
  }
  await shut(file, lease, notice)
}

/** Close a lease nobody uses (a lingering one at once: its tracker is closing). */
const closeLingering = async (file: string, notice: (line: string) => void): Promise<void> => {
  const lease = leases.get(file)
  if (lease === undefined || lease.linger === undefined || lease.users > 0) return
  clearTimeout(lease.linger)
  lease.linger = undefined
  await shut(file, lease, notice)
}

/** Close the file (and set it aside when it turned out damaged or another log's). */
const shut = async (file: string, lease: Lease, notice: (line: string) => void): Promise<void> => {
  retire(file, lease)
  try {
    await (await lease.model).close()
    // Another process may have set it aside first.
    if (lease.setAside !== undefined && existsSync(file)) notice(`runledger: ${lease.setAside}. Set it aside as ${setAside(file)}; rebuilding the read model from the log.`)
  } finally {
    lease.settle()
    if (closing.get(file) === lease.closed) closing.delete(file)
  }
}

export const lazyAnalytics = (dir: string, options: AnalyticsOptions): AnalyticsHandle => {
  const { onNotice, waitMs = DEFAULT_WAIT_MS, log: source, memoryLimit, lingerMs = 0, ...catchUp } = options
  const memory = memoryLimit !== undefined ? { memoryLimit } : {}
  const notice = onNotice ?? ((l: string) => process.stderr.write(`${l}\n`))
  let located: string | null | undefined
  /** The fallback when the shared file stayed busy: this process's own, kept until close. */
  let fallback: Promise<ReadModel> | undefined

  const usePrivate = async <A>(f: (analytics: Analytics) => Promise<A>): Promise<A> => {
    const { Analytics } = await duckdb()
    return f(new Analytics(await fallback!, source, catchUp))
  }

  const use = async <A>(f: (analytics: Analytics) => Promise<A>): Promise<A> => {
    const { Analytics, ReadModel, ReadModelBusy, ReadModelForeign } = await duckdb()
    // A store not created yet holds no events (a read creates nothing): answer from an empty
    // in-memory model, and look again at the next call, after a write may have created it.
    if (located === undefined && !existsSync(dir)) {
      const empty = await ReadModel.open({ file: ":memory:", ...memory })
      try {
        return await f(new Analytics(empty, source, catchUp))
      } finally {
        await empty.close()
      }
    }
    if (located === undefined) located = readModelLocation(dir, notice)
    if (located === null) fallback ??= ReadModel.open({ file: ":memory:", ...memory })
    const file = located
    if (fallback !== undefined || file === null) return usePrivate(f)
    for (let attempt = 0; ; attempt++) {
      let held
      try {
        held = await acquire(file, () => openShared(file, waitMs, memoryLimit, notice))
      } catch (e) {
        if (!(e instanceof ReadModelBusy)) throw e
        if (fallback === undefined) {
          notice(`runledger: ${e.message} It stayed busy for ${waitMs / 1000} s; using a private in-memory read model for this process.`)
          fallback = ReadModel.open({ file: ":memory:", ...memory })
        }
        return usePrivate(f)
      }
      try {
        return await f(new Analytics(held.model, source, catchUp))
      } catch (e) {
        const why = attempt > 0 ? undefined : e instanceof ReadModelForeign ? `The read model ${file} was built from another log (${e.why})` : damageFoundIn(file, e)
        if (why === undefined) throw e
        held.lease.setAside ??= why
        retire(file, held.lease)
      } finally {
        await release(file, held.lease, notice, lingerMs)
      }
    }
  }

  return {
    use,
    listingFile: () => {
      if (located === undefined && !existsSync(dir)) return null
      if (located === undefined) located = readModelLocation(dir, notice)
      return located === null ? null : join(dirname(located), RUN_LISTING)
    },
    isOpen: () => fallback !== undefined || (typeof located === "string" && leases.has(located)),
    close: async () => {
      if (typeof located === "string") await closeLingering(located, notice)
      if (fallback !== undefined) await (await fallback).close()
    }
  }
}
