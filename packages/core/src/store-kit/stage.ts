/**
 * Staged judging and stamping of one group-commit batch: each append is judged (expected version,
 * repeated ids) against the committed streams plus the appends accepted before it in the batch,
 * and each accepted event gets its version, position, `prev`, hash and chain. Nothing is written
 * here: the adapter writes `records` in one go, then adopts `streams` and `head` only if the
 * write succeeded, so a failed write leaves its state as it was.
 */
import { encodeEvent } from "../codec.ts"
import type { Event, NewEvent } from "../events.ts"
import type { AppendResult, ExpectedVersion } from "../ports.ts"
import { chainAfter, type Sha256 } from "./hash.ts"
import { judgeAppend, newStreamInfo, remember, type StreamInfo } from "./judge.ts"

export interface AppendRequest {
  readonly stream: string
  readonly events: ReadonlyArray<NewEvent>
  readonly expected: ExpectedVersion
}

/** What a store keeps per stream to judge and stamp appends. */
export interface StreamState extends StreamInfo {
  /** The hash of the stream's last event: the next event's `prev` ("" before the first). */
  lastHash: string
}

export const newStreamState = (): StreamState => ({ ...newStreamInfo(), lastHash: "" })

/** The end of the log: its last position and the whole-log chain after it. */
export interface LogHead {
  readonly count: number
  readonly chain: string
}

/** One event ready to write. `body` is the JSON in the form the adapter writes (bytes, text). */
export interface StampedEvent<B> {
  readonly stream: string
  readonly id: string
  readonly type: string
  readonly at: number
  readonly version: number
  readonly position: number
  readonly body: B
  readonly hash: string
  readonly chain: string
}

/** How one append is answered. */
export type Settlement = { readonly ok: true; readonly result: AppendResult } | { readonly ok: false; readonly error: unknown }

export interface StagedBatch<B> {
  /** The events to write, in position order. */
  readonly records: ReadonlyArray<StampedEvent<B>>
  /** The streams the batch changed, as they are once `records` are written. */
  readonly streams: ReadonlyMap<string, StreamState>
  /** The head once `records` are written. */
  readonly head: LogHead
  /** One answer per request, in order, once the records are durable. */
  readonly settlements: ReadonlyArray<Settlement>
  /** The answers when writing failed: refused appends keep their conflict, the rest get `error`. */
  readonly failed: (error: unknown) => ReadonlyArray<Settlement>
}

export interface StageOptions<B> {
  readonly sha256: Sha256
  /** The JSON in the form the adapter writes and hashes (UTF-8 bytes, or the text itself). */
  readonly body: (json: string) => B
}

/**
 * `committed` gives a stream's state as written (undefined for a new stream); it is copied, never
 * changed. Requests must be judged in the order they arrived: `batch` keeps it.
 */
export const stageBatch = <B extends string | Uint8Array>(
  batch: ReadonlyArray<AppendRequest>,
  head: LogHead,
  committed: (stream: string) => StreamState | undefined,
  options: StageOptions<B>
): StagedBatch<B> => {
  const streams = new Map<string, StreamState>()
  const records: Array<StampedEvent<B>> = []
  const settlements: Settlement[] = []
  let count = head.count
  let chain = head.chain
  for (const request of batch) {
    const { stream, events } = request
    const real = streams.get(stream) ?? committed(stream)
    const verdict = judgeAppend(stream, real, events, request.expected)
    if (verdict._tag === "Conflict") {
      settlements.push({ ok: false, error: verdict.error })
      continue
    }
    if (verdict._tag === "Duplicate") {
      settlements.push({ ok: true, result: { version: verdict.version, position: verdict.position } })
      continue
    }
    const next = streams.get(stream) ?? (real === undefined ? newStreamState() : { version: real.version, recent: real.recent.slice(), lastHash: real.lastHash })
    for (const e of events) {
      const version = next.version + 1
      const json = encodeEvent({ ...e, stream, version, ...(version > 1 ? { prev: next.lastHash } : {}) } as Event)
      const body = options.body(json)
      const hash = options.sha256(body)
      chain = chainAfter(options.sha256, chain, hash)
      records.push({ stream, id: e.id, type: e.type, at: e.at, version, position: ++count, body, hash, chain })
      next.lastHash = hash
      remember(next, e.id, count)
    }
    streams.set(stream, next)
    settlements.push({ ok: true, result: { version: next.version, position: count } })
  }
  const failed = (error: unknown): ReadonlyArray<Settlement> =>
    settlements.map((s) => (!s.ok ? s : { ok: false, error }))
  return { records, streams, head: { count, chain }, settlements, failed }
}
