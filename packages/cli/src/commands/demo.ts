
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { DEMO_EXPERIMENT, leaderboard, runDemo, SWEEP_BATCH_SIZES } from "../demo/demo.ts"
import { toJson } from "../format.ts"
import { err, out, outExact, withTracker } from "./common.ts"
import { jsonFlag } from "./root.ts"

export const demo = Command.make(
  "demo",
  {
    seed: Flag.Int("seed").pipe(Flag.withDescription("Seed of the data set and the models"), Flag.withDefault(42)),
    epochs: Flag.Int("epochs").pipe(Flag.withDescription("Training epochs per model"), Flag.withDefault(30)),
    experiment: Flag.String("experiment").pipe(Flag.withDescription("Experiment to log the runs to"), Flag.withDefault(DEMO_EXPERIMENT)),
    json: jsonFlag
  },
  ({ seed, epochs, experiment, json }) =>
    // Checked before the store is opened: a refused invocation creates nothing.
    (epochs < 1 || epochs > 10_000
      ? Effect.fail(new RangeError(`--epochs must be between 1 and 10000, got ${epochs}.`))
      : Effect.void).pipe(Effect.andThen(withTracker(
      async (tracker, dir) => {
        const log = json ? () => {} : err
        log(`Training 6 models and a ${SWEEP_BATCH_SIZES.length}-run batch-size sweep on a synthetic classification task; logging to ${dir} (experiment ${JSON.stringify(experiment)}).`)
        const outcome = await runDemo(tracker, { seed, epochs, experiment, log })
        if (json) return outExact(toJson(outcome))
        const results = outcome.leaderboard
        out(`\nLeaderboard (${experiment}, this invocation):\n`)
        out(leaderboard(results))
        const { sweep, model } = outcome
        out(`\nAlso logged: the sweep ${sweep.name} (run ${sweep.parentId.slice(0, 12)}) with child runs ${sweep.children.map((c) => c.name).join(", ")}; CSV, PNG and SVG artifacts.`)
        out(`Registered model ${model.name}: ${model.versions.map((v) => `version ${v.version} from ${v.runName} (${v.stage}${v.aliases.map((a) => `, @${a}`).join("")})`).join("; ")}.`)
        // invocation.ts reads the runtime's default store: loaded here, not at start.
        const { hint, shellWord } = await import("../invocation.ts")
        const best = results[0].runId.slice(0, 12)
        out(`\nNext: ${hint(`runs --experiment ${shellWord(experiment)}`, dir)}  |  ${hint(`show ${best}`, dir)}  |  ${hint(`history ${best} val_accuracy`, dir)}`)
        out(`The web UI: ${hint("ui", dir)}  then open http://127.0.0.1:5000/ in a browser`)
      },
      { create: true }
    )))
).pipe(Command.withDescription("Train six small classifiers and a batch-size sweep on seeded data, log them as runs, register the best, and print a leaderboard"))

