/**
 * The `runledger` command line, started by bin.ts. Exit status: 0 success; 1 the store failed or is damaged (a problem
 * verify finds, a damaged log, a missing artifact blob, a disk error); 2 bad usage (bad flags or
 * values, an unknown run, metric, model or experiment, input the store refuses). Errors are one
 * line on stderr.
 */
import { NodeServices } from "./node-services.ts"
import { Cause, Effect, Exit } from "effect"
import { CliConfig, CliOutput, Command, GlobalFlag } from "effect/cli"
import { cli } from "./cli.ts"
import { safe } from "./format.ts"

const USAGE_ERRORS = new Set([
  "UnrecognizedOption",
  "DuplicateOption",
  "MissingOption",
  "MissingArgument",
  "UnexpectedArgument",
  "InvalidValue",
  "UnknownSubcommand",
  "ValidationError",
  "UserError",
  "InvalidInput",
  "NotFound",
  "ParamConflict",
  "RunNotActive",
  "FilterParseError",
  "OrderByParseError",
  "PageTokenError",
  "NotEnoughRuns"
])

/** An error's first non-blank line, safe for a terminal (messages quote stored names and argv). */
const firstLine = (e: unknown): string => {
  const message = e instanceof Error ? e.message : typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)
  return safe(message.split("\n").find((l) => l.trim().length > 0)?.trim() ?? String(e))
}

// A reader that stops early (`runledger events | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0)
  throw e
})

/**
 * Of effect-cli's built-in global flags only --help and --version: --wizard, --completions and
 * --log-level do nothing useful here and cluttered every help page.
 */
const BuiltInFlags = CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })

/** Help and version as usual; a bad invocation as one line on stderr instead of the whole help page. */
const OneLineErrors = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.sync(() => {
        const path = event.commandPath.join(" ")
        process.stderr.write(`${path}: ${firstLine(event.errors[0])} (see ${path} --help)\n`)
      })
      : CliOutput.defaultPresenter.present(event)
})

const exit = await Effect.runPromiseExit(
  Command.runWith(cli, { version: "0.1.0" })(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer), Effect.provide(OneLineErrors), Effect.provide(BuiltInFlags))
)
if (Exit.isFailure(exit)) {
  const error = Cause.squash(exit.cause)
  const tag = typeof error === "object" && error !== null && "_tag" in error ? String((error as { _tag: unknown })._tag) : ""
  if (tag === "ShowHelp") {
    // Help was asked for (exit 0), or the invocation was bad and has been reported in one line (exit 2).
    process.exitCode = (error as { errors: ReadonlyArray<unknown> }).errors.length > 0 ? 2 : 0
  } else {
    const usage = USAGE_ERRORS.has(tag) || error instanceof RangeError
    process.stderr.write(`runledger: ${firstLine(error)}${usage && tag !== "NotFound" && tag !== "InvalidInput" && tag !== "NotEnoughRuns" ? " (see runledger --help)" : ""}\n`)
    process.exitCode = usage ? 2 : 1
  }
}
