/**
 * A cross-process lock on a directory, so that several processes (a sweep's workers, the CLI) can
 * append to one log: each append checks stream versions and writes while holding it.
 *
 * Node has no flock, so the lock is a file that names its holder: `{ pid, host, nonce, at }`. It is
 * written in full to a private temporary file first and then linked into place (link fails when
 * the name exists), so the lock is never seen empty and a failed attempt (a full disk) leaves no
 * lock file behind. (Where the file system has no hard links, it is created in place instead.)
 *
 * The lease policy (README, "Where the data lives"):
 * - The holder renews its lease every RENEW_MS (it touches the lock file's mtime) for as long as it
 *   holds the lock.
 * - A lock of this host is stale as soon as its pid is gone (or was reused by a process that
 *   started after the lock was taken): the kernel says so exactly, so a live holder on this host
 *   is never broken, however long it holds the lock.
 * - A lock of another host (no pid check can reach it), or one whose content is not a runledger
 *   lock (garbage, empty), is stale once its lease has not been renewed for LEASE_MS.
 *
 * Breaking a stale lock is atomic. Several waiters may judge the same lock stale at once, and a
 * break that moved whatever is at the lock's name could move a lock a quicker waiter had just
 * taken. So a breaker first claims the break of that very lock (a file named after its nonce,
 * created exclusively: one winner), checks the lock is still the one it judged, and only then
 * moves it aside. Nonces never repeat, so a late breaker that claims a lock already broken finds
 * another lock in its place and backs off. A claim whose breaker died is itself judged by the same
 * rules, and the next claim slot is used.
 *
 * Bursts (see FsEventLog): a writer may keep the lock across appends that follow each other
 * closely, and gives it up once idle. So that it never keeps others out for long, a waiter says it
 * waits by touching a mark beside the lock (`events.lock.waiting`) on every try, and removes it
 * once it has the lock; a holder that sees it touched lately lets go after its append and stands
 * back (YIELD_MS at most) until the waiter has taken the lock. Before an append under
 * a lock kept from earlier, the holder checks the lock is still its own file (`stillMine`): a lock
 * broken or replaced meanwhile is dropped without touching it, and taken anew.
 */
