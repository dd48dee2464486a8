/**
 * The `sync` command: push a spool directory (appends a remote client kept while its server was
 * unreachable) to a server by hand, like `wandb sync`, without duplicates: the server's append is
 * idempotent by event id. The logic is @runledger/store-http's `syncSpool`; this only reads flags
 * and prints its report.
 */
import { invalid, StorageError } from "@runledger/core"
import { Argument, Command, Flag } from "effect/cli"
import { Effect, Option } from "effect"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { out, outExact, task } from "./common.ts"
import { jsonFlag, serverUri } from "./root.ts"

export const sync = Command.make(
  "sync",
  {
    spool: Argument.String("SPOOL").pipe(Argument.withDescription("The spool directory (the remote client names it when it spools: ~/.runledger/spool/<host_port> by default)")),
    token: Flag.String("token").pipe(Flag.withDescription("The server's token (default: $RUNLEDGER_TOKEN)"), Flag.optional),
    json: jsonFlag
  },
  ({ spool, token, json }) =>
    Effect.gen(function*() {
      // The server is the global --uri (or $RUNLEDGER_TRACKING_URI).
      const url = yield* serverUri
      if (url === undefined) return yield* Effect.fail(invalid("uri", "runledger sync needs the server: --uri http://host:port (or RUNLEDGER_TRACKING_URI)."))
      const dir = resolve(spool)
      if (!existsSync(dir)) return yield* Effect.fail(invalid("spool", `No spool directory ${dir}.`))
      const secret = Option.getOrUndefined(token) ?? (process.env.RUNLEDGER_TOKEN || undefined)
      const { syncSpool } = yield* task(() => import("@runledger/store-http"))
      const report = yield* task(() => syncSpool(dir, { url, ...(secret !== undefined ? { token: secret } : {}) }))
      if (json) outExact(JSON.stringify({ spool: dir, uri: url, ...report }))
      else {
        out(`${report.sent} append(s) sent, ${report.alreadyPresent} already present on ${url}.`)
        for (const r of report.rejected) out(`refused: ${r.file}: ${r.reason} (kept in ${dir}/rejected/)`)
        if (report.remaining > 0) out(`${report.remaining} append(s) remain in ${dir}: ${report.stoppedBy ?? "the server became unreachable"}. Run this again when it is back.`)
      }
      if (report.remaining > 0) return yield* Effect.fail(new StorageError({ message: `${report.remaining} append(s) were not sent: ${report.stoppedBy ?? "the server is unreachable"}.` }))
      if (report.rejected.length > 0) return yield* Effect.fail(invalid("spool", `${report.rejected.length} spooled append(s) were refused by the server; see ${dir}/rejected/.`))
    })
).pipe(Command.withDescription("Push a remote client's spool (appends kept while the server was unreachable) to the server; idempotent, so nothing is duplicated"))
