/**
 * The child that `process.exit()` hands its runs' last events to (see exit.ts): reads them from
 * stdin (v8-serialized, so NaN, -0 and Infinity survive), appends each run's events under the
 * version its handle last saw, and exits 0 only if every run's events were appended.
 */
import { readFileSync } from "node:fs"
import { deserialize } from "node:v8"
import type { Draft } from "@runledger/core"
import { makeTrackerClient } from "@runledger/tracker"
import { Effect } from "effect"
import { trackerLayer } from "./open.ts"

const input = deserialize(readFileSync(0)) as {
  readonly dir: string
  readonly durability: "fsync" | "os"
  readonly runs: ReadonlyArray<{ readonly runId: string; readonly expectedVersion: number; readonly drafts: ReadonlyArray<Draft> }>
}
const client = await makeTrackerClient(trackerLayer({ dir: input.dir, durability: input.durability }))
let failed = 0
for (const r of input.runs) {
  await Effect.runPromise(client.effect.appendRun(r.runId, r.drafts, r.expectedVersion)).catch((e: unknown) => {
    failed++
    process.stderr.write(`run ${r.runId}: ${(e as Error)?.message ?? String(e)}\n`)
  })
}
await client.close()
process.exitCode = failed === 0 ? 0 : 1
