/**
 * The idle cut: a socket that sends nothing for `idleTimeoutMs` is closed when its client stalls
 * (a request half sent), but not while the server is still working on the answer to a request that
 * has fully arrived (a first search folding a big log into the read model can take minutes: the
 * cut used to answer it with a closed socket).
 */
import { connect } from "node:net"
import { afterAll, beforeAll, expect, it } from "vitest"
import { type RunningServer, startServer } from "../src/index.ts"
import { storeDir } from "./helpers.ts"

const IDLE_MS = 100
let server: RunningServer
beforeAll(async () => {
  server = await startServer({ dir: storeDir(), port: 0, idleTimeoutMs: IDLE_MS })
})
afterAll(() => server?.close())

it("answers a request whose answer takes many idle periods to compute", async () => {
  // Seconds of DuckDB work (and the read model's first open) before the first byte of the answer.
  const query = "SELECT sum(hash(i) % 7) AS s FROM range(200000000) t(i)"
  const t0 = performance.now()
  const res = await fetch(`${server.url}/api/runledger/sql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) })
  const lines = (await res.text()).trim().split("\n")
  const took = performance.now() - t0
  expect(res.status).toBe(200)
  expect(JSON.parse(lines[0])).toEqual({ columns: ["s"] })
  expect(lines).toHaveLength(2)
  // The answer came after several idle periods: the cut had every chance to fall.
  expect(took).toBeGreaterThan(3 * IDLE_MS)
})

it("closes a socket whose client stalls half way through sending its request", async () => {
  const { port } = server
  const closed = await new Promise<{ bytes: number }>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      // Headers promise 100 bytes of body; 10 come, then nothing.
      socket.write("POST /api/runledger/sql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"query\":")
    })
    let bytes = 0
    socket.on("data", (b) => (bytes += b.length))
    socket.on("close", () => resolve({ bytes }))
    socket.on("error", reject)
  })
  // Closed by the server, with no answer sent.
  expect(closed.bytes).toBe(0)
})
