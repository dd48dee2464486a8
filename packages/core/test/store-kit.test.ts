/**
 * store-kit, the rules every EventStore adapter is built from: staged judging and stamping of a
 * group-commit batch, the audit checks over any event source, and the group-commit queue.
 * (The same rules through real stores: test/store-conformance*.ts.)
 */
import { createHash } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ConcurrencyConflict, type NewEvent } from "../src/index.ts"
import {
  type AppendRequest,
  type AuditRecord,
  GroupCommit,
  type LogHead,
  type Settlement,
  stageBatch,
  type StampedEvent,
  type StreamState,
  verifyRecords
} from "../src/store-kit/index.ts"
import { newEvent } from "@runledger/store-conformance/arbitraries"

const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** A log kept in memory the way a store would: stage a batch, then adopt it. */
const makeLog = () => {
  const rows: Array<StampedEvent<string>> = []
  const streams = new Map<string, StreamState>()
  let head: LogHead = { count: 0, chain: "" }
  return {
    rows,
    commit(batch: ReadonlyArray<AppendRequest>): ReadonlyArray<Settlement> {
      const staged = stageBatch(batch, head, (s) => streams.get(s), { sha256, body: (json) => json })
      rows.push(...staged.records)
      for (const [s, st] of staged.streams) streams.set(s, st)
      head = staged.head
      return staged.settlements
    },
    records: (): AuditRecord[] => rows.map((r) => ({ position: r.position, stream: r.stream, version: r.version, id: r.id, json: r.body, hash: r.hash, chain: r.chain }))
  }
}

async function* once<A>(batch: ReadonlyArray<A>): AsyncGenerator<ReadonlyArray<A>> {
  yield batch
}

let ids = 0
const fresh = (e: NewEvent): NewEvent => ({ ...e, id: `id-${++ids}` })

const batches = fc.array(
  fc.array(fc.record({ stream: fc.constantFrom("a", "b", "c"), events: fc.array(newEvent, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 4 }),
  { minLength: 1, maxLength: 5 }
)

describe("store-kit", () => {
  it("stamped batches verify intact; altering, dropping or swapping any record is found", async () => {
    await fc.assert(
      fc.asyncProperty(batches, fc.nat(), fc.constantFrom("alter", "drop", "swap"), async (groups, pick, damage) => {
        const log = makeLog()
        for (const group of groups) log.commit(group.map((a) => ({ stream: a.stream, events: a.events.map(fresh), expected: "any" as const })))
        const records = log.records()
        const intact = await verifyRecords(once(records), sha256)
        expect(intact.findings).toEqual([])
        expect(intact.events).toBe(records.length)
        expect(intact.headChain).toBe(records[records.length - 1].chain)
        const i = pick % records.length
        const damaged = records.slice()
        if (damage === "alter") damaged[i] = { ...records[i], json: records[i].json.replace(/"at":/, `"at":1,"x":`) }
        else if (damage === "drop") damaged.splice(i, 1)
        else if (records.length > 1) [damaged[i], damaged[(i + 1) % records.length]] = [damaged[(i + 1) % records.length], damaged[i]]
        else return
        // Dropping the last record leaves a well-formed shorter log: only an anchor kept elsewhere shows that.
        if (damage === "drop" && i === records.length - 1) return
        expect((await verifyRecords(once(damaged), sha256)).findings.length).toBeGreaterThan(0)
      }),
      { numRuns: 60 }
    )
  })

  it("staged judging: appends of one batch are judged against those accepted before them; repeats answer as the first time", () => {
    const log = makeLog()
    const first = [fresh(ev()), fresh(ev())]
    const settled = log.commit([
      { stream: "a", events: first, expected: 0 },
      { stream: "a", events: [fresh(ev())], expected: 0 }, // stale: the append before it made the version 2
      { stream: "a", events: [fresh(ev())], expected: 2 },
      { stream: "a", events: first, expected: 0 } // a retry of the first: a no-op with the same answer
    ])
    expect(settled.map((s) => (s.ok ? s.result : (s.error as ConcurrencyConflict)._tag))).toEqual([
      { version: 2, position: 2 },
      "ConcurrencyConflict",
      { version: 3, position: 3 },
      { version: 2, position: 2 }
    ])
    expect(log.rows.map((r) => [r.stream, r.version, r.position])).toEqual([["a", 1, 1], ["a", 2, 2], ["a", 3, 3]])
    // Each event after the first carries the previous one's hash as prev.
    expect(log.rows.map((r) => (JSON.parse(r.body) as { prev?: string }).prev)).toEqual([undefined, log.rows[0].hash, log.rows[1].hash])
  })

  it("a failed write: refused appends keep their conflict, the others get the write's error", () => {
    const staged = stageBatch(
      [{ stream: "a", events: [fresh(ev())], expected: 0 }, { stream: "a", events: [fresh(ev())], expected: 0 }],
      { count: 0, chain: "" },
      () => undefined,
      { sha256, body: (json) => json }
    )
    const disk = new Error("disk full")
    const answers = staged.failed(disk)
    expect(answers[0]).toEqual({ ok: false, error: disk })
    expect(!answers[1].ok && answers[1].error instanceof ConcurrencyConflict).toBe(true)
  })

  it("group commit: appends that arrive during a commit go together in the next; a commit that throws rejects its batch only", async () => {
    const seen: number[] = []
    let calls = 0
    const queue = new GroupCommit({
      commit: async (batch) => {
        seen.push(batch.length)
        calls++
        await new Promise((r) => setTimeout(r, 5))
        if (calls === 2) throw new Error("the disk went away")
        return batch.map((_, i) => ({ ok: true as const, result: { version: i + 1, position: i + 1 } }))
      },
      toError: (e) => new Error(`wrapped: ${(e as Error).message}`)
    })
    const req = (): AppendRequest => ({ stream: "a", events: [fresh(ev())], expected: "any" })
    const first = queue.submit(req())
    const during = [queue.submit(req()), queue.submit(req()), queue.submit(req())]
    await expect(first).resolves.toEqual({ version: 1, position: 1 })
    const outcomes = await Promise.allSettled(during)
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected"])
    expect((outcomes[0] as PromiseRejectedResult).reason.message).toBe("wrapped: the disk went away")
    await expect(queue.submit(req())).resolves.toEqual({ version: 1, position: 1 })
    await queue.idle()
    expect(seen).toEqual([1, 3, 1])
  })
})

function ev(): NewEvent {
  return { id: "", at: 1000, type: "TagsSet", data: { tags: { k: "v" } } } as NewEvent
}
