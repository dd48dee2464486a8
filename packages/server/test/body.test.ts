/**
 * The JSON body path: a body that states its length is read into one buffer (reused across
 * requests) and decoded once. Through a real server on loopback over a real store: every body
 * arrives whole and exactly, whatever came before it in the same buffer, and a client gone
 * mid-body leaves nothing behind and nothing waiting.
 */
import fc from "fast-check"
import { statSync } from "node:fs"
import { connect } from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningServer, startServer } from "../src/index.ts"
import { mlflow, storeDir } from "./helpers.ts"

describe("request bodies of a stated length", () => {
  let dir: string
  let server: RunningServer
  let runId: string

  beforeAll(async () => {
    dir = storeDir()
    server = await startServer({ dir, port: 0 })
    const r = await mlflow(server.url, "POST", "runs/create", { experiment_id: "0" })
    runId = (r.json.run as { info: { run_id: string } }).info.run_id
  })
  afterAll(async () => {
    await server?.close()
  })

  it("arrive whole and exactly: long and short bodies in turn, multi-byte text split across chunks, up to a few MB", async () => {
    let round = 0
    await fc.assert(
      fc.asyncProperty(
        // Up to 100 tags of up to 8000 characters (MLflow's limits): bodies from a few bytes to over 1 MB.
        fc.array(fc.string({ unit: "grapheme", maxLength: 8000 }), { minLength: 1, maxLength: 100 }),
        fc.string({ unit: fc.constantFrom(" ", "\n", "\t"), maxLength: 3 }),
        async (values, padding) => {
          round++
          const tags = values.map((value, i) => ({ key: `t${round}.${i}`, value }))
          const res = await fetch(`${server.url}/api/2.0/mlflow/runs/log-batch`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: padding + JSON.stringify({ run_id: runId, tags }) + padding
          })
          expect(res.status).toBe(200)
          const got = await mlflow(server.url, "GET", "runs/get", { run_id: runId })
          const stored = new Map(((got.json.run as { data: { tags: Array<{ key: string; value: string }> } }).data.tags).map((t) => [t.key, t.value]))
          for (const t of tags) expect(stored.get(t.key)).toBe(t.value)
        }
      ),
      // And the largest: 100 tags of 8000 characters of 4 UTF-8 bytes each, over 3 MB.
      { numRuns: 12, examples: [[new Array<string>(100).fill("\u{1F600}".repeat(4000)), ""]] }
    )
  })

  it("a client that closes before its stated length arrives: nothing appended, the server answers the next request and closes without waiting on it", async () => {
    const size = () => statSync(join(dir, "events.log")).size
    const before = size()
    const { port } = new URL(server.url)
    const body = JSON.stringify({ run_id: runId, tags: [{ key: "cut", value: "x".repeat(200_000) }] })
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(`POST /api/2.0/mlflow/runs/log-batch HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`)
        // Part of the body (more than one chunk), then gone.
        socket.end(body.slice(0, 150_000))
      })
      socket.on("error", reject)
      socket.on("close", () => resolve())
      socket.resume()
    })
    expect((await mlflow(server.url, "POST", "runs/set-tag", { run_id: runId, key: "after", value: "1" })).status).toBe(200)
    const got = await mlflow(server.url, "GET", "runs/get", { run_id: runId })
    const keys = (got.json.run as { data: { tags: Array<{ key: string }> } }).data.tags.map((t) => t.key)
    expect(keys).toContain("after")
    expect(keys).not.toContain("cut")
    expect(size()).toBeGreaterThan(before)
    // close() waits for every request in flight: the cut one must have settled.
    await server.close()
    const reopened = await startServer({ dir, port: 0 })
    server = reopened
    const again = await mlflow(server.url, "GET", "runs/get", { run_id: runId })
    expect((again.json.run as { data: { tags: Array<{ key: string }> } }).data.tags.map((t) => t.key)).not.toContain("cut")
  })
})
