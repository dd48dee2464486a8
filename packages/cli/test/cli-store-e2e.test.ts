/**
 * The store as commands see it: reads never change it (not even a torn tail or a dead run), a
 * damaged last record is reported and never cut, and anchors kept outside the store catch records
 * removed from the end of the log. (A read-only store and a full disk: test/slow/unwritable-store.)
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { chainAfter, encodeFrameBytes, recordJson, scanFrame, sha256 } from "../../store-fs/src/index.ts"
import { openTracker } from "../src/index.ts"
import { makeCrashedStore, runReads, snapshot } from "./crashed-store.ts"
import { cli, expectOk, freshRoot, lines } from "./harness.ts"
import { parseListing, recordStarts, type RunJson } from "./formats.ts"

let root: string
let store: string
let deadRunId: string

beforeAll(async () => {
  root = freshRoot()
  store = join(root, "store")
  deadRunId = await makeCrashedStore(store)
}, 60_000)

describe("a read never changes the store", () => {
  it("every read-only command leaves the store byte for byte as it was: no tail cut, no KILLED appended, no lock", async () => {
    const dir = join(root, "reads")
    cpSync(store, dir, { recursive: true })
    // The SIGKILLed writer may have died holding events.lock: then it is part of the store as found.
    const lockedBefore = existsSync(join(dir, "events.lock"))
    const before = snapshot(dir)
    const results = await runReads(dir, deadRunId)
    expect(snapshot(dir)).toEqual(before)
    expect(existsSync(join(dir, "events.lock"))).toBe(lockedBefore)
    // The dead run shows KILLED although nothing was recorded.
    const shown = parseListing<RunJson>(results[1].stdout, "runs")
    expect(shown.find((r) => r.id === deadRunId)!.status).toBe("KILLED")
    expect(results[2].stdout).toMatch(/status +KILLED: process \d+ on .+ exited without ending the run/)
    for (const r of results.slice(0, -1)) expect(r.stderr).toBe("")
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
    bytes[bytes.length - 1] ^= 0x01 // one bit of the last record's stored JSON
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
    const [beforeLast, last] = recordStarts(full).slice(-2)
    const lastFrame = scanFrame(full, last, full.length)
    const prevFrame = scanFrame(full, beforeLast, full.length)
    if (!lastFrame.ok || !prevFrame.ok) throw new Error("the log's last records are damaged")
    const json = recordJson(full, last, lastFrame.end).toString("utf8")
    const forged = json.replace(/"at":\d+/, '"at":1')
    expect(forged).not.toBe(json)
    const reframed = encodeFrameBytes(lastFrame.stream, lastFrame.id, Buffer.from(forged), sha256(forged), chainAfter(prevFrame.chain, sha256(forged)))
    writeFileSync(file, Buffer.concat([full.subarray(0, last), ...reframed.pieces]))
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
