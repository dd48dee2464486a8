import type { ExperimentView } from "@runledger/core"
import { Argument, Command, Flag } from "effect/cli"
import { formatTime, listingJson, table } from "../format.ts"
import { asOfFlag, out, outExact, parseAsOf, viewFlag, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

const experimentArg = Argument.String("experiment").pipe(Argument.withDescription("Experiment name or id"))

const describe = (e: ExperimentView) => `${JSON.stringify(e.name)} (${e.id})`

const rename = Command.make("rename", { experiment: experimentArg, name: Argument.String("new-name").pipe(Argument.withDescription("The experiment's new name")) }, ({ experiment, name }) =>
  withTracker(async (tracker) => out(`Renamed to ${describe(await tracker.renameExperiment(experiment, name))}.`))
).pipe(Command.withDescription("Rename an experiment (its runs follow)"))

const remove = Command.make("delete", { experiment: experimentArg }, ({ experiment }) =>
  withTracker(async (tracker) => out(`Deleted experiment ${describe(await tracker.deleteExperiment(experiment))}; its runs are hidden until it is restored.`))
).pipe(Command.withDescription("Delete an experiment (a soft delete, recorded as an event)"))

const restore = Command.make("restore", { experiment: experimentArg }, ({ experiment }) =>
  withTracker(async (tracker) => out(`Restored experiment ${describe(await tracker.restoreExperiment(experiment))}.`))
).pipe(Command.withDescription("Restore a deleted experiment"))

/** `key=value` settings; numbers and booleans keep their type. */
const parseOverride = (text: string): [string, string | number | boolean] => {
  const eq = text.indexOf("=")
  if (eq <= 0) throw new RangeError(`--set ${JSON.stringify(text)} is not key=value.`)
  const key = text.slice(0, eq)
  const raw = text.slice(eq + 1)
  const value = raw === "true" ? true : raw === "false" ? false : raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw
  return [key, value]
}

const fork = Command.make(
  "fork",
  {
    experiment: experimentArg,
    name: Flag.String("name").pipe(Flag.withDescription("Name of the new experiment")),
    set: Flag.String("set").pipe(Flag.withDescription("A setting the fork changes, key=value (repeatable)"), Flag.atLeast(0))
  },
  ({ experiment, name, set }) =>
    withTracker(async (tracker) => {
      const overrides = Object.fromEntries(set.map(parseOverride))
      const e = await tracker.forkExperiment(experiment, { name, overrides })
      out(`Forked ${JSON.stringify(experiment)} as ${describe(e)}${Object.keys(e.overrides).length > 0 ? ` with ${Object.entries(e.overrides).map(([k, v]) => `${k}=${String(v)}`).join(" ")}` : ""}.`)
    })
).pipe(Command.withDescription("Fork an experiment: a new one that records its parent and the settings it changes"))

export const experiments = Command.make("experiments", { view: viewFlag, asOf: asOfFlag, json: jsonFlag }, ({ view, asOf, json }) =>
  withTracker(async (tracker) => {
    const at = parseAsOf(asOf)
    const options = { viewType: view, ...(at ? { asOf: at } : {}) }
    const list = await tracker.listExperimentSummaries(options)
    const rows = list.map(({ runCount, ...e }) => ({ ...e, runs: runCount }))
    if (json) return outExact(listingJson("experiments", rows))
    if (rows.length === 0) {
      // Only an empty store needs the getting-started hint; an empty view of a store is just empty.
      return out(
        view === "deleted"
          ? "No deleted experiments."
          : view === "all" || (await tracker.listExperiments({ viewType: "all", ...(at ? { asOf: at } : {}) })).length === 0
          ? "No experiments. Run `runledger demo`, or log runs with openTracker()."
          : "No active experiments (see --view deleted)."
      )
    }
    const byId = new Map(list.map((e) => [e.id, e.name]))
    out(
      table(
        ["ID", "NAME", "RUNS", "LAST ACTIVITY", "CREATED", "STATE", "FORKED FROM"],
        rows.map((e) => [e.id.slice(0, 12), e.name, String(e.runs), formatTime(e.lastActivity), formatTime(e.createdAt), e.lifecycle, e.parentId ? (byId.get(e.parentId) ?? e.parentId.slice(0, 12)) : "-"])
      )
    )
  })
).pipe(
  Command.withDescription("List experiments with their run counts and last activity; `experiments rename|delete|restore|fork` manage them"),
  Command.withSubcommands([rename, remove, restore, fork])
)
