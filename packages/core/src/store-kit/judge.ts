/**
 * The append rule every store applies, so that all adapters agree on versions, conflicts and
 * idempotent retries. A store keeps one StreamInfo per stream.
 */
import { conflict, type ConcurrencyConflict } from "../errors.ts"
import type { NewEvent } from "../events.ts"
import type { ExpectedVersion } from "../ports.ts"

/** How many of a stream's latest event ids are remembered for spotting a repeated append. */
export const RECENT_IDS = 256

export interface StreamInfo {
  version: number
  /** The latest event ids of the stream with their log positions, oldest first. */
  readonly recent: Array<{ readonly id: string; readonly position: number }>
}

export const newStreamInfo = (): StreamInfo => ({ version: 0, recent: [] })

export const remember = (info: StreamInfo, id: string, position: number): void => {
  info.version++
  info.recent.push({ id, position })
  if (info.recent.length > RECENT_IDS * 2) info.recent.splice(0, info.recent.length - RECENT_IDS)
}

/**
 * Where `id` is among `recent`, or -1. Every append looks its first id up among up to
 * 2 x RECENT_IDS, and is almost always new: time-ordered ids (uuidv7) of one stream share their
 * first dozen characters, so a plain comparison reads that far each time, while their last
 * character (random) tells most of them apart at once.
 */
const indexOfId = (recent: StreamInfo["recent"], id: string): number => {
  const n = id.length
  if (n === 0) return recent.findIndex((r) => r.id === id)
  const last = id.charCodeAt(n - 1)
  for (let i = 0; i < recent.length; i++) {
    const other = recent[i].id
    if (other.length === n && other.charCodeAt(n - 1) === last && other === id) return i
  }
  return -1
}

export type AppendVerdict =
  | { readonly _tag: "Append" }
  | { readonly _tag: "Duplicate"; readonly version: number; readonly position: number }
  | { readonly _tag: "Conflict"; readonly error: ConcurrencyConflict }

/**
 * - The same event ids as an earlier append, in the same order: a retry, so a no-op.
 * - Otherwise a numeric expected version must equal the stream's version.
 */
export const judgeAppend = (
  stream: string,
  info: StreamInfo | undefined,
  events: ReadonlyArray<NewEvent>,
  expected: ExpectedVersion
): AppendVerdict => {
  const version = info?.version ?? 0
  if (info !== undefined && events.length > 0) {
    const at = indexOfId(info.recent, events[0].id)
    if (at >= 0) {
      const same = events.every((e, i) => info.recent[at + i]?.id === e.id)
      if (same) {
        return { _tag: "Duplicate", version: version - (info.recent.length - at - events.length), position: info.recent[at + events.length - 1].position }
      }
      return { _tag: "Conflict", error: conflict(stream, typeof expected === "number" ? expected : version, version) }
    }
  }
  if (typeof expected === "number" && expected !== version) {
    return { _tag: "Conflict", error: conflict(stream, expected, version) }
  }
  return { _tag: "Append" }
}
