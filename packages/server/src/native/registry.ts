/** The model registry's reads, and its rename; its other writes are MLflow's endpoints (transition-stage, aliases). */
import { ModelResponse, ModelsResponse, ModelVersionsResponse, RenameModelBody } from "@runledger/runtime"
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
  }),
  route({
    method: "POST",
    path: "/api/runledger/models/{name}/rename",
    summary: "Rename a registered model: its versions, stages, aliases and tags go with it; the old name is free (400 when the new name is taken or invalid, 404 for an unknown model).",
    body: RenameModelBody,
    response: ModelResponse,
    handle: async ({ params, body }, { tracker }) => ({ model: await tracker.renameModel(params.name, body.newName) })
  })
]
