import { verifyStore } from "@runledger/adapters-fs"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { formatBytes, toJson } from "../format.ts"
import { err, out, requireStore, task } from "./common.ts"
import { jsonFlag, storeDir } from "./root.ts"

export const verify = Command.make(
  "verify",
  {
    skipArtifacts: Flag.Boolean("skip-artifacts").pipe(Flag.withDescription("Do not re-hash artifact blobs"), Flag.withDefault(false)),
    json: jsonFlag
  },
  ({ skipArtifacts, json }) =>
    Effect.gen(function*() {
      const dir = yield* storeDir
      yield* requireStore(dir)
      const progress = !json && process.stderr.isTTY
      const report = yield* task(() =>
        verifyStore(dir, {
          artifacts: !skipArtifacts,
          ...(progress ? { onProgress: (done: number, total: number) => process.stderr.write(`\rverifying ${formatBytes(done)} / ${formatBytes(total)}`) } : {})
        })
      )
      if (progress) process.stderr.write("\r\x1b[K")
      if (json) out(toJson({ ok: report.findings.length === 0, ...report }))
      else if (report.findings.length === 0) {
        out(`OK: ${report.events} events in ${report.streams} streams (${formatBytes(report.bytes)}), ${report.artifactsChecked} artifacts checked in ${dir}.`)
      } else {
        err(`verify found ${report.findings.length} problem(s) in ${dir}; the first bad place is ${report.findings[0].file}${report.findings[0].offset !== undefined ? ` at byte offset ${report.findings[0].offset}` : ""}:`)
        for (const f of report.findings) err(`  ${f.kind}: ${f.message}`)
      }
      if (report.findings.length > 0) process.exitCode = 1
    })
).pipe(Command.withDescription("Check every record's checksum, every stream's order and every artifact's hash; exit 1 on any problem"))
