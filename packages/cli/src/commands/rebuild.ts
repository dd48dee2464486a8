import { Command } from "effect/cli"
import { progressBar } from "../progress.ts"
import { out, withTracker } from "./common.ts"

export const rebuild = Command.make("rebuild", {}, () =>
  withTracker(async (tracker) => {
    const started = Date.now()
    const bar = progressBar("rebuilding the read model")
    let r
    try {
      r = await tracker.rebuildReadModel({ onProgress: (position, head) => bar.update(position, head) })
    } finally {
      bar.done()
    }
    out(`Rebuilt the read model from ${r.events.toLocaleString("en-US")} events in ${((Date.now() - started) / 1000).toFixed(1)} s.`)
  })
).pipe(Command.withDescription("Drop the analytics read model and fold the whole log into it again (it is a projection: nothing is lost)"))
