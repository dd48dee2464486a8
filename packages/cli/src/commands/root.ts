/** The root `runledger` command and the flags every subcommand shares. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { resolve } from "node:path"

export const root = Command.make("runledger").pipe(
  Command.withSharedFlags({
    dir: Flag.String("dir").pipe(
      Flag.withDescription("The store's directory (default: $RUNLEDGER_DIR, else ./runledger)"),
      Flag.optional
    )
  }),
  Command.withDescription(
    [
      "runledger: an event-sourced experiment tracker. Every run, param, metric and artifact is an event in an append-only log.",
      "",
      "Exit status: 0 success; 1 the store failed or is damaged (a problem verify finds, a missing artifact blob);",
      "2 bad usage (bad flags or values, an unknown run, metric, model or experiment, input refused).",
      "",
      "Filters (runs --filter, rank --filter, export --filter, stats --a/--b): MLflow's search syntax plus OR, NOT, ( ).",
      "  metrics.KEY > 0.9                 numbers: = != < <= > >=",
      "  params.KEY = 'mlp'                strings, quoted: = != LIKE ILIKE ('%' any text, '_' one character)",
      "  tags.KEY ILIKE 'exp%'",
      "  attributes.status IN ('FINISHED', 'KILLED')    IN / NOT IN: a list of quoted strings",
      "  attributes: run_id, run_name, status, experiment_id (strings); start_time, end_time (epoch ms)",
      "  combine: a AND b, a OR b, NOT a, (a OR b) AND c   keys with other characters: params.`lr.x`",
      "Order (--order-by): metrics.KEY DESC, attributes.start_time ASC (repeatable); missing values sort last."
    ].join("\n")
  )
)

/** The store directory for this invocation. */
export const storeDir = Effect.flatMap(root, (r) =>
  Option.isSome(r.dir)
    ? Effect.succeed(resolve(r.dir.value))
    // The runtime (the tracker, the stores) is loaded only by commands that open a store: not by --help.
    : Effect.promise(() => import("@runledger/runtime")).pipe(Effect.map((m) => resolve(m.defaultDir()))))

export const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON for scripts (NaN and Infinity as strings)"), Flag.withDefault(false))
