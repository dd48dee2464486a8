/**
 * Property: any sequence of appends written to the spool and pushed to a real server on loopback,
 * through pushes that randomly fail before sending or lose the server's answer after it appended
 * (so the push sends it again), lands in the store exactly once, in order.
 */
import { createAdaptorServer, type HttpBindings } from "@hono/node-server"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Hono } from "hono"
import { expect, it } from "vitest"
import type { NewEvent } from "@runledger/core"
import { FsArtifactStore, fsArtifactStore, fsEventStore, FsEventLog } from "@runledger/store-fs"
import { appendBody, pushSpool, send, spoolAppend, Unreachable } from "@runledger/store-http"
import { eventRoutes } from "../packages/server/src/native/events.ts"
import { mountRoutes, type NativeContext } from "../packages/server/src/native/route.ts"
import { newEvent, sameValue } from "../packages/store-conformance/src/arbitraries.ts"

const serveStore = async (dir: string) => {
  const log = await FsEventLog.open({ dir, durability: "os" })
  const app = new Hono<{ Bindings: HttpBindings }>()
  const events = fsEventStore(log)
  const ctx = { tracker: { store: { events, artifacts: fsArtifactStore(new FsArtifactStore(dir, false)) } } } as unknown as NativeContext
  mountRoutes(app, eventRoutes().routes, ctx)
  const server = createAdaptorServer({ fetch: app.fetch }) as Server
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await log.close()
    }
  }
}

/** What a push attempt does: go through, fail before sending, or send and lose the answer. */
const outcome = fc.constantFrom("ok", "ok", "refused", "lost")

it("spooled appends pushed through failing, repeating pushes land exactly once, in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom("run-a", "run-b", "experiments"), fc.array(newEvent, { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 12 }),
      fc.infiniteStream(outcome),
      async (appends, outcomes) => {
        const root = mkdtempSync(join(tmpdir(), "runledger-spool-prop-"))
        const served = await serveStore(join(root, "store"))
        try {
          const spool = join(root, "spool")
          // Ids unique across the whole sequence (the arbitrary may repeat a uuid).
          const seen = new Set<string>()
          const versions = new Map<string, number>()
          const expected: Array<{ stream: string; event: NewEvent }> = []
          for (const [stream, events] of appends) {
            const fresh = events.filter((e) => !seen.has(e.id) && (seen.add(e.id), true))
            if (fresh.length === 0) continue
            const version = versions.get(stream) ?? 0
            await spoolAppend(spool, appendBody(stream, fresh, version))
            versions.set(stream, version + fresh.length)
            for (const event of fresh) expected.push({ stream, event })
          }
          const server = { url: served.url, timeoutMs: 10_000 }
          const post = async (body: string) => (await (await send(server, { method: "POST", path: "/api/runledger/events", body: () => body, headers: { "content-type": "application/json" }, retries: 0 })).json()) as { position: number }
          const next = outcomes[Symbol.iterator]()
          let rounds = 0
          for (;;) {
            const report = await pushSpool(spool, {
              post: async (body) => {
                const what = next.next().value
                if (what === "refused") throw new Unreachable("connection refused (simulated)")
                const answer = await post(body)
                if (what === "lost") throw new Unreachable("the answer was lost (simulated timeout)")
                return answer
              },
              head: async () => ((await (await send(server, { method: "GET", path: "/api/runledger/head" })).json()) as { position: number }).position,
              unreachable: (e) => e instanceof Unreachable
            })
            expect(report.rejected).toEqual([])
            if (report.remaining === 0) break
            if (++rounds > 200) throw new Error("the spool never drained")
          }
          expect(readdirSync(spool).filter((f) => f.endsWith(".json"))).toEqual([])
          const stored = await Effect.runPromise(Stream.runCollect(served.events.readAll(0)))
          expect(stored.length).toBe(expected.length)
          stored.forEach((e, i) => {
            expect(e.stream).toBe(expected[i].stream)
            expect(e.id).toBe(expected[i].event.id)
            expect(sameValue(e.data, expected[i].event.data)).toBe(true)
          })
        } finally {
          await served.close()
          rmSync(root, { recursive: true, force: true })
        }
      }
    ),
    { numRuns: 25 }
  )
})

it("a server that takes the connection but never answers: the append times out once and is spooled, then synced exactly once", async () => {
  const { createServer } = await import("node:net")
  const { openHttpStore, spooledFiles, syncSpool } = await import("@runledger/store-http")
  const { uuidv7 } = await import("@runledger/core")
  const root = mkdtempSync(join(tmpdir(), "runledger-spool-hang-"))
  const sockets: import("node:net").Socket[] = []
  const hanging = createServer((s) => void sockets.push(s))
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve))
  const spool = join(root, "spool")
  const served = await serveStore(join(root, "store"))
  try {
    const store = await openHttpStore({ url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`, timeoutMs: 300, spoolDir: spool, onSpool: () => {} })
    const events: NewEvent[] = [1, 2].map((i) => ({ id: uuidv7(), at: i, type: "TagsSet", data: { tags: { i: String(i) } } }) as NewEvent)
    expect(await Effect.runPromise(store.events.append("run-h", events, 0))).toEqual({ version: 2, position: 0 })
    expect(await spooledFiles(spool)).toHaveLength(1)
    // The server that does answer gets it, once, however often it is synced.
    expect(await syncSpool(spool, { url: served.url })).toMatchObject({ sent: 1, alreadyPresent: 0, remaining: 0 })
    expect(await syncSpool(spool, { url: served.url })).toMatchObject({ sent: 0, remaining: 0 })
    const stored = await Effect.runPromise(Stream.runCollect(served.events.readAll(0)))
    expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id))
    for (const s of sockets) s.destroy()
    await store.close()
  } finally {
    for (const s of sockets) s.destroy()
    hanging.close()
    await served.close()
    rmSync(root, { recursive: true, force: true })
  }
})
