/**
 * runledger's native API (`/api/runledger/*`) and its OpenAPI document: every route module's list,
 * mounted on the server's app. A route module added here is served and documented.
 */
import type { HttpBindings } from "@hono/node-server"
import { existsSync, readFileSync } from "node:fs"
import type { Hono } from "hono"
import { ARTIFACT_ROUTES } from "./artifacts.ts"
import { EXPERIMENT_ROUTES } from "./experiments.ts"
import { METRIC_ROUTES } from "./metrics.ts"
import { openApiRoute } from "./openapi.ts"
import { REGISTRY_ROUTES } from "./registry.ts"
import { type AnyRoute, type MountOptions, mountRoutes, type NativeContext } from "./route.ts"
import { RUN_ROUTES } from "./runs.ts"
import { SQL_ROUTES } from "./sql.ts"

/**
 * Every native route (the document's own route is added by `mountNative`). Order matters where
 * paths overlap: `runs/search` and friends before `runs/{runId}` (they are POSTs, it is a GET).
 */
export const NATIVE_ROUTES: ReadonlyArray<AnyRoute> = [...EXPERIMENT_ROUTES, ...RUN_ROUTES, ...METRIC_ROUTES, ...REGISTRY_ROUTES, ...ARTIFACT_ROUTES, ...SQL_ROUTES]

// The package this code ships in: the server's own (src/native/ → ../../), or, bundled into the
// published CLI (dist/chunk-*.js), the CLI's (dist/ → ../), which carries the same version.
const VERSION = (JSON.parse(readFileSync([new URL("../../package.json", import.meta.url), new URL("../package.json", import.meta.url)].find((u) => existsSync(u))!, "utf8")) as { readonly version: string }).version

/** Mount `routes` (default: all of them) and `GET /api/openapi.json` describing them. */
export const mountNative = (app: Hono<{ Bindings: HttpBindings }>, ctx: NativeContext, options: MountOptions = {}, routes: ReadonlyArray<AnyRoute> = NATIVE_ROUTES): void => {
  mountRoutes(app, [...routes, openApiRoute(() => routes, VERSION)], ctx, options)
}
