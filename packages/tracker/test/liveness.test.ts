/**
 * Liveness of runs no local process owns: a lease renewed by every event of the run and judged by
 * the Clock, a run owned by nobody, and the process-owned run of every log before leases.
 */
import { Effect, Layer } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  ArtifactStore,
  Clock,
  type Draft,
  type Event,
  EventStore,
  foldRun,
  Liveness,
  makeMemoryArtifactStore,
  makeMemoryEventStore,
  type ProcessOwner,
  RunContext,
  runStream,
  UNKNOWN_ENVIRONMENT,
  whyGone
} from "../../core/src/index.ts"
import { makeTrackerClient, RunSession, TrackerLive } from "../src/index.ts"
import { memoryLayer } from "./memory-client.ts"

const RUN = "r1"
const started = (at: number, owner?: { kind: "lease"; ttlMs: number } | { kind: "none" }): Event =>
  ({
    id: `e0`,
    type: "RunStarted",
    at,
    data: { runId: RUN, experimentId: "x", name: "n", parentRunId: null, tags: {}, source: {}, environment: UNKNOWN_ENVIRONMENT, ...(owner ? { owner } : {}) },
    meta: { host: "h", pid: 42 },
    stream: runStream(RUN),
    version: 1
  }) as Event

/** Run events that leave a run RUNNING; each renews a lease like any other. */
const activity: fc.Arbitrary<Draft> = fc.oneof(
  fc.constant<Draft>({ type: "RunHeartbeat", data: {} }),
  fc.record({ p: fc.integer() }).map((params): Draft => ({ type: "ParamsLogged", data: { params } })),
  fc.record({ t: fc.string() }).map((tags): Draft => ({ type: "TagsSet", data: { tags } })),
  fc.nat(100).map((s): Draft => ({ type: "MetricsLogged", data: { keys: ["loss"], values: [1], steps: [s], timestamps: [0] } })),
  fc.nat(100).map((fromStep): Draft => ({ type: "RunResumed", data: { fromStep } }))
)

const never = () => false

describe("a leased run's projection", () => {
  it("property: every event renews the lease; the run is gone exactly when the Clock is past its latest event by more than the lease", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 100_000 }),
        fc.nat(1e12),
        fc.array(fc.tuple(activity, fc.nat(200_000)), { maxLength: 12 }),
        fc.integer({ min: -50_000, max: 300_000 }),
        (ttlMs, t0, steps, after) => {
          const events: Event[] = [started(t0, { kind: "lease", ttlMs })]
          let at = t0
          for (const [d, gap] of steps) {
            at += gap
            events.push({ id: `e${events.length}`, type: d.type, at, data: d.data, meta: { host: "other", pid: 7 }, stream: runStream(RUN), version: events.length + 1 } as Event)
          }
          const s = foldRun(events)!
          expect(s.status).toBe("RUNNING")
          expect(s.lastActivity).toBe(at)
          // A resume by another process keeps the lease: no pid is ever checked.
          expect(s.owner).toEqual({ kind: "lease", ttlMs })
          const now = at + after
          const reason = whyGone(s, now, () => true)
          if (after > ttlMs) expect(reason).toBe(`no heartbeat for ${Number((after / 1000).toFixed(1))}s (lease of ${Number((ttlMs / 1000).toFixed(1))}s)`)
          else expect(reason).toBeUndefined()
        }
      )
    )
  })

  it("an event older than the latest (another writer's clock behind) does not shorten the lease", () => {
    const s = foldRun([
      started(10_000, { kind: "lease", ttlMs: 5000 }),
      { id: "e1", type: "RunHeartbeat", at: 20_000, data: {}, stream: runStream(RUN), version: 2 },
      { id: "e2", type: "TagsSet", at: 15_000, data: { tags: { a: "b" } }, stream: runStream(RUN), version: 3 }
    ] as Event[])!
    expect(s.lastActivity).toBe(20_000)
    expect(whyGone(s, 25_000, never)).toBeUndefined()
    expect(whyGone(s, 25_001, never)).toBe("no heartbeat for 5s (lease of 5s)")
  })

  it("an ended or deleted leased run is never gone", () => {
    const ended = foldRun([started(0, { kind: "lease", ttlMs: 1000 }), { id: "e1", type: "RunEnded", at: 1, data: { status: "FINISHED" }, stream: runStream(RUN), version: 2 }] as Event[])!
    expect(whyGone(ended, 1e12, never)).toBeUndefined()
    const deleted = foldRun([started(0, { kind: "lease", ttlMs: 1000 }), { id: "e1", type: "RunDeleted", at: 1, data: {}, stream: runStream(RUN), version: 2 }] as Event[])!
    expect(whyGone(deleted, 1e12, never)).toBeUndefined()
  })
})

