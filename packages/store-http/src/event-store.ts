/**
 * The EventStore port over a runledger server (API-CONTRACT.md, "Events"). The server's store
 * judges every append (expected versions, idempotent ids), so the unchanged tracker runs here, in
 * the client, with the same rules as over a directory.
 *
 * While the server is unreachable (connection refused or reset, a timeout, 503), appends go to
 * the spool (spool.ts) and resolve once durable there; a background push with exponential backoff
 * (capped at 30 s) sends them in order when the server is back. Appends made while anything is
 * spooled are spooled behind it, so a stream's appends reach the server in the order they were
 * made. Reads need the server: they first push what is spooled, and fail with a StorageError that
 * says where the spool is when it cannot be pushed.
 */
import { type AppendResult, type ExpectedVersion, type NewEvent, type RecordedEvent, StorageError } from "@runledger/core"
import { type AsyncEventLog, decodeEventValue, encodeEvent, Serial } from "@runledger/core/store-kit"
import type { Event } from "@runledger/core"
import { send, sendJson, type ServerOptions, Unreachable } from "./request.ts"
import { type PushReport, pushSpool, spoolAppend, spooledFiles } from "./spool.ts"

export const NATIVE = "/api/runledger"

/** The JSON body of `POST /api/runledger/events`: each draft as the codec encodes it (stream and version are the store's to set). */
export const appendBody = (stream: string, events: ReadonlyArray<NewEvent>, expected: ExpectedVersion): string =>
  `{"stream":${JSON.stringify(stream)},"expectedVersion":${JSON.stringify(expected)},"events":[${events.map((e) => encodeEvent({ ...e, stream, version: 1 } as Event)).join(",")}]}`

/** One recorded event from its wire JSON (the codec's JSON plus `position`). */
export const decodeRecorded = (u: unknown): RecordedEvent => {
  const position = (u as { position?: unknown }).position
  if (typeof position !== "number") throw new StorageError({ message: `The server sent an event without a position: ${JSON.stringify(u).slice(0, 200)}`, cause: u })
  return { ...decodeEventValue(u), position } as RecordedEvent
}

const BATCH = 1000

export interface HttpEventLogOptions extends ServerOptions {
  /** Where appends wait while the server is unreachable (default: defaultSpoolDir(url)). */
  readonly spoolDir: string
  /** Told about the spool: an append spooled, a push done (default: nothing). */
  readonly onSpool?: (message: string) => void
}

export class HttpEventLog implements AsyncEventLog {
  readonly file: string
  readonly spoolDir: string
  private readonly server: ServerOptions
  private readonly onSpool: (message: string) => void
  /** Whether this process knows of spooled appends not yet pushed: new appends then queue behind them. */
  private spooling = false
  /** Spool writes and the push's "all sent" check, one at a time: no append slips between them. */
  private readonly gate = new Serial()
  private pushing: Promise<PushReport> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private backoffMs = 250
  private closed = false

  constructor(options: HttpEventLogOptions) {
    this.server = options
    this.file = options.url
    this.spoolDir = options.spoolDir
    this.onSpool = options.onSpool ?? (() => {})
  }

  /** Appends left by an earlier client (one that exited while the server was down) are pushed from the start. */
  async start(): Promise<void> {
    if ((await spooledFiles(this.spoolDir)).length > 0) {
      this.spooling = true
      this.schedulePush(0)
    }
  }

  async append(stream: string, events: ReadonlyArray<NewEvent>, expected: ExpectedVersion): Promise<AppendResult> {
    const body = appendBody(stream, events, expected)
    if (!this.spooling) {
      try {
        return await this.postBody(body, 2)
      } catch (e) {
        if (!(e instanceof Unreachable)) throw e
        return this.spool(body, stream, events, expected, e.message)
      }
    }
    return this.spool(body, stream, events, expected, `earlier appends to ${this.server.url} are spooled`)
  }

  private async spool(body: string, stream: string, events: ReadonlyArray<NewEvent>, expected: ExpectedVersion, why: string): Promise<AppendResult> {
    if (expected === "any") {
      // The version after it is the server's to know: the caller would be told a made-up one.
      throw new StorageError({ message: `${why}, and an append to ${stream} with no expected version cannot be spooled: retry when the server is back.`, cause: undefined })
    }
    const first = await this.gate.run(async () => {
      await spoolAppend(this.spoolDir, body)
      const was = this.spooling
      this.spooling = true
      return !was
    })
    // Said once per outage, not once per append.
    if (first) this.onSpool(`runledger: ${why}; appends are spooled in ${this.spoolDir} until it is back.`)
    this.schedulePush(this.backoffMs)
    // Durable in the spool: the version it will have once pushed (its expected version held when it was made).
    return { version: expected + events.length, position: 0 }
  }

