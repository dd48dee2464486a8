/**
 * The store as commands see it: reads never change it (not even a torn tail or a dead run), a
 * read-only store and a full disk can be read, a damaged last record is reported and never cut,
 * and anchors kept outside the store catch records removed from the end of the log.
 */
import { execFileSync, spawn } from "node:child_process"
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { chainAfter, encodeFrame, sha256 } from "../../adapters-fs/src/index.ts"
import { openTracker } from "../src/index.ts"
import { cli, type CliResult, expectOk, freshRoot, lines, repoRoot } from "./harness.ts"
import { recordStarts, type RunJson } from "./formats.ts"

let root: string
/** A store with a finished run ("baseline"), a run whose process was SIGKILLed, and a torn tail. */
let store: string
let deadRunId: string
const mounts: string[] = []

/** Start the crash test's writer, SIGKILL it after a few acknowledged points; its run id. */
const killedWriter = (dir: string) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "test/fixtures/crash-writer.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] })
    let text = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      text += s
      if ((text.match(/^ack /gm) ?? []).length >= 3) child.kill("SIGKILL")
    })
    child.on("error", reject)
    child.on("exit", () => resolve(/^run (\S+)$/m.exec(text)![1]))
  })

/** Every file of a directory, recursively, with its bytes (the whole store, as a value). */
const snapshot = (dir: string): Map<string, string> => {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.set(p.slice(dir.length), sha256(readFileSync(p)))
    }
  }
  walk(dir)
  return out
}

/** The read-only commands, and the exit status each gives on the torn store (verify reports the tail). */
const reads = (dir: string): Array<[string[], number]> => [
  [["runs", "--dir", dir], 0],
  [["runs", "--json", "--dir", dir], 0],
  [["show", deadRunId, "--dir", dir], 0],
  [["show", "baseline", "--json", "--dir", dir], 0],
  [["experiments", "--dir", dir], 0],
  [["events", "--dir", dir], 0],
  [["log", deadRunId, "--dir", dir], 0],
  [["history", "baseline", "loss", "--dir", dir], 0],
  [["models", "--dir", dir], 0],
  [["anchor", "--dir", dir], 0],
  [["verify", "--dir", dir], 1]
]

/** Run them three at a time (the machine is small; all at once some would take longer than cli's limit). */
const runReads = async (dir: string): Promise<CliResult[]> => {
  const todo = reads(dir)
  const results: CliResult[] = []
  for (let i = 0; i < todo.length; i += 3) results.push(...(await Promise.all(todo.slice(i, i + 3).map(([args]) => cli(args)))))
  results.forEach((r, i) => expect(r.status, `${reads(dir)[i][0].join(" ")}: ${r.stderr}`).toBe(reads(dir)[i][1]))
  return results
}

const canMount = (() => {
  if (process.getuid?.() !== 0) return false
  try {
    execFileSync("mount", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

beforeAll(async () => {
  root = freshRoot()
  store = join(root, "store")
  const tracker = await openTracker({ dir: store })
  try {
    await tracker.withRun({ experiment: "exp", name: "baseline" }, async (run) => {
      await run.logParams({ lr: 0.1 })
      for (let step = 0; step < 5; step++) await run.logMetric("loss", 1 / (step + 1), { step })
    })
  } finally {
    await tracker.close()
  }
  deadRunId = await killedWriter(store)
  // A torn tail: the first half of a record, as a crash mid-append leaves it.
  const json = JSON.stringify({ torn: true })
  const frame = encodeFrame("run-x", "torn", json, sha256(json), chainAfter("", sha256(json)))
  appendFileSync(join(store, "events.log"), frame.slice(0, frame.length >> 1))
}, 60_000)

afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" })
    } catch {
      // already gone
    }
  }
})

describe("a read never changes the store", () => {
  it("every read-only command leaves the store byte for byte as it was: no tail cut, no KILLED appended, no lock", async () => {
    const dir = join(root, "reads")
    cpSync(store, dir, { recursive: true })
    const before = snapshot(dir)
    const results = await runReads(dir)
    expect(snapshot(dir)).toEqual(before)
    expect(existsSync(join(dir, "events.lock"))).toBe(false)
    // The dead run shows KILLED although nothing was recorded.
    const shown = JSON.parse(results[1].stdout) as RunJson[]
    expect(shown.find((r) => r.id === deadRunId)!.status).toBe("KILLED")
    expect(results[2].stdout).toMatch(/status +KILLED: process \d+ on .+ exited without ending the run/)
    for (const r of results.slice(0, -1)) expect(r.stderr).toBe("")
  }, 180_000)
})

