/**
 * The remote client's Tracker (`openTracker({ uri: "http://host:port" })`): the tracker itself
 * runs here over the server's store (@runledger/store-http), so every write and read of the
 * Promise and Effect APIs is the same code as over a directory. Analytics need the server's read
 * model: they are the server's analytics routes.
 */
import type { TrackerClient } from "@runledger/tracker"
import { InvalidInput } from "@runledger/core"
import { downloadArtifacts } from "../download.ts"
import type { Tracker } from "../open.ts"
import type { OpenedStore } from "../store.ts"

const ANALYTICS = ["searchRuns", "compareRuns", "rankRuns", "downsampledHistory", "downsampledHistories", "compareGroups", "sql", "sqlStream", "exportRuns", "rebuildReadModel", "catchUpReadModel"] as const

/** Analytics refused with a clear error, until the server's analytics routes are wired in. */
const refusedAnalytics = (url: string) =>
  Object.fromEntries(ANALYTICS.map((name) => [name, () =>
    Promise.reject(new InvalidInput({ field: "uri", message: `${name} needs the read model, which a remote client does not have: run it where the store is (runledger --dir DIR), or against ${url} when its server offers analytics.` }))]))

export const remoteTracker = (client: TrackerClient, store: OpenedStore, unfollow: () => void, _token: string | undefined): Tracker => {
  const url = store.location.kind === "http" ? store.location.url : store.location.uri
  const close = client.close.bind(client)
  return Object.assign(client, refusedAnalytics(url) as unknown as Pick<Tracker, (typeof ANALYTICS)[number]>, {
    store: { events: store.events, artifacts: store.artifacts },
    downloadArtifacts: (uri: string, dest: string) => downloadArtifacts(client, uri, dest),
    async close() {
      unfollow()
      try {
        await close()
      } finally {
        // A last push of what is spooled; what remains is reported on stderr (see @runledger/store-http).
        await store.close()
      }
    }
  })
}