describe("other owners", () => {
  it("a run owned by nobody is never judged gone, however long it is quiet", () => {
    const s = foldRun([started(0, { kind: "none" })])!
    expect(s.owner).toEqual({ kind: "none" })
    expect(whyGone(s, 1e13, () => true)).toBeUndefined()
  })

  it("a RunStarted without an owner (every log before leases) is owned by the process in its meta, judged by the pid check alone", () => {
    const s = foldRun([started(5)])!
    expect(s.owner).toEqual({ kind: "process", host: "h", pid: 42, since: 5 })
    const asked: ProcessOwner[] = []
    expect(whyGone(s, 1e13, (o) => (asked.push(o), false))).toBeUndefined()
    expect(whyGone(s, 0, () => true)).toBe("process 42 on h exited without ending the run (found gone by a pid check)")
    expect(asked).toEqual([s.owner])
  })
})

/** A tracker on in-memory stores whose Clock the test sets. */
const fixedClockClient = async (liveness = Liveness.unknown) => {
  const time = { now: 1_000_000 }
  const store = makeMemoryEventStore()
  const layer = TrackerLive.pipe(
    Layer.provide(
      Layer.mergeAll(
        Layer.succeed(EventStore, store),
        Layer.succeed(ArtifactStore, makeMemoryArtifactStore()),
        Layer.succeed(RunContext, RunContext.fixed({ source: {}, environment: UNKNOWN_ENVIRONMENT })),
        Layer.succeed(Liveness, liveness),
        Layer.succeed(Clock, { now: () => time.now })
      )
    )
  )
  const tracker = await makeTrackerClient(layer)
  return { tracker, store, time, head: () => Effect.runPromise(store.head) }
}

describe("the tracker with a fixed Clock", () => {
  it("a leased run: renewed by logging and by heartbeats, shown KILLED once its lease runs out (appending nothing), then recorded by reapDeadRuns", async () => {
    const { tracker, time, head } = await fixedClockClient()
    const state = await Effect.runPromise(tracker.effect.startRun({ experiment: "e", name: "remote", lease: { ttlMs: 10_000 } }))
    const session = new RunSession(tracker.effect, state)
    expect(session.lease).toEqual({ ttlMs: 10_000 })
    time.now += 6000
    await Effect.runPromise(session.logParam("lr", 0.1))
    time.now += 10_000 // 10 s after the param: not past the lease
    expect((await tracker.getRun("remote")).status).toBe("RUNNING")
    await Effect.runPromise(session.heartbeat)
    time.now += 10_000
    expect((await tracker.getRun("remote")).status).toBe("RUNNING")
    expect(await Effect.runPromise(tracker.effect.reapDeadRuns)).toEqual([])
    time.now += 2500
    const before = await head()
    const view = await tracker.getRun("remote")
    expect(view.status).toBe("KILLED")
    expect(view.error?.message).toBe("no heartbeat for 12.5s (lease of 10s); not yet recorded in the log (`runledger repair` records it).")
    expect((await tracker.listRuns())[0].status).toBe("KILLED")
    expect(await head()).toBe(before)
    expect(await Effect.runPromise(tracker.effect.reapDeadRuns)).toEqual([state.id])
    expect(await head()).toBe(before + 1)
    const recorded = await tracker.getRun("remote")
    expect(recorded.status).toBe("KILLED")
    expect(recorded.error?.message).toBe("no heartbeat for 12.5s (lease of 10s).")
    const types = (await tracker.streamEvents(runStream(state.id))).map((e) => e.type)
    expect(types).toEqual(["RunStarted", "ParamsLogged", "RunHeartbeat", "RunEnded"])
    // The holder learns its run was reaped at its next heartbeat.
    await expect(Effect.runPromise(session.heartbeat)).rejects.toMatchObject({ _tag: "RunNotActive" })
    await tracker.close()
  })

  it("a holder that writes after its lease ran out, before repair, keeps its run: reads show it RUNNING again and reapDeadRuns skips it", async () => {
    const { tracker, time } = await fixedClockClient()
    const state = await Effect.runPromise(tracker.effect.startRun({ experiment: "e", lease: { ttlMs: 1000 } }))
    const session = new RunSession(tracker.effect, state)
    time.now += 5000
    expect((await tracker.getRun(state.id)).status).toBe("KILLED")
    await Effect.runPromise(session.heartbeat)
    expect((await tracker.getRun(state.id)).status).toBe("RUNNING")
    expect(await Effect.runPromise(tracker.effect.reapDeadRuns)).toEqual([])
    await tracker.close()
  })

  it("a run owned by nobody stays RUNNING forever, and a leased run is never asked about its pid", async () => {
    const { tracker, time } = await fixedClockClient(Liveness.of({ isGone: () => true }))
    const nobody = await Effect.runPromise(tracker.effect.startRun({ experiment: "e", unowned: true }))
    const leased = await Effect.runPromise(tracker.effect.startRun({ experiment: "e", lease: { ttlMs: 60_000 } }))
    const local = await Effect.runPromise(tracker.effect.startRun({ experiment: "e" }))
    time.now += 30_000
    expect((await tracker.getRun(nobody.id)).status).toBe("RUNNING")
    expect((await tracker.getRun(leased.id)).status).toBe("RUNNING")
    expect((await tracker.getRun(local.id)).status).toBe("KILLED")
    time.now += 1e10
    expect((await tracker.getRun(nobody.id)).status).toBe("RUNNING")
    expect(await Effect.runPromise(tracker.effect.reapDeadRuns)).toEqual([leased.id, local.id])
    await tracker.close()
  })

  it("a bad lease is refused with nothing written", async () => {
    const { tracker, head } = await fixedClockClient()
    await expect(tracker.startRun({ experiment: "e", lease: { ttlMs: 999 } })).rejects.toMatchObject({
      _tag: "InvalidInput",
      message: expect.stringContaining("lease is a whole number of milliseconds from 1000")
    })
    await expect(tracker.startRun({ experiment: "e", lease: { ttlMs: 1500.5 } })).rejects.toMatchObject({ _tag: "InvalidInput" })
    await expect(tracker.startRun({ experiment: "e", lease: { ttlMs: 5000 }, unowned: true })).rejects.toMatchObject({ _tag: "InvalidInput" })
    expect(await head()).toBe(0)
    await tracker.close()
  })
})

