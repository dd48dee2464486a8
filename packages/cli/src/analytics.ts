/**
 * The analytics half of a directory store: the DuckDB read model in `<dir>/readmodel.duckdb`,
 * opened on the first question and caught up from the log before each one. DuckDB lets one
 * process hold a database file; when another process holds it (a sweep's worker asking too), this
 * one folds the log into a private in-memory read model instead and says so once.
 */
import { FsEventLog } from "@runledger/adapters-fs"
import { ReadModel } from "@runledger/adapters-duckdb"
import type { CatchUpOptions } from "@runledger/adapters-duckdb"
import { Analytics } from "@runledger/query"
import { join } from "node:path"

export const READ_MODEL_FILE = "readmodel.duckdb"

export interface AnalyticsHandle {
  readonly get: () => Promise<Analytics>
  readonly close: () => Promise<void>
}

export const lazyAnalytics = (dir: string, options: CatchUpOptions & { readonly onNotice?: (line: string) => void } = {}): AnalyticsHandle => {
  let opened: Promise<{ analytics: Analytics; log: FsEventLog; model: ReadModel }> | undefined
  const open = async () => {
    const log = await FsEventLog.open({ dir })
    let model: ReadModel
    try {
      model = await ReadModel.open({ file: join(dir, READ_MODEL_FILE) })
    } catch (e) {
      const reason = e instanceof Error ? e.message.split("\n")[0] : String(e)
      ;(options.onNotice ?? ((l: string) => process.stderr.write(`${l}\n`)))(
        `runledger: the read model ${join(dir, READ_MODEL_FILE)} is busy (${reason}); using a private in-memory one for this process.`
      )
      model = await ReadModel.open({ file: ":memory:" })
    }
    return { analytics: new Analytics(model, log, options), log, model }
  }
  return {
    get: async () => {
      opened ??= open()
      return (await opened).analytics
    },
    close: async () => {
      if (opened === undefined) return
      const { log, model } = await opened
      await model.close()
      await log.close()
    }
  }
}
