import { invalid } from "@runledger/core"
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { formatNumber, table, toJson } from "../format.ts"
import { out, outExact, resolveRun, withAnalytics } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const compare = Command.make(
  "compare",
  { runs: Argument.String("run").pipe(Argument.withDescription("Two or more runs (id, prefix or name)"), Argument.atLeast(1)), json: jsonFlag },
  ({ runs, json }) =>
    // One run has nothing to be compared with: refused before the store is opened.
    (runs.length < 2
      ? Effect.fail(invalid("run", `compare needs two or more runs, got one (${JSON.stringify(runs[0])}); name the runs to compare, e.g. runledger compare RUN1 RUN2. \`runledger show RUN\` shows one run.`))
      : Effect.void).pipe(Effect.andThen(withAnalytics(async (tracker) => {
      const resolved = await Promise.all(runs.map((r) => resolveRun(tracker, r)))
      const c = await tracker.compareRuns(resolved.map((r) => r.id))
      if (json) return outExact(toJson(c))
      const names = c.runs.map((r) => r.runName)
      const lines = [table(["", ...names], [["id", ...c.runs.map((r) => r.runId.slice(0, 12))], ["status", ...c.runs.map((r) => r.status)]])]
      if (c.params.length > 0) {
        lines.push("", "Params (* differs)")
        lines.push(table(["KEY", ...names], c.params.map((p) => [`${p.differs ? "* " : "  "}${p.key}`, ...p.values.map((v) => v ?? "-")])))
      }
      if (c.metrics.length > 0) {
        lines.push("", "Metrics (last  [min .. max])")
        lines.push(
          table(
            ["KEY", ...names],
            c.metrics.map((m) => [m.key, ...m.values.map((v) => (v === null ? "-" : `${formatNumber(v.last)}  [${v.min === null ? "-" : formatNumber(v.min)} .. ${v.max === null ? "-" : formatNumber(v.max)}]`))])
          )
        )
      }
      out(lines.join("\n"))
    })))
).pipe(Command.withDescription("Compare runs: params side by side (differing ones marked), each metric's last, min and max"))
