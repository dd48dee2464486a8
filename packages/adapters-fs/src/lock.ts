/**
 * A cross-process lock on a directory, so that several processes (a sweep's workers, the CLI) can
 * append to one log: each append checks stream versions and writes while holding it.
 *
 * Node has no flock, so the lock is a file created with O_EXCL that names its holder. A holder that
 * died (its pid is gone on this host) leaves a stale lock, which the next taker breaks: it renames
 * the file aside, checks it took the very lock it judged stale, and puts it back otherwise.
 */
import { randomBytes } from "node:crypto"
import { promises as fs } from "node:fs"
import { hostname } from "node:os"

interface Holder {
  readonly pid: number
  readonly host: string
  readonly nonce: string
  readonly at: number
}

const HOST = hostname()

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const readHolder = async (path: string): Promise<{ holder: Holder | null; mtimeMs: number } | null> => {
  try {
    const [text, stat] = await Promise.all([fs.readFile(path, "utf8"), fs.stat(path)])
    try {
      return { holder: JSON.parse(text) as Holder, mtimeMs: stat.mtimeMs }
    } catch {
      return { holder: null, mtimeMs: stat.mtimeMs }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null
    throw e
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** How long a lock file without a readable holder may exist before it counts as left by a crash. */
const UNREADABLE_GRACE_MS = 5_000

export class DirectoryLock {
  private readonly path: string
  private readonly timeoutMs: number
  private nonce: string | null = null

  constructor(path: string, timeoutMs = 60_000) {
    this.path = path
    this.timeoutMs = timeoutMs
  }

  async acquire(): Promise<void> {
    const started = Date.now()
    let wait = 1
    for (;;) {
      const nonce = randomBytes(8).toString("hex")
      try {
        const fh = await fs.open(this.path, "wx")
        try {
          await fh.writeFile(JSON.stringify({ pid: process.pid, host: HOST, nonce, at: Date.now() } satisfies Holder))
        } finally {
          await fh.close()
        }
        this.nonce = nonce
        return
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
      const seen = await readHolder(this.path)
      if (seen !== null && this.isStale(seen.holder, seen.mtimeMs)) {
        await this.breakStale(seen.holder)
        continue
      }
      if (Date.now() - started > this.timeoutMs) {
        const who = seen?.holder ? `pid ${seen.holder.pid} on ${seen.holder.host}` : "an unknown process"
        throw new Error(`The store's lock ${this.path} has been held by ${who} for over ${Math.round(this.timeoutMs / 1000)} s. If no runledger process is running, delete that file.`)
      }
      await sleep(wait + Math.random() * wait)
      wait = Math.min(wait * 2, 20)
    }
  }

  async release(): Promise<void> {
    if (this.nonce === null) return
    this.nonce = null
    await fs.unlink(this.path).catch(() => {})
  }

  private isStale(holder: Holder | null, mtimeMs: number): boolean {
    if (holder === null) return Date.now() - mtimeMs > UNREADABLE_GRACE_MS
    return holder.host === HOST && !alive(holder.pid)
  }

  private async breakStale(judged: Holder | null): Promise<void> {
    const aside = `${this.path}.stale-${randomBytes(6).toString("hex")}`
    try {
      await fs.rename(this.path, aside)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return
      throw e
    }
    const took = await readHolder(aside)
    const same = took !== null && (judged === null ? took.holder === null : took.holder?.nonce === judged.nonce)
    if (!same) {
      // Between our look and the rename, someone took the lock anew: give it back.
      await fs.link(aside, this.path).catch(() => {})
    }
    await fs.unlink(aside).catch(() => {})
  }
}
