/** The root `runledger` command and the flags every subcommand shares. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { resolve } from "node:path"
import { invalid } from "@runledger/core"

export const root = Command.make("runledger").pipe(
  Command.withSharedFlags({
    dir: Flag.String("dir").pipe(
      Flag.withDescription("The store's directory (default: $RUNLEDGER_DIR, else ./runledger)"),
      Flag.optional
    ),
    uri: Flag.String("uri").pipe(
      Flag.withDescription("A runledger server instead of a directory: http(s)://host:port (default: $RUNLEDGER_TRACKING_URI; token: $RUNLEDGER_TOKEN)"),
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

/**
 * The server this invocation talks to, if any: --uri, else $RUNLEDGER_TRACKING_URI unless --dir
 * names a directory. Both flags at once are refused.
 */
export const serverUri = Effect.flatMap(root, (r) => {
  if (Option.isSome(r.uri) && Option.isSome(r.dir)) return Effect.fail(invalid("uri", "Pass --dir (a directory store) or --uri (a server), not both."))
  const uri = Option.isSome(r.uri) ? r.uri.value : Option.isSome(r.dir) ? undefined : process.env.RUNLEDGER_TRACKING_URI || undefined
  if (uri !== undefined && !/^https?:\/\//i.test(uri)) return Effect.fail(invalid("uri", `--uri names a runledger server, http(s)://host:port, not ${JSON.stringify(uri)}; a directory is --dir.`))
  return Effect.succeed(uri)
})

/** The store directory for this invocation; a command that reads the store's files refuses a server. */
export const storeDir = Effect.flatMap(serverUri, (uri) =>
  uri !== undefined
    ? Effect.fail(invalid("uri", `This command works on the store's files, not through a server (${uri}): run it where the store is, with --dir.`))
    : Effect.flatMap(root, (r) =>
      Option.isSome(r.dir)
        ? Effect.succeed(resolve(r.dir.value))
        // The runtime (the tracker, the stores) is loaded only by commands that open a store: not by --help.
        : Effect.promise(() => import("@runledger/runtime")).pipe(Effect.map((m) => resolve(m.defaultDir())))))

export const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON for scripts (NaN and Infinity as strings)"), Flag.withDefault(false))
