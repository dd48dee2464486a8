/**
 * The holder of the store's lock dies (SIGKILL) while six writer processes wait for it under load.
 * They all find the lock stale at about the same moment; breaking it must be atomic, or two of them
 * write at once ("Concurrent write ... expected version 2, found 3") and the log is damaged.
 * Twelve trials: each ends with `verify` clean and every acknowledged point present.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, it } from "vitest"
import { verifyStore } from "../../packages/store-fs/src/index.ts"
import { openTracker } from "../../packages/cli/src/index.ts"

const fixtures = join(import.meta.dirname, "..", "fixtures")
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A child process whose stdout lines are collected; `until` waits for a condition on them. */
class Child {
  readonly lines: string[] = []
  stderr = ""
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
  private readonly proc: ChildProcess
  private waiters: Array<() => void> = []
  constructor(script: string, dir: string) {
    this.proc = spawn(process.execPath, [join(fixtures, script), dir], { stdio: ["ignore", "pipe", "pipe"] })
    let buffered = ""
    this.proc.stdout!.setEncoding("utf8").on("data", (s: string) => {
      buffered += s
      const parts = buffered.split("\n")
      buffered = parts.pop()!
      this.lines.push(...parts)
      this.wake()
    })
    this.proc.stderr!.setEncoding("utf8").on("data", (s: string) => (this.stderr += s))
    this.proc.on("exit", (code, signal) => {
      this.exit = { code, signal }
      this.wake()
    })
  }
  private wake() {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }
  get acked(): number[] {
    return this.lines.filter((l) => l.startsWith("ack ")).map((l) => Number(l.slice(4)))
  }
  get runId(): string {
    return this.lines.find((l) => l.startsWith("run "))!.slice(4)
  }
  /** Resolves when `ok()` holds; rejects if the process exits first or after `ms`. */
  until(ok: () => boolean, what: string, ms = 120_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`)), ms)
      const check = () => {
        if (ok()) {
          clearTimeout(timer)
          resolve()
        } else if (this.exit !== null) {
          clearTimeout(timer)
          reject(new Error(`exited (${JSON.stringify(this.exit)}) before ${what}: ${this.stderr}`))
        } else this.waiters.push(check)
      }
      check()
    })
  }
  kill(): Promise<void> {
    if (this.exit !== null) return Promise.resolve()
    this.proc.kill("SIGKILL")
    return new Promise((resolve) => this.proc.once("exit", () => resolve()))
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

it("12 trials: a lock holder SIGKILLed while 6 writers wait; verify is clean and every acknowledged point is there", async () => {
  for (let trial = 0; trial < 12; trial++) {
    const dir = mkdtempSync(join(tmpdir(), "runledger-lockrace-"))
    dirs.push(dir)
    const writers = Array.from({ length: 6 }, () => new Child("lock-writer.ts", dir))
    let holder: Child | null = null
    try {
      await Promise.all(writers.map((w) => w.until(() => w.acked.length >= 5, "5 acknowledged points")))
      holder = new Child("lock-holder.ts", dir)
      await holder.until(() => holder!.lines.includes("held"), "the holder to take the lock")
      // Let every writer reach the lock and wait on it, then kill the holder in the middle of that.
      await sleep(300)
      const before = writers.map((w) => w.acked.length)
      await holder.kill()
      await Promise.all(writers.map((w, i) => w.until(() => w.acked.length >= before[i] + 10, "10 more acknowledged points after the kill")))
    } finally {
      await Promise.all([...writers.map((w) => w.kill()), holder?.kill()])
    }
    for (const w of writers) expect(w.stderr, `trial ${trial}: a writer failed`).toBe("")
    const report = await verifyStore(dir)
    expect(report.findings, `trial ${trial}`).toEqual([])
    const tracker = await openTracker({ dir })
    try {
      for (const w of writers) {
        const steps = new Set((await tracker.metricHistory(w.runId, "m")).map((p) => p.step))
        for (const step of w.acked) expect(steps.has(step), `trial ${trial}: acknowledged step ${step} of ${w.runId} is missing`).toBe(true)
      }
    } finally {
      await tracker.close()
    }
  }
})
