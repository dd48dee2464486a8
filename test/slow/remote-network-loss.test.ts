/**
 * Network loss: a remote client keeps logging while its server is down (awaited calls resolve
 * durable in the spool), and everything arrives exactly once when the server is back on the same
 * store and port. Also `runledger sync` of a spool a client left behind. Real server processes.
 */
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { expect, it } from "vitest"
import { openTracker, StorageError } from "@runledger/runtime"
import { cli, freshRoot } from "../../packages/cli/test/harness.ts"
import { serve } from "./remote-harness.ts"

const steps = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i)

it("logging through a server outage: awaited calls resolve from the spool, every point arrives exactly once", async () => {
  const root = freshRoot()
  const store = join(root, "store")
  const spoolDir = join(root, "spool")
  let server = await serve(store)
  const tracker = await openTracker({ uri: server.url, spoolDir })
  try {
    const run = await tracker.startRun({ experiment: "outage" })
    await run.logParam("phase", "online")
    for (const i of steps(100)) void run.logMetric("x", i, { step: i })
    await run.flush()
    await server.stop()

    // Down: un-awaited and awaited calls go on; the awaited ones resolve once durable in the spool.
    for (const i of steps(100, 100)) void run.logMetric("x", i, { step: i })
    await run.logMetric("x", 200, { step: 200 })
    for (const i of steps(49, 201)) void run.logMetric("x", i, { step: i })
    await run.flush()
    expect(readdirSync(spoolDir).filter((f) => f.endsWith(".json")).length).toBeGreaterThan(0)
    // A read needs the server: it says where the appends wait.
    const offline = await tracker.getRun(run.id).then(() => undefined, (e: unknown) => e)
    expect(offline).toBeInstanceOf(StorageError)
    expect((offline as StorageError).message).toContain(spoolDir)
    expect((offline as StorageError).message).toContain("runledger sync")

    server = await serve(store, server.port)
    for (const i of steps(50, 250)) void run.logMetric("x", i, { step: i })
    await run.end()
    const history = await tracker.metricHistory(run.id, "x")
    expect(history.map((p) => p.step)).toEqual(steps(300))
    expect(history.map((p) => p.value)).toEqual(steps(300))
    expect((await tracker.getRun(run.id)).status).toBe("FINISHED")
    expect(readdirSync(spoolDir).filter((f) => f.endsWith(".json"))).toEqual([])
  } finally {
    await tracker.close()
    await server.stop()
  }
}, 60_000)

it("runledger sync pushes a spool a client left behind while the server was down; a second sync sends nothing twice", async () => {
  const root = freshRoot()
  const store = join(root, "store")
  const spoolDir = join(root, "spool")
  let server = await serve(store)
  const writer = await openTracker({ uri: server.url, spoolDir })
  const run = await writer.startRun({ experiment: "left-behind" })
  await run.logMetric("y", 0, { step: 0 })
  await server.stop()
  for (const i of steps(99, 1)) void run.logMetric("y", i, { step: i })
  await run.end()
  // The client goes away with its appends still spooled.
  await writer.close()
  const spooled = readdirSync(spoolDir).filter((f) => f.endsWith(".json")).length
  expect(spooled).toBeGreaterThan(0)

  server = await serve(store, server.port)
  try {
    const first = await cli(["sync", spoolDir, "--uri", server.url, "--json"])
    expect(first.status, first.stderr).toBe(0)
    const report = JSON.parse(first.stdout) as { sent: number; alreadyPresent: number; remaining: number; rejected: unknown[] }
    expect(report).toMatchObject({ sent: spooled, alreadyPresent: 0, remaining: 0, rejected: [] })
    const again = await cli(["sync", spoolDir, "--uri", server.url, "--json"])
    expect(JSON.parse(again.stdout)).toMatchObject({ sent: 0, alreadyPresent: 0, remaining: 0 })

    const reader = await openTracker({ uri: server.url, spoolDir: join(root, "reader-spool") })
    try {
      expect((await reader.metricHistory(run.id, "y")).map((p) => p.step)).toEqual(steps(100))
      expect((await reader.getRun(run.id)).status).toBe("FINISHED")
    } finally {
      await reader.close()
    }
  } finally {
    await server.stop()
  }
}, 60_000)
