/** Experiments, each with its run count and last activity (the UI's list); time travel with asOf. */
import { ExperimentsResponse, ViewType } from "@runledger/runtime"
import { Schema } from "effect"
import { route } from "./route.ts"
import { readOptions } from "./runs.ts"
import { AsOfText } from "./schemas.ts"

export const EXPERIMENT_ROUTES = [
  route({
    method: "GET",
    path: "/api/runledger/experiments",
    summary: "Experiments (active by default), each with runCount and lastActivity (epoch ms of its runs' newest event).",
    query: Schema.Struct({ viewType: Schema.optionalKey(ViewType), asOf: Schema.optionalKey(AsOfText) }),
    response: ExperimentsResponse,
    handle: async ({ query }, { tracker }) => ({
      experiments: await tracker.listExperimentSummaries({ ...readOptions(query.asOf), ...(query.viewType ? { viewType: query.viewType } : {}) })
    })
  })
]
