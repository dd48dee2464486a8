/** A sweep of 8 processes writing to one store at once: nothing lost or interleaved, one experiment. */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expect, it } from "vitest"
import { verifyStore } from "../packages/store-fs/src/index.ts"
import { openTracker } from "../packages/cli/src/index.ts"

const worker = join(import.meta.dirname, "fixtures", "sweep-worker.ts")

const runWorker = (dir: string, i: number) =>
  new Promise<string[]>((resolve, reject) => {
    const child = spawn(process.execPath, [worker, dir, String(i)], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (err += c.toString()))
    child.on("error", reject)
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as string[]) : reject(new Error(`worker ${i} exited ${code}: ${err}`))))
  })

it("8 concurrent writer processes: every run and point lands, one experiment name is one experiment", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-sweep-"))
  try {
    const ids = (await Promise.all(Array.from({ length: 8 }, (_, i) => runWorker(dir, i)))).flat()
    expect(new Set(ids).size).toBe(24)
    const tracker = await openTracker({ dir })
    try {
      const experiments = await tracker.listExperiments()
      expect(experiments.map((e) => e.name)).toEqual(["sweep"])
      const runs = await tracker.listRuns({ experiment: "sweep" })
      expect(runs).toHaveLength(24)
      for (const r of runs) {
        expect(r.status).toBe("FINISHED")
        const [w, n] = r.name.slice(1).split("-r").map(Number)
        expect(r.params).toEqual({ worker: w, r: n, lr: 10 ** -(n + 1) })
        const loss = await tracker.metricHistory(r.id, "loss")
        expect(loss.map((p) => p.step)).toEqual([...Array(200).keys()])
        expect(loss.every((p, step) => p.value === w + n + 1 / (step + 1))).toBe(true)
        expect((await tracker.metricHistory(r.id, "checkpoint")).map((p) => p.step)).toEqual([0, 50, 100, 150])
        expect(new TextDecoder().decode(await tracker.readArtifact(r.id, "notes.txt"))).toBe(`worker ${w} run ${n}`)
      }
    } finally {
      await tracker.close()
    }
    expect((await verifyStore(dir)).findings).toEqual([])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
