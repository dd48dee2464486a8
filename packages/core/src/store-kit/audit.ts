/**
 * Verify over any event source: the audit checks every store shares (the hash of each event, the
 * whole-log chain, each stream's `prev` links, versions 1, 2, 3 per stream, ids used once per
 * stream, positions without gaps). A store adds only what belongs to its medium (checksums and a
 * torn tail in a file, say). Reads only; one pass in log order; memory grows with the number of
 * streams and ids, never with event bodies.
 */
import { chainAfter, type Sha256 } from "./hash.ts"

export type AuditKind = "hash-mismatch" | "chain-mismatch" | "prev-mismatch" | "version-gap" | "duplicate-id" | "position-gap" | "damaged-record"

export interface AuditFinding {
  readonly kind: AuditKind
  readonly position: number
  readonly message: string
}

/**
 * Feed it each record in log order: `record` for the stored hash and chain (every record), then
 * `event` once the event inside is decoded. `where` names the record in messages ("record 3 at
 * byte offset 120", "position 3").
 */
export class AuditTrail {
  private readonly sha256: Sha256
  private readonly streams = new Map<string, { version: number; ids: Set<string>; lastHash: string }>()
  private last = 0
  /** The whole-log chain after the last record fed in. */
  headChain = ""

  constructor(sha256: Sha256) {
    this.sha256 = sha256
  }

  /** Streams seen so far. */
  get streamCount(): number {
    return this.streams.size
  }

  /** The record's own checks: its position follows the last, its hash matches its JSON, its chain holds. */
  record(where: string, position: number, json: string | Uint8Array, hash: string, chain: string): AuditFinding[] {
    const out: AuditFinding[] = []
    if (position !== this.last + 1) {
      out.push({ kind: "position-gap", position, message: `${where}: positions ${this.last + 1} to ${position - 1} are missing` })
    }
    this.last = position
    const actual = this.sha256(json)
    if (actual !== hash) {
      out.push({ kind: "hash-mismatch", position, message: `${where} was altered: its event hashes to ${actual.slice(0, 16)}..., not the ${hash.slice(0, 16)}... recorded with it` })
    }
    if (chainAfter(this.sha256, this.headChain, hash) !== chain) {
      out.push({ kind: "chain-mismatch", position, message: `${where} breaks the log's hash chain: a record before it was removed, inserted or reordered, or this one was rewritten` })
    }
    // Go on from the recorded chain, so each break is reported once, where it is.
    this.headChain = chain
    return out
  }

  /** The event's place in its stream: `prev` is the hash of the stream's previous event, versions run on, ids are new. */
  event(where: string, position: number, event: { readonly stream: string; readonly version: number; readonly id: string; readonly prev?: string | undefined }, hash: string): AuditFinding[] {
    const out: AuditFinding[] = []
    const prior = this.streams.get(event.stream)
    if (prior !== undefined && event.prev !== prior.lastHash) {
      out.push({ kind: "prev-mismatch", position, message: `${where}: ${event.stream} version ${event.version} does not follow the stream's previous event (its prev hash differs): an event of that stream was altered, removed or reordered` })
    }
    const s = prior ?? { version: 0, ids: new Set<string>(), lastHash: "" }
    s.lastHash = hash
    this.streams.set(event.stream, s)
    if (event.version !== s.version + 1) {
      out.push({ kind: "version-gap", position, message: `${where}: ${event.stream} jumps from version ${s.version} to ${event.version} (an event was removed, reordered or inserted)` })
    }
    s.version = event.version
    if (s.ids.has(event.id)) {
      out.push({ kind: "duplicate-id", position, message: `${where}: event id ${event.id} appears twice in ${event.stream}` })
    }
    s.ids.add(event.id)
    return out
  }
}

/** A stored event as a store that keeps hash and chain beside the JSON hands it out. */
export interface AuditRecord {
  readonly position: number
  readonly stream: string
  readonly version: number
  readonly id: string
  readonly json: string
  readonly hash: string
  readonly chain: string
}

export interface AuditReport {
  readonly events: number
  readonly streams: number
  readonly headChain: string
  readonly findings: ReadonlyArray<AuditFinding>
}

/**
 * Verify a whole log read as batches of stored records, in position order. The stream, version
 * and id checked are the stored columns; `prev` comes from the JSON (whose hash covers it).
 */
export const verifyRecords = async (source: AsyncIterable<ReadonlyArray<AuditRecord>>, sha256: Sha256): Promise<AuditReport> => {
  const trail = new AuditTrail(sha256)
  const findings: AuditFinding[] = []
  let events = 0
  for await (const batch of source) {
    for (const r of batch) {
      events++
      const where = `position ${r.position}`
      for (const finding of trail.record(where, r.position, r.json, r.hash, r.chain)) findings.push(finding)
      let prev: unknown
      try {
        prev = (JSON.parse(r.json) as { prev?: unknown }).prev
      } catch {
        findings.push({ kind: "damaged-record", position: r.position, message: `${where}: the JSON does not parse` })
        continue
      }
      for (const finding of trail.event(where, r.position, { stream: r.stream, version: r.version, id: r.id, prev: typeof prev === "string" ? prev : undefined }, r.hash)) findings.push(finding)
    }
  }
  return { events, streams: trail.streamCount, headChain: trail.headChain, findings }
}