import { randomBytes } from "node:crypto"
import { closeSync, fstatSync, futimes, linkSync, openSync, promises as fs, statSync, unlinkSync, utimesSync, writeSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { HOST, isProcessGone } from "./process.ts"

interface Holder {
  readonly pid: number
  readonly host: string
  readonly nonce: string
  readonly at: number
}

/** How often a holder renews its lease. */
export const RENEW_MS = 5_000
/** How long a lease lasts without renewal, for locks whose holder no pid check can reach. */
export const LEASE_MS = 30_000
/**
 * A waiter's mark counts this long after its last touch. Waiters touch it on every try (at most
 * about 40 ms apart, see `acquire`); the margin covers file systems whose times are coarse.
 */
const WAITING_FRESH_MS = 250
/**
 * A holder that let go because someone waits stands back this long at most before it takes the
 * lock again (until the waiter has taken it, which removes the mark): a waiter sleeps between
 * tries, and without this the holder's next append would take the lock back every time.
 */
const YIELD_MS = 60

/** Nonces of the locks this process holds (two logs in one process must not break each other's). */
const heldHere = new Set<string>()

const isHolder = (v: unknown): v is Holder => {
  const h = v as Holder
  return typeof v === "object" && v !== null && Number.isInteger(h.pid) && h.pid > 0 && typeof h.host === "string" && typeof h.nonce === "string" &&
    h.nonce.length > 0 && typeof h.at === "number"
}

interface Seen {
  /** null: the content is not a runledger lock. */
  readonly holder: Holder | null
  readonly mtimeMs: number
  /** What identifies this very file: its nonce, else its inode, size and mtime. */
  readonly key: string
}

const look = async (path: string): Promise<Seen | null> => {
  let fh: fs.FileHandle
  try {
    fh = await fs.open(path, "r")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null
    throw e
  }
  try {
    // One handle for both: the content and the times are of the same file.
    const [stat, text] = await Promise.all([fh.stat(), fh.readFile("utf8")])
    let holder: Holder | null = null
    try {
      const parsed: unknown = JSON.parse(text)
      if (isHolder(parsed)) holder = parsed
    } catch {
      holder = null
    }
    const key = holder !== null ? holder.nonce.replace(/[^A-Za-z0-9]/g, "_").slice(0, 64) : `ino${stat.ino}-${stat.size}-${Math.round(stat.mtimeMs)}`
    return { holder, mtimeMs: stat.mtimeMs, key }
  } finally {
    await fh.close()
  }
}

/** Stale per the lease policy above; `why` says why, for messages. */
const judge = (seen: Seen, now: number): { stale: boolean; why: string } => {
  const age = Math.max(0, Math.round((now - seen.mtimeMs) / 1000))
  const expired = now - seen.mtimeMs > LEASE_MS
  const lease = `last renewed ${age} s ago; a lease not renewed for ${LEASE_MS / 1000} s expires`
  const h = seen.holder
  if (h === null) return { stale: expired, why: `a file whose content is not a runledger lock (${lease})` }
  if (h.host !== HOST) return { stale: expired, why: `pid ${h.pid} on host ${h.host}, which this host cannot check (${lease})` }
  if (h.pid === process.pid) return { stale: !heldHere.has(h.nonce), why: `this process (pid ${h.pid})` }
  return { stale: isProcessGone({ host: h.host, pid: h.pid, since: h.at }), why: `pid ${h.pid} on this host (${h.host}), which is running` }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const unlinkQuietly = (path: string) => fs.unlink(path).catch(() => {})

/**
 * Random once per process: with a counter it makes every nonce and temporary name unique (see
 * `unique`). Drawn at the first lock, not at load: a command that only reads loads no crypto.
 */
let processToken: string | undefined
let issued = 0

/**
 * A fresh lowercase-hex token, never repeated: this process's random token and a counter. Every
 * append takes the lock with a new nonce and temporary name, and drawing random bytes for each
 * (two calls into the crypto module) cost more than the rest of taking the lock.
 */
const unique = (): string => `${(processToken ??= randomBytes(8).toString("hex"))}${(issued++).toString(16)}`

/**
 * Create `path` holding `content`, only if no file has that name. Written to a temporary file and
 * linked into place: the file appears whole or not at all. Returns the open file descriptor (for
 * lease renewals), or null when the name is taken.
 *
 * Synchronous on purpose: every append takes and releases the lock, and these are a handful of
 * metadata calls of microseconds each on a local disk, while each asynchronous call costs a round
 * trip through libuv's thread pool (tens to hundreds of microseconds on a busy machine). With
 * small awaited batches those round trips, not the writing, were most of an append's time.
 */
const createExclusive = (path: string, content: string): number | null => {
  const temp = `${path}.${unique()}.tmp`
  const fd = openSync(temp, "wx")
  try {
    writeAllSync(fd, content)
    linkSync(temp, path)
    return fd
  } catch (e) {
    closeSync(fd)
    const code = (e as NodeJS.ErrnoException).code
    if (code === "EEXIST") return null
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS") return createInPlace(path, content)
    throw e
  } finally {
    unlinkSyncQuietly(temp)
  }
}

const writeAllSync = (fd: number, content: string): void => {
  const bytes = Buffer.from(content)
  let at = 0
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at)
}

/** Set a file's times to now, creating it empty if missing; false when neither works (a read-only store). */
const touch = (path: string): boolean => {
  const now = new Date()
  try {
    utimesSync(path, now, now)
    return true
  } catch {
    try {
      closeSync(openSync(path, "a"))
      return true
    } catch {
      return false
    }
  }
}

const unlinkSyncQuietly = (path: string): void => {
  try {
    unlinkSync(path)
  } catch {
    // Already gone, or never made: nothing to remove.
  }
}

/**
 * For file systems without hard links (FAT, some network and container mounts): create the name
 * exclusively and write into it. It is empty for an instant (judged as unreadable content, so it is
 * never taken for abandoned within its lease), and a failed write removes it.
 */
const createInPlace = (path: string, content: string): number | null => {
  let fd: number
  try {
    fd = openSync(path, "wx")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return null
    throw e
  }
  try {
    writeAllSync(fd, content)
    return fd
  } catch (e) {
    closeSync(fd)
    unlinkSyncQuietly(path)
    throw e
  }
}

/** Locks held in this process: let go when it exits (a kept lock may outlive the last append by a moment). */
const heldLocks = new Set<DirectoryLock>()
let exitHooked = false
const releaseAtExit = () => {
  for (const lock of heldLocks) {
    try {
      lock.releaseSync()
    } catch {
      // Exiting anyway: a lock left behind names this process, which is gone, so it is stale at once.
    }
  }
}

export class DirectoryLock {
  private readonly path: string
  private readonly waiting: string
  private readonly timeoutMs: number
  private readonly renewMs: number
  /** Until when the next `acquire` stands back for a waiter (see YIELD_MS). */
  private yieldUntil = 0
  /** `size`: the bytes written into the lock, part of telling our file from one put in its place. */
  private held: { nonce: string; fd: number; renew: NodeJS.Timeout; ino: number; dev: number; size: number } | null = null

  /** `renewMs`: how often the lease is renewed (RENEW_MS; shorter only in tests). */
  constructor(path: string, timeoutMs = 60_000, renewMs = RENEW_MS) {
    this.path = path
    this.waiting = `${path}.waiting`
    this.timeoutMs = timeoutMs
    this.renewMs = renewMs
  }

  get isHeld(): boolean {
    return this.held !== null
  }

  async acquire(): Promise<void> {
    while (Date.now() < this.yieldUntil && this.othersWaiting()) await sleep(1)
    this.yieldUntil = 0
    const started = Date.now()
    let wait = 1
    let waited = false
    for (;;) {
      const nonce = unique()
      const content = JSON.stringify({ pid: process.pid, host: HOST, nonce, at: Date.now() } satisfies Holder)
      let fd: number | null
      try {
        fd = createExclusive(this.path, content)
      } catch (e) {
        if (waited) unlinkSyncQuietly(this.waiting)
        const code = (e as NodeJS.ErrnoException).code
        throw new Error(`Cannot take the store's lock ${this.path}: ${code ?? ""} ${e instanceof Error ? e.message : String(e)}. Nothing was written.${code === "ENOSPC" ? " The disk is full: free some space and retry." : ""}`.replace(/ {2,}/g, " "))
      }
      if (fd !== null) {
        // Others still waiting touch the mark again on their next try.
        if (waited) unlinkSyncQuietly(this.waiting)
        heldHere.add(nonce)
        // The lease: touch the lock's mtime while held, through our own descriptor (so a lock that
        // replaced ours is never touched). unref: a held lock alone does not keep Node alive.
        const renew = setInterval(() => {
          const now = new Date()
          futimes(fd, now, now, () => {})
        }, this.renewMs)
        renew.unref()
        const { ino, dev } = fstatSync(fd)
        this.held = { nonce, fd, renew, ino, dev, size: Buffer.byteLength(content) }
        heldLocks.add(this)
        if (!exitHooked) {
          exitHooked = true
          // First among exit listeners: process.exit() hands queued events to a child process
          // (packages/runtime exit.ts), which must find the lock free.
          process.prependOnceListener("exit", releaseAtExit)
        }
        return
      }
      const seen = await look(this.path)
      if (seen === null) continue
      const verdict = judge(seen, Date.now())
      if (verdict.stale) {
        await this.breakStale(seen)
        continue
      }
      if (Date.now() - started > this.timeoutMs) {
        if (waited) unlinkSyncQuietly(this.waiting)
        throw new Error(
          `The store's lock ${this.path} is held by ${verdict.why}; waited ${+(this.timeoutMs / 1000).toFixed(1)} s for it. A lock of a live process on this host is never broken; if no runledger process is using the store, delete that file.`
        )
      }
      // Tell a holder that keeps the lock across appends that someone waits (see the header).
      waited = touch(this.waiting) || waited
      await sleep(wait + Math.random() * wait)
      wait = Math.min(wait * 2, 20)
    }
  }

  /**
   * Whether the lock this process holds is still its own file at the lock's name: not broken,
   * removed or overwritten since it was taken. One stat. A lock that is not is dropped here,
   * without touching what is at its name now.
   */
  stillMine(): boolean {
    const held = this.held
    if (held === null) return false
    const there = statSync(this.path, { throwIfNoEntry: false })
    if (there !== undefined && there.ino === held.ino && there.dev === held.dev && there.size === held.size) return true
    this.forget(held)
    return false
  }

  /** Whether another writer has said lately that it waits for this lock. One stat. */
  othersWaiting(): boolean {
    const mark = statSync(this.waiting, { throwIfNoEntry: false })
    return mark !== undefined && Date.now() - mark.mtimeMs < WAITING_FRESH_MS
  }

  /** `toWaiter`: let go because another writer waits; the next `acquire` stands back for it (YIELD_MS). */
  async release(toWaiter = false): Promise<void> {
    if (toWaiter && this.held !== null) this.yieldUntil = Date.now() + YIELD_MS
    this.releaseSync()
  }

  /** Synchronous for the reason createExclusive gives, and so that it can run as the process exits. */
  releaseSync(): void {
    const held = this.held
    if (held === null) return
    try {
      // Remove the name only while it is still our file (it always is, unless our lease was broken).
      const there = statSync(this.path, { throwIfNoEntry: false })
      if (there !== undefined && there.ino === held.ino && there.dev === held.dev && there.size === held.size) unlinkSyncQuietly(this.path)
    } finally {
      this.forget(held)
    }
  }

  private forget(held: NonNullable<DirectoryLock["held"]>): void {
    this.held = null
    heldLocks.delete(this)
    clearInterval(held.renew)
    heldHere.delete(held.nonce)
    closeSync(held.fd)
  }

  /**
   * Remove what a process killed mid-acquire or mid-break leaves beside the lock: its temporary
   * file, a break claim, a lock moved aside, a waiter's mark (empty: it goes once 30 s old). Each names its maker like a lock does, so each is
   * judged like one: only the leftovers of dead (or lease-expired) makers go. Returns how many.
   */
  async sweep(): Promise<number> {
    const dir = dirname(this.path)
    const prefix = `${basename(this.path)}.`
    let removed = 0
    for (const name of await fs.readdir(dir)) {
      if (!name.startsWith(prefix) || !/^(?:[0-9a-f]+\.tmp|break-.+|stale-[0-9a-f]+|waiting)$/.test(name.slice(prefix.length))) continue
      const path = join(dir, name)
      const seen = await look(path).catch(() => null)
      if (seen === null || !judge(seen, Date.now()).stale) continue
      await fs.unlink(path).then(() => removed++, () => {})
    }
    return removed
  }

  /** Remove the lock `judged` (seen stale) if it is still in place; see the header for why this way. */
  private async breakStale(judged: Seen): Promise<void> {
    for (let slot = 0; ; slot++) {
      const claim = `${this.path}.break-${judged.key}-${slot}`
      let fd: number | null
      try {
        fd = createExclusive(claim, JSON.stringify({ pid: process.pid, host: HOST, nonce: unique(), at: Date.now() } satisfies Holder))
      } catch {
        return // Cannot even claim (a full or read-only disk): the caller waits and tries again.
      }
      if (fd === null) {
        const other = await look(claim)
        // Another breaker of this lock is at work, or was and is done: wait and look again.
        if (other === null || !judge(other, Date.now()).stale) return
        continue // That breaker died mid-break: take the next slot.
      }
      try {
        closeSync(fd)
        const now = await look(this.path)
        if (now === null || now.key !== judged.key) return // Already broken (and maybe taken anew).
        const aside = `${this.path}.stale-${unique()}`
        try {
          await fs.rename(this.path, aside)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return
          throw e
        }
        const moved = await look(aside)
        // Only a holder past its lease that released in this instant can make this differ: give its successor's lock back.
        if (moved !== null && moved.key !== judged.key) await fs.link(aside, this.path).catch(() => {})
        await unlinkQuietly(aside)
        return
      } finally {
        // Claims of earlier slots belonged to breakers that died; this lock is gone, so they go too.
        for (let s = 0; s <= slot; s++) await unlinkQuietly(`${this.path}.break-${judged.key}-${s}`)
      }
    }
  }
}