describe.skipIf(!canMount)("stores that cannot be written", () => {
  it("a read-only store (a read-only bind mount) can be read by every read command", async () => {
    const source = join(root, "ro-source")
    cpSync(store, source, { recursive: true })
    const dir = join(root, "ro")
    mkdirSync(dir)
    execFileSync("mount", ["--bind", source, dir])
    mounts.push(dir)
    execFileSync("mount", ["-o", "remount,ro,bind", dir])
    expect(() => writeFileSync(join(dir, "probe"), "x")).toThrow(/EROFS/)
    const results = await runReads(dir)
    for (const r of results) expect(r.stderr).not.toMatch(/EACCES|EROFS|EPERM/)
    const shown = JSON.parse(results[1].stdout) as RunJson[]
    expect(shown.map((r) => r.name)).toContain("baseline")
    // A write is refused with the reason, and changes nothing.
    const repaired = await cli(["repair", "--dir", dir])
    expect(repaired.status).toBe(1)
    expect(repaired.stderr).toMatch(/EROFS/)
  }, 180_000)

  it("a full disk: every read works, and a refused write (repair) says the disk is full and leaves no lock or temp file", async () => {
    const dir = join(root, "full")
    mkdirSync(dir)
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir])
    mounts.push(dir)
    cpSync(store, dir, { recursive: true })
    // Fill the disk to the last byte.
    const filler = join(dir, "filler")
    const chunk = Buffer.alloc(64 << 10, 1)
    for (let size = chunk.length; size >= 1; size >>= 1) {
      for (;;) {
        try {
          appendFileSync(filler, chunk.subarray(0, size))
        } catch (e) {
          expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC")
          break
        }
      }
    }
    const before = snapshot(dir)
    const results = await runReads(dir)
    for (const r of results) expect(r.stderr).not.toMatch(/ENOSPC/)
    expect(snapshot(dir)).toEqual(before)
    const repaired = await cli(["repair", "--dir", dir])
    expect(repaired.status).toBe(1)
    expect(lines(repaired.stderr)).toHaveLength(1)
    expect(repaired.stderr).toMatch(/Cannot take the store's lock .*ENOSPC.*The disk is full: free some space and retry\./)
    expect(snapshot(dir)).toEqual(before)
  }, 180_000)
})

