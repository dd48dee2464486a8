/** Reading what the CLI and the library write, in tests: CSV files and the event log's records. */
import { recordJson, scanFrame } from "../../store-fs/src/index.ts"

/** RFC 4180 CSV (quoted fields may hold commas, quotes and newlines). */
export const parseCsv = (text: string): string[][] => {
  const rows: string[][] = []
  let row: string[] = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\n") {
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  if (field !== "" || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows
}

/** Byte offsets where the records of an events.log start (either record form: see adapters-fs frame.ts). */
export const recordStarts = (log: Buffer): number[] => {
  const starts: number[] = []
  for (let at = 0; at < log.length;) {
    starts.push(at)
    const frame = scanFrame(log, at, log.length)
    if (!frame.ok && !frame.complete) break
    at = frame.end
  }
  return starts
}

/** The event JSON of every record of a whole, undamaged events.log, in order. */
export const storedJson = (log: Buffer): string[] =>
  recordStarts(log).map((start) => {
    const frame = scanFrame(log, start, log.length)
    if (!frame.ok) throw new Error(`the record at ${start} is damaged: ${frame.reason}`)
    return recordJson(log, start, frame.end).toString("utf8")
  })

/** A run as `runs --json` and `show --json` print it (the fields the tests read). */
export interface RunJson {
  id: string
  experimentId: string
  experiment: string
  name: string
  status: string
  lifecycle: string
  startTime: number
  endTime: number | null
  parentRunId: string | null
  params: Record<string, string | number | boolean>
  tags: Record<string, string>
  metrics: Record<string, number>
  artifacts: Array<{ path: string; sha256: string; size: number; mediaType: string }>
}

/** An event as `events --json` prints it, one per line. */
export interface EventJson {
  id: string
  position: number
  stream: string
  version: number
  type: string
  at: number
  data: Record<string, unknown>
  meta?: { actor?: string; host?: string; pid?: number }
}

/**
 * The items of a listing's `--json` (`runs`, `experiments`, `models`, `models versions`, `history`,
 * `rank`): one object, `{ <kind>: [...], nextPageToken: string | null, ...extra fields }`. Throws
 * when the output has any other shape (a bare array, the items under another name, no token).
 */
export const parseListing = <T>(stdout: string, kind: string): T[] => {
  const parsed = JSON.parse(stdout) as unknown
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`expected a { ${kind}, nextPageToken } object, got ${stdout.slice(0, 80)}`)
  const o = parsed as Record<string, unknown>
  if (!Array.isArray(o[kind])) throw new Error(`expected the items under "${kind}", got keys ${Object.keys(o).join(", ")}`)
  if (!(typeof o.nextPageToken === "string" || o.nextPageToken === null)) throw new Error(`expected nextPageToken to be a string or null, got ${JSON.stringify(o.nextPageToken)}`)
  return o[kind] as T[]
}