  private schedulePush(ms: number): void {
    if (this.retryTimer !== undefined || this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.push().then((r) => {
        if (r.remaining > 0 && !this.closed) {
          this.backoffMs = Math.min(this.backoffMs * 2, 30_000)
          this.schedulePush(this.backoffMs)
        } else this.backoffMs = 250
      }, (e) => {
        this.onSpool(`runledger: pushing the spool ${this.spoolDir} failed: ${e instanceof Error ? e.message : String(e)}`)
        if (!this.closed) this.schedulePush(Math.min((this.backoffMs *= 2), 30_000))
      })
    }, ms)
    // A pending retry must not keep a finished script alive: what is spooled stays for `runledger sync`.
    this.retryTimer.unref()
  }

  /** Push the spool now (one pass, in order); a push already under way is joined. */
  push(): Promise<PushReport> {
    this.pushing ??= (async () => {
      try {
        const report = await pushSpool(this.spoolDir, {
          post: (body) => this.postBody(body),
          head: () => this.head(true),
          unreachable: (e) => e instanceof Unreachable
        })
        if (report.sent + report.alreadyPresent > 0) this.onSpool(`runledger: ${report.sent + report.alreadyPresent} spooled append(s) sent to ${this.server.url}${report.remaining > 0 ? `; ${report.remaining} remain` : ""}.`)
        for (const r of report.rejected) this.onSpool(`runledger: the server refused a spooled append (${r.reason}); it is kept in ${this.spoolDir}/rejected/${r.file}.`)
        // Everything sent: new appends go straight to the server again (checked under the gate, so none was spooled meanwhile).
        await this.gate.run(async () => {
          if ((await spooledFiles(this.spoolDir)).length === 0) this.spooling = false
        })
        return report
      } finally {
        this.pushing = undefined
      }
    })()
    return this.pushing
  }

  /**
   * Push until the spool is empty, the server cannot be reached, or a pass sends nothing. A pass
   * joined while under way (or one that ran while appends were being spooled) may leave appends
   * made during it: the next pass sends them.
   */
  private async drain(): Promise<PushReport> {
    let sent = 0
    let alreadyPresent = 0
    const rejected: Array<PushReport["rejected"][number]> = []
    for (;;) {
      const r = await this.push()
      sent += r.sent
      alreadyPresent += r.alreadyPresent
      for (const x of r.rejected) rejected.push(x)
      const done = r.stoppedBy !== undefined || r.remaining === 0 || r.sent + r.alreadyPresent + r.rejected.length === 0
      if (done) return { sent, alreadyPresent, rejected, remaining: r.remaining, ...(r.stoppedBy !== undefined ? { stoppedBy: r.stoppedBy } : {}) }
    }
  }

  private async postBody(body: string, retries = 1): Promise<AppendResult> {
    const res = await send(this.server, { method: "POST", path: `${NATIVE}/events`, body: () => body, headers: { "content-type": "application/json" }, retries })
    return (await res.json()) as AppendResult
  }

  /** Reads see the server's log: what is spooled is pushed first, else they fail saying where it waits. */
  private async online(): Promise<void> {
    if (!this.spooling) return
    const report = await this.drain()
    if (report.remaining > 0) throw this.offline(report.stoppedBy ?? `${this.server.url} is unreachable`, report.remaining)
  }

  private offline(why: string, spooled: number): StorageError {
    return new StorageError({
      message: `${why}; ${spooled} append(s) are spooled in ${this.spoolDir}; they will be sent when it is back, or run \`runledger sync ${this.spoolDir} --uri ${this.server.url}\`.`,
      cause: undefined
    })
  }

  private async read<A>(f: () => Promise<A>): Promise<A> {
    await this.online()
    try {
      return await f()
    } catch (e) {
      if (e instanceof Unreachable) throw this.offline(e.message, (await spooledFiles(this.spoolDir)).length)
      throw e
    }
  }

  readStream(stream: string): Promise<ReadonlyArray<RecordedEvent>> {
    return this.read(async () => {
      const body = (await sendJson(this.server, "GET", `${NATIVE}/streams/${encodeURIComponent(stream)}`)) as { events: ReadonlyArray<unknown> }
      return body.events.map(decodeRecorded)
    })
  }

  async *readAll(from = 0): AsyncIterable<ReadonlyArray<RecordedEvent>> {
    const res = await this.read(() => send(this.server, { method: "GET", path: `${NATIVE}/events?from=${from}`, headers: { accept: "application/x-ndjson" } }))
    if (res.body === null) return
    const decoder = new TextDecoder()
    let rest = ""
    let batch: RecordedEvent[] = []
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true })
      let nl: number
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl)
        rest = rest.slice(nl + 1)
        if (line.trim() === "") continue
        batch.push(decodeRecorded(JSON.parse(line)))
        if (batch.length >= BATCH) {
          yield batch
          batch = []
        }
      }
    }
    rest += decoder.decode()
    if (rest.trim() !== "") batch.push(decodeRecorded(JSON.parse(rest)))
    if (batch.length > 0) yield batch
  }

  head(direct = false): Promise<number> {
    const get = async () => ((await sendJson(this.server, "GET", `${NATIVE}/head`)) as { position: number }).position
    return direct ? get() : this.read(get)
  }

  /** A last push; what remains spooled is reported (and stays for the next client or `runledger sync`). */
  async close(): Promise<PushReport> {
    this.closed = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    if (!this.spooling) return { sent: 0, alreadyPresent: 0, rejected: [], remaining: 0 }
    const report = await this.drain().catch((e): PushReport => ({ sent: 0, alreadyPresent: 0, rejected: [], remaining: -1, stoppedBy: e instanceof Error ? e.message : String(e) }))
    if (report.remaining !== 0) {
      this.onSpool(`runledger: ${report.remaining < 0 ? "appends" : `${report.remaining} append(s)`} remain spooled in ${this.spoolDir} (${report.stoppedBy ?? `${this.server.url} is unreachable`}); they are sent by the next client of ${this.server.url}, or run \`runledger sync ${this.spoolDir} --uri ${this.server.url}\`.`)
    }
    return report
  }
}
