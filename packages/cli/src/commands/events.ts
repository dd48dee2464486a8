import type { RecordedEvent } from "@runledger/core"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { formatTime, safe, toJson } from "../format.ts"
import { out, outExact, requireStore, task } from "./common.ts"
import { storeDir } from "./root.ts"

/** One line of what an event says, for people. */
export const summary = (e: RecordedEvent): string => {
  switch (e.type) {
    case "ExperimentCreated":
      return `${e.data.name} (${e.data.experimentId})`
    case "ExperimentRenamed":
      return `${e.data.experimentId} -> ${e.data.name}`
    case "ExperimentDeleted":
    case "ExperimentRestored":
      return e.data.experimentId
    case "ExperimentTagsSet":
      return `${e.data.experimentId}: ${Object.entries(e.data.tags).map(([k, v]) => `${k}=${v}`).join(" ")}`
    case "ExperimentForked":
      return `${e.data.name} (${e.data.experimentId}) from ${e.data.parentExperimentId}${Object.keys(e.data.overrides).length > 0 ? ` with ${Object.entries(e.data.overrides).map(([k, v]) => `${k}=${String(v)}`).join(" ")}` : ""}`
    case "RunStarted":
      return `${e.data.name} in experiment ${e.data.experimentId}${e.data.owner?.kind === "lease" ? ` (lease of ${e.data.owner.ttlMs} ms)` : e.data.owner?.kind === "none" ? " (no owner)" : ""}`
    case "ParamsLogged":
      return Object.entries(e.data.params).map(([k, v]) => `${k}=${String(v)}`).join(" ")
    case "MetricsLogged": {
      const keys = [...new Set(e.data.keys)]
      return `${e.data.keys.length} point(s) of ${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", ..." : ""}`
    }
    case "TagsSet":
      return Object.entries(e.data.tags).map(([k, v]) => `${k}=${v}`).join(" ")
    case "TagDeleted":
      return e.data.key
    case "RunRenamed":
      return `-> ${e.data.name}`
    case "ArtifactStored":
      return `${e.data.path} (${e.data.size} bytes, sha256 ${e.data.sha256.slice(0, 12)})`
    case "InputLogged": {
      const context = e.data.tags["mlflow.data.context"]
      return `dataset ${e.data.name} (digest ${e.data.digest}) from ${e.data.sourceType}${context !== undefined ? `, ${context}` : ""}`
    }
    case "RunEnded":
      return `${e.data.status}${e.data.error ? `: ${e.data.error.message}` : ""}`
    case "RunDeleted":
    case "RunRestored":
    case "ModelDeleted":
    case "RunHeartbeat":
      return ""
    case "RunResumed":
      return `from step ${e.data.fromStep}`
    case "ModelRegistered":
      return `${e.data.name}${e.data.description ? `: ${e.data.description}` : ""}`
    case "ModelVersionCreated":
      return `version ${e.data.version} from runs:/${e.data.runId}/${e.data.artifactPath}`
    case "StagePromoted":
      return `version ${e.data.version}: ${e.data.from} -> ${e.data.to}${e.data.archived.length > 0 ? ` (archived ${e.data.archived.map((a) => `v${a.version}`).join(", ")})` : ""}`
    case "AliasSet":
      return `@${e.data.alias} -> version ${e.data.version}${e.data.previous !== null ? ` (was ${e.data.previous})` : ""}`
    case "AliasDeleted":
      return `@${e.data.alias} (was version ${e.data.version})`
    case "ModelRenameClaimed":
      return `name claimed for model ${e.data.from} (its stream at version ${e.data.fromVersion})`
    case "ModelRenamed":
      return `-> ${e.data.to}`
    case "ModelRenameAbandoned":
      return `rename to ${e.data.to} abandoned (by repair)`
    case "ModelDescribed":
      return JSON.stringify(e.data.description)
    case "ModelVersionDescribed":
      return `version ${e.data.version}: ${JSON.stringify(e.data.description)}`
  }
}

export const events = Command.make(
  "events",
  {
    follow: Flag.Boolean("follow").pipe(Flag.withAlias("f"), Flag.withDescription("Keep printing events as they are appended (Ctrl-C to stop)"), Flag.withDefault(false)),
    from: Flag.Int("from").pipe(Flag.withDescription("Start at this log position (inclusive, like --as-of; 0 or 1: the first event)"), Flag.withDefault(1)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("One JSON object per line (NDJSON), NaN and Infinity as strings"), Flag.withDefault(false))
  },
  ({ follow, from, json }) =>
    Effect.gen(function*() {
      const dir = yield* storeDir
      yield* requireStore(dir)
      yield* task(async () => {
        if (from < 0) throw new RangeError(`--from must be >= 0, got ${from}.`)
        // Imported when the command runs, not at start: a CLI start loads only what the chosen command needs (issue 11).
        const { FsEventLog } = await import("@runledger/store-fs")
        const log = await FsEventLog.open({ dir })
        // readAll gives the events after a position: --from N starts with event N itself.
        let position = Math.max(0, from - 1)
        const print = (e: RecordedEvent) =>
          json ? outExact(toJson(e, 0)) : out(`${String(e.position).padStart(6)}  ${formatTime(e.at)}  ${e.stream.padEnd(36)}  v${String(e.version).padEnd(4)} ${e.type.padEnd(17)} ${safe(summary(e))}`)
        try {
          for (;;) {
            for await (const batch of log.readAll(position)) {
              for (const e of batch) print(e)
              position = batch[batch.length - 1].position
            }
            if (!follow) break
            await new Promise((r) => setTimeout(r, 250))
          }
        } finally {
          await log.close()
        }
      })
    })
).pipe(Command.withDescription("Print the raw event log, oldest first; --follow keeps watching it"))
