/**
 * The remote client's Tracker (`openTracker({ uri: "http://host:port" })`): the tracker itself
 * runs here over the server's store (@runledger/store-http), so every write and read of the
 * Promise and Effect APIs is the same code as over a directory. Analytics need the server's read
 * model: they are the server's analytics routes.
 */
import type { TrackerClient } from "@runledger/tracker"
import { downloadArtifacts } from "../download.ts"
import type { Tracker } from "../open.ts"
import type { OpenedStore } from "../store.ts"
import { remoteAnalytics } from "./analytics.ts"
import { errorOf, jsonRequest, streamRequest } from "./http.ts"

export const remoteTracker = (client: TrackerClient, store: OpenedStore, unfollow: () => void, token: string | undefined): Tracker => {
  const url = store.location.kind === "http" ? store.location.url : store.location.uri
  const server = { url, ...(token !== undefined ? { token } : {}) }
  const close = client.close.bind(client)
  return Object.assign(client, remoteAnalytics(jsonRequest(server), streamRequest(server), { toError: errorOf }), {
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
