import { Command } from "effect/cli"
import { formatTime, table, toJson } from "../format.ts"
import { out, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const experiments = Command.make("experiments", { json: jsonFlag }, ({ json }) =>
  withTracker(async (tracker) => {
    const [list, runs] = await Promise.all([tracker.listExperiments(), tracker.listRuns()])
    const counts = new Map<string, number>()
    for (const r of runs) counts.set(r.experimentId, (counts.get(r.experimentId) ?? 0) + 1)
    const rows = list.map((e) => ({ ...e, runs: counts.get(e.id) ?? 0 }))
    if (json) return out(toJson(rows))
    if (rows.length === 0) return out("No experiments yet. Run `runledger demo`, or log runs with openTracker().")
    out(table(["ID", "NAME", "RUNS", "CREATED"], rows.map((e) => [e.id.slice(0, 12), e.name, String(e.runs), formatTime(e.createdAt)])))
  })
).pipe(Command.withDescription("List experiments with their run counts"))
