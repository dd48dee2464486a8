/**
 * A small real store for the native API's tests: two experiments, four finished runs with params,
 * metric histories (NaN, -0 and Infinity among the values), artifacts (text, JSON, SVG) and a
 * registered model; written with the in-process tracker, then served by a real server on loopback.
 */
import { openTracker } from "@runledger/runtime"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Seeded {
  readonly dir: string
  readonly runIds: ReadonlyArray<string>
  /** The log position of the first run's RunStarted: as of it, that run has no params yet. */
  readonly firstRunStarted: number
  /** The log position of the first run's second loss point: as of it, its loss history is [1, 0.5] and no other run has begun. */
  readonly firstRunSecondLoss: number
}

export const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>`

export const seedStore = async (): Promise<Seeded> => {
  const dir = join(mkdtempSync(join(tmpdir(), "runledger-native-")), "store")
  const tracker = await openTracker({ dir })
  const runIds: string[] = []
  try {
    const specs = [
      { experiment: "vision", name: "a", lr: 0.1, loss: [1, 0.5, 0.25] },
      { experiment: "vision", name: "b", lr: 0.01, loss: [1, 0.8, NaN] },
      { experiment: "vision", name: "c", lr: 0.01, loss: [0.9, 0.3, -0] },
      { experiment: "text", name: "d", lr: 0.1, loss: [2, Infinity, 0.7] }
    ]
    for (const s of specs) {
      const run = await tracker.startRun({ experiment: s.experiment, name: s.name })
      runIds.push(run.id)
      await run.logParams({ lr: s.lr, model: s.experiment === "vision" ? "cnn" : "rnn" })
      for (let step = 0; step < s.loss.length; step++) await run.logMetric("loss", s.loss[step], { step })
      await run.logMetric("train/acc", 0.5 + runIds.length / 10, { step: 0 })
      if (s.name === "a") {
        await run.logText("hello\n", "notes/readme.txt")
        // A name that is percent-encoded in a URL, with a literal %.
        await run.logText("done\n", "notes/100% done.txt")
        await run.logJson({ k: 1 }, "config.json")
        await run.logBytes(new TextEncoder().encode(SVG), "plots/loss.svg")
      }
      await run.end()
    }
    await tracker.registerModel("classifier", { description: "the best cnn" })
    await tracker.createModelVersion("classifier", { runId: runIds[0], artifactPath: "config.json" })
    const events = await tracker.streamEvents(`run-${runIds[0]}`)
    const losses = events.filter((e) => e.type === "MetricsLogged")
    return { dir, runIds, firstRunStarted: events[0].position, firstRunSecondLoss: losses[1].position }
  } finally {
    await tracker.close()
  }
}
