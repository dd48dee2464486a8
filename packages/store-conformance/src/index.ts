/**
 * @runledger/store-conformance: the EventStore contract, written once and run against every
 * adapter (memory, fs, fs with two handles, duckdb, and any published one): versions, conflicts,
 * idempotent retries, atomic appends, positions, round trips of any event, numbers exactly, and
 * (for stores that keep hashes) an intact audit trail.
 *
 * An adapter's test file calls `describeEventStore("name", open)` once and the whole suite runs
 * against it. It is its own package, not part of @runledger/core/store-kit, because it is vitest
 * and fast-check code and core depends on `effect` alone. vitest and fast-check are peers (the
 * adapter's own, so `describe` registers with the runner that runs it); they are marked optional
 * only so that installing every runledger tarball at once puts no test runner into a training
 * project: an adapter's test suite has both.
 */
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { EventStoreShape, NewEvent, RecordedEvent } from "@runledger/core"
import { uuidv7 } from "@runledger/core"
import { newEvent, sameValue } from "./arbitraries.ts"

export interface StoreUnderTest {
  readonly store: EventStoreShape
  /** For durable stores: the same data opened afresh. */
  readonly reopen?: () => Promise<EventStoreShape>
  readonly close: () => Promise<void>
  /** For stores that stamp prev/hash/chain: the store's verify, its problems in words (none when intact). */
  readonly audit?: () => Promise<ReadonlyArray<string>>
}

const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)
const all = (s: EventStoreShape, from = 0): Promise<RecordedEvent[]> => run(Stream.runCollect(s.readAll(from)))
const failure = <A, E>(e: Effect.Effect<A, E>): Promise<E> => run(Effect.flip(e))

const ev = (i = 0): NewEvent => ({ id: uuidv7(), at: 1000 + i, type: "TagsSet", data: { tags: { i: String(i) } } })

const stripPosition = ({ position: _p, ...rest }: RecordedEvent) => rest

