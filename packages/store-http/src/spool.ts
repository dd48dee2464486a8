/**
 * The spool: appends the server could not take, kept in a local directory until it can.
 *
 * Each append is one file holding the exact body of its `POST /api/runledger/events`, written
 * durably (written to a temp name, fsync'd, renamed, the directory fsync'd), so an awaited call
 * that resolved "durable in the spool" survives a crash of the client. Names sort in the order
 * the appends were made (time, then pid, then a counter), and a push sends them in that order,
 * removing each only after the server answered it. The server's append is idempotent by event id,
 * so a push whose answer was lost (a timeout) and is sent again never duplicates; an append the
 * server refuses for good (a version conflict, bad input) is moved to `rejected/` with the reason
 * beside it, never dropped silently.
 */
import { mkdir, open, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises"
import { homedir, tmpdir } from "node:os"
import { join } from "node:path"

export const REJECTED = "rejected"

/** `~/.runledger/spool/<host_port>` (the OS temp dir when there is no home): per server, so two servers' spools never mix. */
export const defaultSpoolDir = (url: string): string => {
  let hostPort: string
  try {
    const u = new URL(url)
    hostPort = `${u.hostname}_${u.port || (u.protocol === "https:" ? "443" : "80")}`
  } catch {
    hostPort = url
  }
  const home = homedir()
  return join(home !== "" ? join(home, ".runledger") : join(tmpdir(), "runledger"), "spool", hostPort.replace(/[^A-Za-z0-9._-]/g, "_"))
}

let counter = 0
let lastTime = 0

const fsyncDir = async (dir: string) => {
  const handle = await open(dir, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Write one append's body durably; resolves once it is on disk. */
export const spoolAppend = async (dir: string, body: string): Promise<string> => {
  await mkdir(dir, { recursive: true })
  // Never backwards, even if the wall clock is: the names keep the order the appends were made.
  lastTime = Math.max(lastTime, Date.now())
  const name = `${String(lastTime).padStart(15, "0")}-${String(process.pid).padStart(8, "0")}-${String(counter++).padStart(9, "0")}.json`
  const tmp = join(dir, `.${name}.tmp`)
  const handle = await open(tmp, "w")
  try {
    await handle.writeFile(body)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, join(dir, name))
  await fsyncDir(dir)
  return name
}

/** The spooled appends, oldest first (none when the directory does not exist). */
export const spooledFiles = async (dir: string): Promise<string[]> => {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return []
    throw e
  }
  return names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort()
}

export interface PushReport {
  /** Appends the server took now. */
  readonly sent: number
  /** Appends the server already had (an earlier push whose answer was lost, or another pusher). */
  readonly alreadyPresent: number
  /** Appends the server refused for good, moved to `rejected/` with the reason. */
  readonly rejected: ReadonlyArray<{ readonly file: string; readonly reason: string }>
  /** Appends still spooled (the server became unreachable again). */
  readonly remaining: number
  /** Why the push stopped early, when it did. */
  readonly stoppedBy?: string
}

export interface PushTarget {
  /** POST one spooled body; resolves with the log position of its last event. Throws `unreachable` errors to stop. */
  readonly post: (body: string) => Promise<{ readonly position: number }>
  /** The log head before the push: an append answered at or below it was already present. */
  readonly head: () => Promise<number>
  /** Whether an error means "try again later" (the server unreachable), not a refusal. */
  readonly unreachable: (e: unknown) => boolean
}

/** Push every spooled append in order; stops at the first unreachable error and leaves the rest. */
export const pushSpool = async (dir: string, target: PushTarget): Promise<PushReport> => {
  const files = await spooledFiles(dir)
  if (files.length === 0) return { sent: 0, alreadyPresent: 0, rejected: [], remaining: 0 }
  let sent = 0
  let alreadyPresent = 0
  const rejected: Array<{ file: string; reason: string }> = []
  let head: number
  try {
    head = await target.head()
  } catch (e) {
    if (target.unreachable(e)) return { sent, alreadyPresent, rejected, remaining: files.length, stoppedBy: e instanceof Error ? e.message : String(e) }
    throw e
  }
  for (let i = 0; i < files.length; i++) {
    const file = files[i]
    let body: string
    try {
      body = await readFile(join(dir, file), "utf8")
    } catch (e) {
      // Another pusher of the same spool sent and removed it meanwhile.
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue
      throw e
    }
    try {
      const { position } = await target.post(body)
      if (position > head) sent++
      else alreadyPresent++
    } catch (e) {
      if (target.unreachable(e)) return { sent, alreadyPresent, rejected, remaining: files.length - i, stoppedBy: e instanceof Error ? e.message : String(e) }
      const reason = e instanceof Error ? `${(e as { _tag?: string })._tag ?? e.name}: ${e.message}` : String(e)
      await mkdir(join(dir, REJECTED), { recursive: true })
      await writeFile(join(dir, REJECTED, `${file}.reason.txt`), `${reason}\n`)
      await rename(join(dir, file), join(dir, REJECTED, file)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err
      })
      rejected.push({ file, reason })
      continue
    }
    await unlink(join(dir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err
    })
  }
  return { sent, alreadyPresent, rejected, remaining: (await spooledFiles(dir)).length }
}
