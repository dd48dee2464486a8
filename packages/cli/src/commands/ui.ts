/**
 * The `ui` command: the same server as `server` (MLflow's REST API, runledger's own, and the web UI
 * at /), started over a local store and announced by the URL to open, as `mlflow ui` does.
 */
import { Command } from "effect/cli"
import { hostFlag, portFlag, serve, storeFlag } from "./server.ts"

export const ui = Command.make("ui", { store: storeFlag, host: hostFlag, port: portFlag }, ({ store, host, port }) =>
  serve({ store, host, port, token: undefined }, (url) => [`runledger's UI is at ${url}/ : open it in a browser (Ctrl-C stops it).`])
).pipe(Command.withDescription("Serve the web UI over a store (like `mlflow ui`): experiments, runs, charts, compare, the registry, time travel; prints the URL to open"))