export const describeEventStore = (name: string, open: () => Promise<StoreUnderTest>) =>
  describe(`EventStore conformance: ${name}`, () => {
    const withStore = (f: (t: StoreUnderTest) => Promise<void>) => async () => {
      const t = await open()
      try {
        await f(t)
      } finally {
        await t.close()
      }
    }

    it("appends give consecutive versions per stream and positions across the log", withStore(async ({ store }) => {
      expect(await run(store.head)).toBe(0)
      expect(await run(store.append("a", [ev(1), ev(2)], 0))).toEqual({ version: 2, position: 2 })
      expect(await run(store.append("b", [ev(3)], 0))).toEqual({ version: 1, position: 3 })
      expect(await run(store.append("a", [ev(4)], 2))).toEqual({ version: 3, position: 4 })
      const a = await run(store.readStream("a"))
      expect(a.map((e) => [e.version, e.position, e.stream])).toEqual([[1, 1, "a"], [2, 2, "a"], [3, 4, "a"]])
      expect(await run(store.readStream("nope"))).toEqual([])
      expect(await run(store.head)).toBe(4)
      expect((await all(store)).map((e) => e.position)).toEqual([1, 2, 3, 4])
      expect((await all(store, 2)).map((e) => e.position)).toEqual([3, 4])
      expect(await all(store, 4)).toEqual([])
    }))

    it("a readAll stream is lazy: each run reads the log as it is then", withStore(async ({ store }) => {
      await run(store.append("a", [ev(1)], 0))
      const stream = store.readAll(0)
      expect(await run(Stream.runCollect(stream))).toHaveLength(1)
      await run(store.append("a", [ev(2)], 1))
      expect((await run(Stream.runCollect(stream))).map((e) => e.position)).toEqual([1, 2])
    }))

    it("a stale expected version fails with ConcurrencyConflict and appends nothing", withStore(async ({ store }) => {
      await run(store.append("a", [ev()], 0))
      const e = await failure(store.append("a", [ev(), ev()], 0))
      expect(e._tag).toBe("ConcurrencyConflict")
      expect(e).toMatchObject({ stream: "a", expected: 0, actual: 1 })
      expect((await failure(store.append("fresh", [ev()], 3)))._tag).toBe("ConcurrencyConflict")
      expect(await run(store.head)).toBe(1)
      expect(await run(store.readStream("fresh"))).toEqual([])
      expect(await run(store.append("a", [ev()], "any"))).toMatchObject({ version: 2 })
    }))

    it("appending the same event ids again is a no-op with the same answer", withStore(async ({ store }) => {
      const batch = [ev(1), ev(2)]
      const first = await run(store.append("a", batch, 0))
      await run(store.append("b", [ev(3)], 0))
      expect(await run(store.append("a", batch, 0))).toEqual(first)
      expect(await run(store.append("a", batch, "any"))).toEqual(first)
      expect(await run(store.head)).toBe(3)
      // A different batch that reuses one of those ids is not a retry: it conflicts.
      expect((await failure(store.append("a", [batch[1], ev(9)], 2)))._tag).toBe("ConcurrencyConflict")
    }))

    it("racing writers with the same expected version: exactly one wins, the others conflict", withStore(async ({ store }) => {
      await run(store.append("race", [ev()], 0))
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => run(Effect.result(store.append("race", [ev(i), ev(i)], 1))))
      )
      const wins = results.filter((r) => r._tag === "Success")
      expect(wins).toHaveLength(1)
      expect(results.filter((r) => r._tag === "Failure" && r.failure._tag === "ConcurrencyConflict")).toHaveLength(7)
      expect((await run(store.readStream("race"))).map((e) => e.version)).toEqual([1, 2, 3])
    }))

    it("any event round-trips exactly (NaN, -0, Infinity), in order", withStore(async (t) => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(newEvent, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), async (batches) => {
          const stream = `s-${uuidv7()}`
          const start = await run(t.store.head)
          let version = 0
          for (const batch of batches) {
            const fresh = batch.map((e) => ({ ...e, id: uuidv7() }))
            await run(t.store.append(stream, fresh, version))
            version += fresh.length
          }
          const expected = batches.flat()
          const read = await run(t.store.readStream(stream))
          expect(read).toHaveLength(expected.length)
          read.forEach((e, i) => {
            expect(e.version).toBe(i + 1)
            expect(sameValue({ type: e.type, data: e.data, at: e.at, meta: e.meta }, { type: expected[i].type, data: expected[i].data, at: expected[i].at, meta: expected[i].meta })).toBe(true)
          })
          const tail = await all(t.store, start)
          expect(sameValue(tail.map(stripPosition), read.map(stripPosition))).toBe(true)
        }),
        { numRuns: 40 }
      )
    }))

    it("stamps every event so that the audit finds the log intact after racing, repeated and refused appends", withStore(async (t) => {
      if (t.audit === undefined) return
      await run(t.store.append("a", [ev(1)], 0))
      const retry = [ev(2), ev(3)]
      await Promise.all([
        ...Array.from({ length: 6 }, (_, i) => run(Effect.result(t.store.append("a", [ev(10 + i)], 1)))),
        ...Array.from({ length: 6 }, (_, i) => run(t.store.append(`s${i % 3}`, [ev(20 + i)], "any"))),
        run(t.store.append("b", retry, 0)),
        run(t.store.append("b", retry, 0))
      ])
      expect(await run(t.store.head)).toBe(1 + 1 + 6 + 2)
      expect(await t.audit()).toEqual([])
      const a = await run(t.store.readStream("a"))
      expect(a[1].prev).toMatch(/^[0-9a-f]{64}$/)
    }))

    it("a reopened store has every event, identical", withStore(async (t) => {
      if (t.reopen === undefined) return
      await run(t.store.append("a", [ev(1), ev(2)], 0))
      await run(t.store.append("b", [{ id: uuidv7(), at: 5, type: "MetricsLogged", data: { keys: ["m", "m"], values: [NaN, -0], steps: [0, 1], timestamps: [5, 5] } }], 0))
      const before = await all(t.store)
      const again = await t.reopen()
      const after = await all(again)
      expect(sameValue(after, before)).toBe(true)
      expect(await run(again.append("a", [ev(3)], 2))).toEqual({ version: 3, position: 4 })
    }))
  })
