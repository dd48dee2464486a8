/**
 * @runledger/server: the tracking server. One process owns one store and serves MLflow's REST API
 * 2.0 over it, so an MLflow training script logs to runledger by setting MLFLOW_TRACKING_URI.
 *
 *     import { startServer } from "@runledger/server"
 *     const server = await startServer({ dir: "runledger", port: 5000 })
 *     console.log(server.url)          // http://127.0.0.1:5000
 *     await server.close()             // drains in-flight requests, flushes, closes the store
 */
export { DEFAULT_MAX_BODY, DEFAULT_PORT, type RunningServer, type ServerOptions, startServer } from "./server.ts"
export { MlflowError, STATUS as MLFLOW_STATUS } from "./mlflow/errors.ts"
/** The native API's request and answer Schemas, as types: the web UI reads them (their `.Encoded` is the wire JSON). */
export type * as Api from "./native/schemas.ts"
