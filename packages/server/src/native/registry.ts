/** The model registry's reads; its writes are MLflow's endpoints (transition-stage, aliases). */
import { ModelsResponse, ModelVersionsResponse } from "@runledger/runtime"
import { route } from "./route.ts"
import { AsOfQuery, readOptions } from "./runs.ts"

export const REGISTRY_ROUTES = [
  route({
    method: "GET",
    path: "/api/runledger/models",
    summary: "Registered models, by name.",
    query: AsOfQuery,
    response: ModelsResponse,
    handle: async ({ query }, { tracker }) => ({ models: await tracker.listModels(readOptions(query.asOf)) })
  }),
  route({
    method: "GET",
    path: "/api/runledger/models/{name}/versions",
    summary: "A registered model's versions, oldest first.",
    query: AsOfQuery,
    response: ModelVersionsResponse,
    handle: async ({ params, query }, { tracker }) => ({ versions: await tracker.listModelVersions(params.name, readOptions(query.asOf)) })
  })
]
