/**
 * The native event API (API-CONTRACT.md, "Events") against a real server on loopback: appends with
 * expected versions and idempotent ids, refusals that append nothing, NDJSON, one stream, blobs by
 * content address, and the SSE live tail seeing an append made by another process of the store.
 */
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { uuidv7 } from "@runledger/core"
import { type RunningServer, startServer } from "../src/index.ts"

const root = mkdtempSync(join(tmpdir(), "runledger-native-"))
const dir = join(root, "store")
let server: RunningServer
beforeAll(async () => {
  server = await startServer({ dir, port: 0 })
})
afterAll(async () => {
  await server.close()
  rmSync(root, { recursive: true, force: true })
})

const api = (path: string) => `${server.url}/api/runledger${path}`
const tagsSet = (i: number) => ({ id: uuidv7(), at: 1000 + i, type: "TagsSet", data: { tags: { i: String(i) } } })
const post = (body: unknown, type = "application/json") =>
  fetch(api("/events"), { method: "POST", headers: { "content-type": type }, body: typeof body === "string" ? body : JSON.stringify(body) })
const head = async () => ((await (await fetch(api("/head"))).json()) as { position: number }).position

describe("the native event API", () => {
  it("appends with an expected version, answers a repeat with the same result, and refuses a stale version with 409", async () => {
    const before = await head()
    const events = [tagsSet(1), tagsSet(2)]
    const first = await post({ stream: "s-1", expectedVersion: 0, events })
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ version: 2, position: before + 2 })
    const again = await post({ stream: "s-1", expectedVersion: 0, events })
    expect(await again.json()).toEqual({ version: 2, position: before + 2 })
    const stale = await post({ stream: "s-1", expectedVersion: 1, events: [tagsSet(3)] })
    expect(stale.status).toBe(409)
    expect(((await stale.json()) as { error: { _tag: string } }).error._tag).toBe("ConcurrencyConflict")
    expect(await head()).toBe(before + 2)
    const stream = (await (await fetch(api("/streams/s-1"))).json()) as { events: Array<{ id: string; version: number; position: number }> }
    expect(stream.events.map((e) => [e.id, e.version, e.position])).toEqual([[events[0].id, 1, before + 1], [events[1].id, 2, before + 2]])
  })

  it("refuses bad input with 400 InvalidInput and appends nothing", async () => {
    const before = await head()
    for (const [body, type] of [
      [{ stream: "s-2", expectedVersion: 0, events: [tagsSet(1), { ...tagsSet(2), data: { tags: 5 } }] }, "application/json"],
      [{ stream: "s-2", expectedVersion: "latest", events: [] }, "application/json"],
      [{ expectedVersion: 0, events: [tagsSet(1)] }, "application/json"],
      ["{not json", "application/json"],
      [{ stream: "s-2", expectedVersion: 0, events: [tagsSet(1)] }, "text/plain"]
    ] as const) {
      const res = await post(body, type)
      expect(res.status).toBe(400)
      const error = ((await res.json()) as { error: { _tag: string; message: string } }).error
      expect(error._tag).toBe("InvalidInput")
      expect(error.message.length).toBeGreaterThan(10)
    }
    expect(await head()).toBe(before)
    const missing = await fetch(api("/nope"))
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { _tag: string } }).error._tag).toBe("NotFound")
  })

  it("streams the log as NDJSON from a position, ending at the head", async () => {
    const h = await head()
    await post({ stream: "s-3", expectedVersion: 0, events: [tagsSet(1), tagsSet(2), tagsSet(3)] })
    const res = await fetch(api(`/events?from=${h + 1}`))
    expect(res.headers.get("content-type")).toBe("application/x-ndjson")
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { position: number; stream: string })
    expect(lines.map((e) => [e.position, e.stream])).toEqual([[h + 2, "s-3"], [h + 3, "s-3"]])
    const narrowed = (await (await fetch(api(`/events?stream=s-3`))).text()).trim().split("\n")
    expect(narrowed).toHaveLength(3)
    expect((await fetch(api("/events?from=-1"))).status).toBe(400)
  })

  it("stores blobs by content address and refuses bytes that do not hash to the name", async () => {
    const bytes = new TextEncoder().encode("some bytes")
    const sha = createHash("sha256").update(bytes).digest("hex")
    const wrong = await fetch(api(`/blobs/${"0".repeat(64)}`), { method: "PUT", body: bytes })
    expect(wrong.status).toBe(400)
    expect((await fetch(api(`/blobs/${"0".repeat(64)}`))).status).toBe(404)
    const put = await fetch(api(`/blobs/${sha}`), { method: "PUT", body: bytes })
    expect(await put.json()).toEqual({ sha256: sha, size: bytes.length })
    const got = await fetch(api(`/blobs/${sha}`))
    expect(got.headers.get("content-type")).toBe("application/octet-stream")
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes)
  })

  it("is described in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> }
    expect(Object.keys(doc.paths["/api/runledger/events"]).sort()).toEqual(["get", "post"])
    expect(Object.keys(doc.paths["/api/runledger/blobs/{sha256}"]).sort()).toEqual(["get", "put"])
    expect(doc.paths["/api/runledger/head"].get).toBeDefined()
    expect(doc.paths["/api/runledger/streams/{stream}"].get).toBeDefined()
  })

  it("tails the log live over SSE, seeing an append by another process of the store, and resumes after Last-Event-ID", async () => {
    const from = await head()
    const controller = new AbortController()
    const res = await fetch(api(`/events?from=${from}&streamPrefix=run-`), { headers: { accept: "text/event-stream" }, signal: controller.signal })
    expect(res.headers.get("content-type")).toBe("text/event-stream")
    const reader = res.body!.getReader()
    // Another process writes to the same directory store.
    const script = "const { openTracker } = await import('@runledger/runtime'); const t = await openTracker({ dir: process.argv[1] }); const r = await t.startRun({ experiment: 'sse' }); await t.close(); console.log(r.id)"
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script, dir], { cwd: join(import.meta.dirname, "../../..") })
    const runId = stdout.trim()
    let text = ""
    while (!text.includes(`"stream":"run-${runId}"`)) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`the tail ended early: ${text}`)
      text += new TextDecoder().decode(value)
    }
    controller.abort()
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    expect(ids.length).toBeGreaterThan(0)
    expect(text).not.toContain('"stream":"experiments"')
    // A reconnect with Last-Event-ID starts after it: the run's first event is not sent again.
    const again = new AbortController()
    const resumed = await fetch(api(`/events?from=0&streamPrefix=run-`), { headers: { accept: "text/event-stream", "last-event-id": String(ids[ids.length - 1]) }, signal: again.signal })
    const r2 = resumed.body!.getReader()
    const first = new TextDecoder().decode((await r2.read()).value)
    expect(first).toContain(": runledger live tail")
    expect(first).not.toContain(`id: ${ids[0]}\n`)
    again.abort()
  })
})
