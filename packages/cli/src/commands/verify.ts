import type { Anchor } from "@runledger/store-fs"
import { invalid, NotFound } from "@runledger/core"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { readFile } from "node:fs/promises"
import { resolve } from "node:path"
import { formatBytes, toJson } from "../format.ts"
import { err, out, requireStore, task } from "./common.ts"
import { jsonFlag, storeDir } from "./root.ts"

/** The anchors given by flags and files: heads noted earlier that the log must still extend. */
const anchorsOf = async (expectHead: Option.Option<string>, expectCount: Option.Option<number>, files: ReadonlyArray<string>): Promise<Anchor[]> => {
  // Imported when the command runs, not at start: a CLI start loads only what the chosen command needs (issue 11).
  const { anchorProblem, parseAnchors } = await import("@runledger/store-fs")
  const anchors: Anchor[] = []
  if (Option.isSome(expectHead) || Option.isSome(expectCount)) {
    const flag = {
      ...(Option.isSome(expectCount) ? { count: expectCount.value } : {}),
      ...(Option.isSome(expectHead) ? { chain: expectHead.value.trim().toLowerCase() } : {})
    }
    const problem = anchorProblem(flag)
    if (problem !== null) throw invalid("expect-head", `--expect-head/--expect-count: ${problem}.`)
    anchors.push({ ...flag, source: "--expect-head/--expect-count" })
  }
  for (const file of files) {
    const text = await readFile(resolve(file), "utf8").catch((e: NodeJS.ErrnoException) => {
      throw e.code === "ENOENT" ? new NotFound({ kind: "anchors file", id: file, message: `No anchors file ${file}. Write one with \`runledger anchor --out ${file}\`.` }) : e
    })
    try {
      for (const a of parseAnchors(text, file)) anchors.push(a)
    } catch (e) {
      throw invalid("anchors", (e as Error).message)
    }
  }
  return anchors
}

export const verify = Command.make(
  "verify",
  {
    skipArtifacts: Flag.Boolean("skip-artifacts").pipe(Flag.withDescription("Do not re-hash artifact blobs"), Flag.withDefault(false)),
    expectHead: Flag.String("expect-head").pipe(
      Flag.withDescription("A chain noted earlier (`runledger anchor`): some record must still carry it; with --expect-count, record N must"),
      Flag.optional
    ),
    expectCount: Flag.Int("expect-count").pipe(Flag.withDescription("An event count noted earlier: the log must still hold at least that many events"), Flag.optional),
    anchors: Flag.String("anchors").pipe(Flag.withDescription("A file of heads written by `runledger anchor --out FILE` (repeatable): the log must extend each"), Flag.atLeast(0)),
    json: jsonFlag
  },
  ({ skipArtifacts, expectHead, expectCount, anchors, json }) =>
    Effect.gen(function*() {
      const dir = yield* storeDir
      yield* requireStore(dir)
      const expected = yield* task(() => anchorsOf(expectHead, expectCount, anchors))
      const progress = !json && process.stderr.isTTY
      const { verifyStore } = yield* task(() => import("@runledger/store-fs"))
      const report = yield* task(() =>
        verifyStore(dir, {
          artifacts: !skipArtifacts,
          anchors: expected,
          ...(progress ? { onProgress: (done: number, total: number) => process.stderr.write(`\rverifying ${formatBytes(done)} / ${formatBytes(total)}`) } : {})
        })
      )
      if (progress) process.stderr.write("\r\x1b[K")
      if (json) out(toJson({ ok: report.findings.length === 0, ...report }))
      else if (report.findings.length === 0) {
        const anchored = report.anchorsChecked > 0 ? `; the log extends ${report.anchorsChecked} anchor(s)` : ""
        out(`OK: ${report.events} events in ${report.streams} streams (${formatBytes(report.bytes)}), ${report.artifactsChecked} artifacts checked in ${dir}${anchored}.`)
      } else {
        err(`verify found ${report.findings.length} problem(s) in ${dir}; the first bad place is ${report.findings[0].file}${report.findings[0].offset !== undefined ? ` at byte offset ${report.findings[0].offset}` : ""}:`)
        for (const f of report.findings) err(`  ${f.kind}: ${f.message}`)
      }
      if (report.findings.length > 0) process.exitCode = 1
    })
).pipe(
  Command.withDescription(
    "Check every record's checksum, every stream's order, every artifact's hash, the index snapshot against the log and, against anchors noted earlier, the end of the log; exit 1 on any problem"
  )
)
