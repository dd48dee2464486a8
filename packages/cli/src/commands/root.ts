/** The root `runledger` command and the flags every subcommand shares. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { resolve } from "node:path"
import { defaultDir } from "@runledger/runtime"

export const root = Command.make("runledger").pipe(
  Command.withSharedFlags({
    dir: Flag.String("dir").pipe(
      Flag.withDescription("The store's directory (default: $RUNLEDGER_DIR, else ./runledger)"),
      Flag.optional
    )
  }),
  Command.withDescription(
    "runledger: an event-sourced experiment tracker. Every run, param, metric and artifact is an event in an append-only log.\nExit status: 0 success, 1 a problem found (verify) or a failure of the store, 2 bad usage (bad flags, unknown run, invalid input)."
  )
)

/** The store directory for this invocation. */
export const storeDir = Effect.map(root, (r) => resolve(Option.getOrElse(r.dir, defaultDir)))

export const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON for scripts (NaN and Infinity as strings)"), Flag.withDefault(false))