/** Poll until `cond` holds; give up after 20 s, naming what never happened (a bound, not a timing claim). */
const until = async (cond: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`Never saw ${what}.`)
}

describe("the Promise run handle of a leased run", () => {
  it("sends heartbeats by itself while idle, and stops once the run ends", async () => {
    const store = makeMemoryEventStore()
    const tracker = await makeTrackerClient(memoryLayer(store))
    const run = await tracker.startRun({ experiment: "e", lease: { ttlMs: 1000 } })
    const heartbeats = async () => (await tracker.streamEvents(runStream(run.id))).filter((e) => e.type === "RunHeartbeat").length
    // Idle: a heartbeat every third of the lease (waited for, not timed).
    await until(async () => (await heartbeats()) >= 2, "two heartbeats of an idle handle")
    await run.end()
    const after = await heartbeats()
    await new Promise((r) => setTimeout(r, 1000))
    expect(await heartbeats()).toBe(after)
    expect((await tracker.getRun(run.id)).status).toBe("FINISHED")
    await tracker.close()
  })

  it("keeps the lease while end() waits for a slow upload, and stops once the end is written", async () => {
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    // The artifact store reads the "file" only once the test lets it: an upload that takes its time.
    const readFile = async () => {
      await released
      return Uint8Array.from([1, 2, 3])
    }
    const tracker = await makeTrackerClient(memoryLayer(makeMemoryEventStore(), readFile))
    const run = await tracker.startRun({ experiment: "e", lease: { ttlMs: 1000 } })
    const upload = run.logArtifact("/weights.bin")
    const ended = run.end()
    const types = async () => (await tracker.streamEvents(runStream(run.id))).map((e) => e.type)
    await until(async () => (await types()).includes("RunHeartbeat"), "a heartbeat while end() waits for the upload")
    release()
    await upload
    await ended
    const final = await types()
    expect(final.slice(-2)).toEqual(["ArtifactStored", "RunEnded"])
    await new Promise((r) => setTimeout(r, 1000))
    expect(await types()).toEqual(final)
    await tracker.close()
  })

  it("a process-owned run's handle sends none", async () => {
    const tracker = await makeTrackerClient(memoryLayer())
    const run = await tracker.startRun({ experiment: "e" })
    await new Promise((r) => setTimeout(r, 1200))
    await run.end()
    expect((await tracker.streamEvents(runStream(run.id))).map((e) => e.type)).toEqual(["RunStarted", "RunEnded"])
    await tracker.close()
  })
})
