import { modelStream, NotFound, runStream } from "@runledger/core"
import { Argument, Command } from "effect/cli"
import { formatTime, table, toJson } from "../format.ts"
import { out, outExact, resolveRun, withTracker } from "./common.ts"
import { summary } from "./events.ts"
import { jsonFlag } from "./root.ts"

export const log = Command.make(
  "log",
  { target: Argument.String("run-or-model").pipe(Argument.withDescription("A run (id, prefix or name), a registered model's name, or `experiments`")), json: jsonFlag },
  ({ target, json }) =>
    withTracker(async (tracker) => {
      // A model's stream, deleted models' too: `log` is where a deleted model's audit trail is read.
      const isModel = target !== "experiments" && (await tracker.streamEvents(modelStream(target))).length > 0
      let stream: string
      if (target === "experiments") stream = "experiments"
      else if (isModel) stream = modelStream(target)
      else {
        const run = await resolveRun(tracker, target).catch((e: unknown) => {
          if ((e as { _tag?: string })._tag === "NotFound") {
            throw new NotFound({ kind: "run or model", id: target, message: `No run or registered model ${JSON.stringify(target)}.` })
          }
          throw e
        })
        stream = runStream(run.id)
      }
      const events = await tracker.streamEvents(stream)
      if (json) return outExact(events.map((e) => toJson(e, 0)).join("\n"))
      out(
        table(
          ["VERSION", "WHEN", "WHO", "WHAT", "DETAILS"],
          events.map((e) => [
            String(e.version),
            formatTime(e.at),
            `${e.meta?.actor ?? "?"}@${e.meta?.host ?? "?"}${e.meta?.pid !== undefined ? ` pid ${e.meta.pid}` : ""}`,
            e.type,
            summary(e).slice(0, 120)
          ])
        )
      )
    })
).pipe(Command.withDescription("The full history of a run or a model: who did what, and when (from the log)"))
