/** The `runledger` command tree. */
import { Command } from "effect/cli"
import { demo } from "./commands/demo.ts"
import { events } from "./commands/events.ts"
import { experiments } from "./commands/experiments.ts"
import { history } from "./commands/history.ts"
import { log } from "./commands/log.ts"
import { models } from "./commands/models.ts"
import { root } from "./commands/root.ts"
import { runs } from "./commands/runs.ts"
import { show } from "./commands/show.ts"
import { verify } from "./commands/verify.ts"

export const cli = root.pipe(Command.withSubcommands([demo, experiments, runs, show, history, models, log, verify, events]))
