/**
 * A writer keeps the store's lock across appends that follow closely (event-log.ts). Two processes
 * appending in tight awaited loops to one stream, each at the version it last knew, must still
 * take turns and judge every append against the whole log: nothing lost, no version written twice,
 * and both see every event.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expect, it } from "vitest"
import { verifyStore } from "../packages/store-fs/src/index.ts"

const writer = join(import.meta.dirname, "fixtures", "burst-writer.ts")

interface Seen {
  readonly conflicts: number
  readonly events: number
  readonly shared: ReadonlyArray<string>
}

const runWriter = (dir: string, name: string, n: number) =>
  new Promise<Seen>((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, name, String(n)], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (err += c.toString()))
    child.on("error", reject)
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as Seen) : reject(new Error(`writer ${name} exited ${code}: ${err}`))))
  })

it("two processes appending in tight awaited loops under kept locks: every append judged against the whole log, both see all events", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-burst-"))
  const n = 150
  try {
    const [a, b] = await Promise.all([runWriter(dir, "a", n), runWriter(dir, "b", n)])
    // n to the shared stream, n to its own, one "ready", one "done": from each writer.
    expect(a.events).toBe(2 * (2 * n + 2))
    expect(b.events).toBe(a.events)
    expect(a.shared).toEqual(b.shared)
    // Versions 1..2n, once each, and each writer's appends all there, in its order.
    expect(a.shared.map((s) => Number(s.split(" ")[0]))).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1))
    for (const w of ["a", "b"]) {
      expect(a.shared.filter((s) => s.split(" ")[1] === w).map((s) => Number(s.split(" ")[2]))).toEqual([...Array(n).keys()])
    }
    expect((await verifyStore(dir)).findings).toEqual([])
    // Both let go of the lock (and of the mark a waiter leaves) when they closed.
    expect(readdirSync(dir).filter((f) => f.startsWith("events.lock"))).toEqual([])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
