/** The shared EventStore contract, run against the DuckDB event store (a fresh file per case). */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { DuckDBEventStore, duckdbEventStore, DuckDBStoreLayer } from "../packages/store-duckdb/src/index.ts"
import { ReadModel } from "../packages/readmodel-duckdb/src/index.ts"
import {
  ArtifactStore,
  Liveness,
  makeMemoryArtifactStore,
  RunContext,
  UNKNOWN_ENVIRONMENT,
  uuidv7
} from "../packages/core/src/index.ts"
import {
  makeTrackerClient,
  TrackerLive
} from "../packages/tracker/src/index.ts"
import { describeEventStore } from "./store-conformance.ts"
import { FIXED_APPENDS, FIXED_CHAIN } from "./store-fixed-log.ts"

describeEventStore("duckdb", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-duck-conf-"))
  const file = join(dir, "events.duckdb")
  let current = await DuckDBEventStore.open({ file })
  return {
    store: duckdbEventStore(current),
    audit: async () => (await current.verify()).problems,
    // DuckDB keeps one handle per file per process: the old handle closes before the reopen.
    reopen: async () => {
      await current.close()
      current = await DuckDBEventStore.open({ file })
      return duckdbEventStore(current)
    },
    close: async () => {
      await current.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

describe("DuckDB event store", () => {
  const withStore = (f: (store: DuckDBEventStore, file: string) => Promise<void>) => async () => {
    const dir = mkdtempSync(join(tmpdir(), "runledger-duck-es-"))
    const file = join(dir, "events.duckdb")
    const store = await DuckDBEventStore.open({ file, readBatch: 3 })
    try {
      await f(store, file)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const ev = (i: number) => ({ id: uuidv7(), at: 1000 + i, type: "TagsSet" as const, data: { tags: { i: String(i) } } })

  it("refuses a second handle on the same file in one process", withStore(async (_store, file) => {
    await expect(DuckDBEventStore.open({ file })).rejects.toThrow(/already open in this process/)
  }))

  it("chains hashes like the directory store and verify finds them intact", withStore(async (store) => {
    await store.append("a", [ev(1), ev(2)], 0)
    await store.append("b", [ev(3)], 0)
    await store.append("a", [ev(4)], 2)
    const events = await store.readStream("a")
    expect(events.map((e) => e.prev === undefined)).toEqual([true, false, false])
    const report = await store.verify()
    expect(report).toEqual({ events: 4, problems: [] })
    expect(await store.headChain()).toMatch(/^[0-9a-f]{64}$/)
  }))

  it("the same appends give the same hashes and chain as the directory store (one hash rule)", withStore(async (store) => {
    for (const group of FIXED_APPENDS) await Promise.all(group.map((a) => store.append(a.stream, a.events, a.expected)))
    expect(await store.headChain()).toBe(FIXED_CHAIN)
    expect(await store.verify()).toEqual({ events: 4, problems: [] })
  }))

  it("readAll yields bounded batches", withStore(async (store) => {
    for (let i = 0; i < 8; i++) await store.append(`s${i % 3}`, [ev(i)], "any")
    const sizes: number[] = []
    for await (const batch of store.readAll(1)) sizes.push(batch.length)
    expect(sizes).toEqual([3, 3, 1])
  }))

  it("group commit: concurrent appends to many streams all land, positions gap-free", withStore(async (store) => {
    const port = duckdbEventStore(store)
    await Promise.all(Array.from({ length: 40 }, (_, i) => Effect.runPromise(port.append(`s${i}`, [ev(i), ev(i)], 0))))
    const positions: number[] = []
    for await (const batch of store.readAll(0)) positions.push(...batch.map((e) => e.position))
    expect(positions).toEqual(Array.from({ length: 80 }, (_, i) => i + 1))
  }))

  it("serves a tracker through DuckDBStoreLayer, and a read model catches up from it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runledger-duck-layer-"))
    try {
      const file = join(dir, "events.duckdb")
      const layer = TrackerLive.pipe(
        Layer.provide(
          Layer.mergeAll(
            DuckDBStoreLayer({ file }),
            Layer.succeed(ArtifactStore, makeMemoryArtifactStore()),
            Layer.succeed(RunContext, RunContext.fixed({ source: {}, environment: UNKNOWN_ENVIRONMENT })),
            Layer.succeed(Liveness, Liveness.unknown)
          )
        )
      )
      const tracker = await makeTrackerClient(layer)
      const run = await tracker.withRun({ experiment: "e", name: "r" }, async (r) => {
        await r.logParams({ lr: 0.1 })
        r.logMetric("loss", NaN, { step: 0 })
        r.logMetric("loss", -0, { step: 1 })
        return r.id
      })
      await tracker.close() // disposes the layer: the store's file is closed
      const store = await DuckDBEventStore.open({ file })
      const model = await ReadModel.open({ file: join(dir, "model.duckdb") })
      try {
        expect(await store.verify()).toMatchObject({ problems: [] })
        const result = await model.catchUp(store)
        expect(result.position).toBe(await store.head())
        const [latest] = await model.sql("SELECT value, step FROM latest_metrics WHERE run_id = $1", [run])
        expect(Object.is(latest.value, -0) && latest.step === 1).toBe(true)
        expect(await model.sql("SELECT status FROM runs")).toEqual([{ status: "FINISHED" }])
      } finally {
        await model.close()
        await store.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
