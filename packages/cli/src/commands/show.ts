import { Argument, Command } from "effect/cli"
import { formatBytes, formatDuration, formatNumber, formatTime, indent, safe, sparkline, table, toJson } from "../format.ts"
import { asOfFlag, out, outExact, parseAsOf, resolveRun, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

/** Metric rows `show` prints; the rest are counted in a note (and all are in --json). */
export const MAX_METRIC_ROWS = 50

export const show = Command.make(
  "show",
  { run: Argument.String("run").pipe(Argument.withDescription("Run id, unique id prefix, or name")), asOf: asOfFlag, json: jsonFlag },
  ({ run, asOf, json }) =>
    withTracker(async (tracker) => {
      const at = parseAsOf(asOf)
      const found = await resolveRun(tracker, run, at)
      const r = at ? await tracker.getRun(found.id, { asOf: at }) : found
      if (json) return outExact(toJson(r))
      const lines: string[] = []
      lines.push(`Run ${r.id}  ${r.name}`)
      lines.push(`  experiment  ${r.experiment} (${r.experimentId})`)
      lines.push(`  status      ${r.status}${r.lifecycle === "deleted" ? " (deleted)" : ""}${r.error ? `: ${safe(r.error.message)}` : ""}${r.resumedFrom.length > 0 ? `; resumed from step ${r.resumedFrom.join(", ")}` : ""}`)
      lines.push(`  started     ${formatTime(r.startTime)}    ended ${formatTime(r.endTime)}    duration ${formatDuration(r.endTime === null ? null : r.endTime - r.startTime)}`)
      if (r.parentRunId) lines.push(`  parent      ${r.parentRunId}`)
      const git = r.source.git
      lines.push(`  code        ${git ? `${git.commit.slice(0, 12)} on ${git.branch ?? "(detached)"}${git.dirty ? " (dirty)" : ""} in ${git.root}` : "not in a git work tree"}`)
      // A stored value may hold a newline: escaped here, it cannot start a line of its own.
      if (r.source.command) lines.push(`  command     ${safe(r.source.command.join(" "))}`)
      const env = r.environment
      lines.push(`  environment ${env.runtime}, ${env.os} ${env.arch}, ${env.cpus} x ${env.cpu}, ${formatBytes(env.memoryBytes)}, host ${env.host}, pid ${env.pid}`)
      const params = Object.entries(r.params)
      if (params.length > 0) lines.push("", "Params", indent(table(["KEY", "VALUE"], params.map(([k, v]) => [k, String(v)]))))
      const tags = Object.entries(r.tags)
      if (tags.length > 0) lines.push("", "Tags", indent(table(["KEY", "VALUE"], tags.map(([k, v]) => [k, v]))))
      const metrics = Object.keys(r.metrics)
      if (metrics.length > 0) {
        // Each row reads its key's history from the run's events, so the rows are capped: a run
        // with thousands of keys is read for MAX_METRIC_ROWS of them, not thousands (which was
        // quadratic: 8,000 keys took 86 s). --json has them all.
        const shown = metrics.slice(0, MAX_METRIC_ROWS)
        const rows: string[][] = []
        for (const k of shown) {
          const history = await tracker.metricHistory(r.id, k, at ? { asOf: at } : {})
          rows.push([k, formatNumber(r.metrics[k]), String(r.metricSteps[k].step), String(history.length), sparkline(history.map((p) => p.value))])
        }
        lines.push("", `Metrics (latest${metrics.length > shown.length ? `; the first ${shown.length} of ${metrics.length}` : ""})`, indent(table(["KEY", "VALUE", "STEP", "POINTS", "HISTORY"], rows)))
        if (metrics.length > shown.length) lines.push(`  … and ${metrics.length - shown.length} more; use --json for every metric.`)
      }
      if (r.artifacts.length > 0) {
        lines.push("", "Artifacts", indent(table(["PATH", "SIZE", "TYPE", "SHA256"], r.artifacts.map((a) => [a.path, formatBytes(a.size), a.mediaType, a.sha256.slice(0, 16)]))))
      }
      out(lines.join("\n"))
    })
).pipe(Command.withDescription("Show one run: status, code version, environment, params, tags, metrics and artifacts"))