describe("the end of the log", () => {
  const copy = (name: string) => {
    const dir = join(root, name)
    cpSync(store, dir, { recursive: true })
    return dir
  }

  it("a damaged (complete) last record is reported by reads and verify, and never cut", async () => {
    const dir = copy("damaged-end")
    const file = join(dir, "events.log")
    const repaired = await cli(["repair", "--dir", dir]) // cut the torn tail: the last record is now a complete one
    expectOk(repaired)
    const bytes = readFileSync(file)
    const last = recordStarts(bytes).at(-1)!
    const at = bytes.indexOf('"status":"KILLED"', last) + 11
    bytes[at] = "F".charCodeAt(0) // KILLED -> FILLED
    writeFileSync(file, bytes)
    const [runs, verified, repairedAgain] = await Promise.all([cli(["runs", "--dir", dir]), cli(["verify", "--dir", dir]), cli(["repair", "--dir", dir])])
    for (const r of [runs, repairedAgain]) {
      expect(r.status, r.stderr).toBe(1)
      expect(r.stderr).toContain(`is damaged at byte offset ${last}`)
      expect(r.stderr).toContain("nothing was cut")
    }
    expect(verified.status).toBe(1)
    expect(verified.stderr).toMatch(new RegExp(`damaged-record: record \\d+ at byte offset ${last}: the checksum does not match`))
    expect(readFileSync(file).equals(bytes)).toBe(true)
  })

  it("anchor notes the head outside the store; verify --anchors, --expect-count and --expect-head then catch records removed from the end", async () => {
    const dir = copy("anchored")
    const file = join(dir, "events.log")
    expectOk(await cli(["repair", "--dir", dir]))
    const anchors = join(root, "anchors.jsonl")
    const before = readFileSync(file)
    const noted = await cli(["anchor", "--dir", dir, "--out", anchors])
    expectOk(noted)
    expect(readFileSync(file).equals(before)).toBe(true)
    const head = JSON.parse(noted.stdout) as { count: number; chain: string; at: string }
    expect(head.count).toBe(recordStarts(before).length)
    expect(head.chain).toMatch(/^[0-9a-f]{64}$/)
    expect(readFileSync(anchors, "utf8")).toBe(noted.stdout)

    // The log grows: every anchor still holds.
    const tracker = await openTracker({ dir })
    await tracker.withRun({ experiment: "exp", name: "later" }, async () => {})
    await tracker.close()
    expectOk(await cli(["anchor", "--dir", dir, "--out", anchors]))
    expect(lines(readFileSync(anchors, "utf8"))).toHaveLength(2)
    const grown = await cli(["verify", "--dir", dir, "--anchors", anchors, "--expect-count", String(head.count), "--expect-head", head.chain])
    expectOk(grown)
    expect(grown.stdout).toContain("; the log extends 3 anchor(s).")

    // Remove the last 3 whole records: a well-formed log, which verify alone cannot tell from an honest one.
    const full = readFileSync(file)
    const starts = recordStarts(full)
    writeFileSync(file, full.subarray(0, starts[starts.length - 3]))
    expectOk(await cli(["verify", "--dir", dir]))
    const [byFile, byCount, byHead] = await Promise.all([
      cli(["verify", "--dir", dir, "--anchors", anchors, "--json"]),
      cli(["verify", "--dir", dir, "--expect-count", String(starts.length)]),
      cli(["verify", "--dir", dir, "--expect-head", (JSON.parse(lines(readFileSync(anchors, "utf8"))[1]) as { chain: string }).chain])
    ])
    expect(byFile.status).toBe(1)
    const report = JSON.parse(byFile.stdout) as { ok: boolean; findings: Array<{ kind: string; message: string }> }
    expect(report.ok).toBe(false)
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "missing-records", message: expect.stringContaining(`the log has ${starts.length - 3} events, but the anchor on line 1 of ${anchors} (${head.at}) noted ${head.count}`) }),
      expect.objectContaining({ kind: "missing-records", message: expect.stringContaining(`the log has ${starts.length - 3} events, but the anchor on line 2 of ${anchors}`) })
    ])
    expect(byCount.status).toBe(1)
    expect(byCount.stderr).toContain(`missing-records: the log has ${starts.length - 3} events, but --expect-head/--expect-count noted ${starts.length}: the last 3 were removed`)
    expect(byHead.status).toBe(1)
    expect(byHead.stderr).toContain("anchor-mismatch: no record carries the chain")

    // The end rewritten in place, checksums, hashes and chain recomputed: only the anchor tells.
    writeFileSync(file, full)
    const text = readFileSync(file, "utf8")
    const records = text.split("\n").filter(Boolean)
    const [, stream, id, , , json] = records[records.length - 1].split("\t")
    const forged = json.replace(/"at":\d+/, '"at":1')
    expect(forged).not.toBe(json)
    const prevChain = records[records.length - 2].split("\t")[4]
    records[records.length - 1] = encodeFrame(stream, id, forged, sha256(forged), chainAfter(prevChain, sha256(forged))).slice(0, -1)
    writeFileSync(file, records.map((r) => `${r}\n`).join(""))
    expectOk(await cli(["verify", "--dir", dir, "--skip-artifacts"]))
    const rewritten = await cli(["verify", "--dir", dir, "--anchors", anchors])
    expect(rewritten.status).toBe(1)
    expect(rewritten.stderr).toMatch(/anchor-mismatch: record \d+ at byte offset \d+ does not carry the chain [0-9a-f]{16}\.\.\. that the anchor on line 2 of .* noted for event \d+: the log was rewritten up to there/)
  }, 120_000)

  it("bad anchors are refused with the line and what is wrong (exit 2)", async () => {
    const bad = join(root, "bad-anchors.jsonl")
    writeFileSync(bad, `${JSON.stringify({ count: 3, chain: "ab".repeat(32) })}\nnot json\n`)
    const [badLine, badHead, badCount, missing] = await Promise.all([
      cli(["verify", "--dir", store, "--anchors", bad]),
      cli(["verify", "--dir", store, "--expect-head", "xyz"]),
      cli(["verify", "--dir", store, "--expect-count", "-1"]),
      cli(["verify", "--dir", store, "--anchors", join(root, "nope.jsonl")])
    ])
    for (const r of [badLine, badHead, badCount, missing]) {
      expect(r.status, r.stderr).toBe(2)
      expect(lines(r.stderr)).toHaveLength(1)
    }
    expect(badLine.stderr).toContain(`Line 2 of ${bad} is not an anchor`)
    expect(badHead.stderr).toContain("the chain must be 64 lowercase hex digits")
    expect(badCount.stderr).toContain("the count must be a whole number >= 0, not -1")
    expect(missing.stderr).toContain("runledger anchor --out")
  })
})
