/**
 * The remote store passes the EventStore contract against a real HTTP server on loopback serving
 * the server's native event routes over a fresh directory store (the full `runledger server`
 * creates MLflow's Default experiment at start, and the contract begins from an empty log).
 */
import { createAdaptorServer, type HttpBindings } from "@hono/node-server"
import { mkdtempSync, rmSync } from "node:fs"
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Hono } from "hono"
import { describeEventStore } from "@runledger/store-conformance"
import { FsArtifactStore, fsArtifactStore, fsEventStore, FsEventLog, verifyStore } from "@runledger/store-fs"
import { openHttpStore } from "@runledger/store-http"
import { eventRoutes } from "../packages/server/src/native/events.ts"
import { mountRoutes, type NativeContext } from "../packages/server/src/native/route.ts"

describeEventStore("http (the native event routes on loopback over a directory)", async () => {
  const root = mkdtempSync(join(tmpdir(), "runledger-http-conf-"))
  const dir = join(root, "store")
  const log = await FsEventLog.open({ dir })
  const app = new Hono<{ Bindings: HttpBindings }>()
  const routes = eventRoutes()
  // The server's native context holds its tracker; these routes use only its store's two ports.
  const ctx = { tracker: { store: { events: fsEventStore(log), artifacts: fsArtifactStore(new FsArtifactStore(dir, true)) } } } as unknown as NativeContext
  mountRoutes(app, routes.routes, ctx)
  const server = createAdaptorServer({ fetch: app.fetch }) as Server
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const stores = [await openHttpStore({ url, spoolDir: join(root, "spool") })]
  return {
    store: stores[0].events,
    audit: async () => (await verifyStore(dir, { artifacts: false })).findings.map((f) => f.message),
    reopen: async () => {
      const s = await openHttpStore({ url, spoolDir: join(root, "spool") })
      stores.push(s)
      return s.events
    },
    close: async () => {
      for (const s of stores) await s.close()
      routes.closeTails()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await log.close()
      rmSync(root, { recursive: true, force: true })
    }
  }
})
