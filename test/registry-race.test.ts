/**
 * Promotions racing on the directory store, between handles in one process and between processes:
 * every promotion lands in some order, exactly one version holds Production, versions stay 1..n.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { expect, it } from "vitest"
import { verifyStore } from "../packages/store-fs/src/index.ts"
import type { Stage } from "../packages/core/src/index.ts"
import { openTracker } from "../packages/cli/src/index.ts"

const setup = async (dir: string, versions: number) => {
  const t = await openTracker({ dir })
  const run = await t.startRun({ experiment: "e" })
  await run.logText("weights", "model/w.txt")
  await run.end()
  await t.registerModel("clf")
  for (let i = 0; i < versions; i++) await t.createModelVersion("clf", { runId: run.id, artifactPath: "model" })
  await t.close()
  return run.id
}

it("two writers on one directory, any interleaving: at most one Production, versions consecutive", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          writer: fc.constantFrom(0, 1),
          op: fc.constantFrom("create", "promote", "alias"),
          version: fc.integer({ min: 1, max: 4 }),
          stage: fc.constantFrom<Stage>("None", "Staging", "Production", "Archived"),
          archive: fc.boolean()
        }),
        { minLength: 2, maxLength: 12 }
      ),
      async (cmds) => {
        const dir = mkdtempSync(join(tmpdir(), "runledger-race-"))
        try {
          const runId = await setup(dir, 1)
          const writers = [await openTracker({ dir }), await openTracker({ dir })]
          const results = await Promise.allSettled(
            cmds.map((c) => {
              const t = writers[c.writer]
              if (c.op === "create") return t.createModelVersion("clf", { runId, artifactPath: "model" })
              if (c.op === "alias") return t.setAlias("clf", "best", c.version)
              return t.transitionStage("clf", c.version, c.stage, { archiveExisting: c.archive })
            })
          )
          // Losing a race is never an error: a refusal is always one of the domain's reasons.
          for (const r of results) if (r.status === "rejected") expect(["InvalidInput", "NotFound"]).toContain((r.reason as { _tag: string })._tag)
          const versions = await writers[0].listModelVersions("clf")
          const creates = cmds.filter((c) => c.op === "create").length
          expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 1 + creates }, (_, i) => i + 1))
          expect(versions.filter((v) => v.stage === "Production").length).toBeLessThanOrEqual(1)
          for (const w of writers) await w.close()
          expect((await verifyStore(dir)).findings).toEqual([])
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      }
    ),
    { numRuns: 15 }
  )
})

const promoter = join(import.meta.dirname, "fixtures", "promoter.ts")
const runPromoter = (dir: string, worker: number, versions: number, times = 6) =>
  new Promise<number[]>((resolve, reject) => {
    const child = spawn(process.execPath, [promoter, dir, String(worker), String(versions), String(times)], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (err += c.toString()))
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`promoter ${worker} exited ${code}: ${err}`))))
  })

/**
 * The promotions in the model's log are a chain: each archives the holder the one before it left.
 * Returns the final holder, which must be the only version in Production.
 */
const checkChain = async (dir: string) => {
  const t = await openTracker({ dir })
  const events = (await t.streamEvents("model-clf")).filter((e) => e.type === "StagePromoted")
  let holder: number | undefined
  for (const e of events) {
    if (e.type !== "StagePromoted") continue
    expect(e.data.version).not.toBe(holder)
    expect(e.data.archived.map((a) => a.version)).toEqual(holder === undefined ? [] : [holder])
    holder = e.data.version
  }
  const versions = await t.listModelVersions("clf")
  expect(versions.filter((v) => v.stage === "Production").map((v) => v.version)).toEqual([holder])
  await t.close()
  expect((await verifyStore(dir)).findings).toEqual([])
  return { events: events.length, holder }
}

it("4 processes racing promotions: every promotion lands, exactly one Production at the end", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-promote-"))
  try {
    await setup(dir, 4)
    const landed = (await Promise.all([0, 1, 2, 3].map((w) => runPromoter(dir, w, 4)))).flat()
    expect(landed.length).toBe(4 * 6)
    // A promotion of the version already in Production succeeds without an event.
    const { events } = await checkChain(dir)
    expect(events).toBeGreaterThan(0)
    expect(events).toBeLessThanOrEqual(landed.length)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

it("2 processes promoting different versions 20 times each: no refusal, a consistent chain, one Production", async () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-promote2-"))
  try {
    await setup(dir, 2)
    // Worker 0 promotes 1, 2, 1, ...; worker 1 promotes 2, 1, 2, ...: each often finds its version
    // already there, put by the other.
    const [a, b] = await Promise.all([runPromoter(dir, 0, 2, 20), runPromoter(dir, 1, 2, 20)])
    expect([a.length, b.length]).toEqual([20, 20])
    await checkChain(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
