/**
 * `runledger anchor`: note the log's head (its event count and the chain after its last record)
 * somewhere outside the store. The hash chain catches changes before the last record; only a head
 * kept elsewhere catches records removed from the end, or a rewritten end. `verify --anchors FILE`
 * (or --expect-head/--expect-count) checks the log still extends every noted head.
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { appendFile } from "node:fs/promises"
import { resolve } from "node:path"
import { out, requireStore, task } from "./common.ts"
import { storeDir } from "./root.ts"

export const anchor = Command.make(
  "anchor",
  {
    out: Flag.String("out").pipe(
      Flag.withAlias("o"),
      Flag.withDescription("Append the head to this file (keep it outside the store, e.g. on another machine); it is printed either way"),
      Flag.optional
    )
  },
  ({ out: file }) =>
    Effect.gen(function*() {
      const dir = yield* storeDir
      yield* requireStore(dir)
      const line = yield* task(async () => {
        // Read-only: noting the head changes nothing in the store.
        // Imported when the command runs, not at start: a CLI start loads only what the chosen command needs (issue 11).
        const { FsEventLog, formatAnchor } = await import("@runledger/store-fs")
        const log = await FsEventLog.open({ dir })
        try {
          return formatAnchor({ count: await log.head(), chain: await log.headChain() }, new Date())
        } finally {
          await log.close()
        }
      })
      if (Option.isSome(file)) yield* task(() => appendFile(resolve(file.value), `${line}\n`, { flush: true }))
      out(line)
    })
).pipe(Command.withDescription("Print the log's head (event count and chain) and append it to --out FILE: `verify --anchors FILE` then catches records removed from the end"))
