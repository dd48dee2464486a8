/**
 * runledger's views as MLflow's entities (Experiment, Run, RunInfo, Metric, FileInfo) in MLflow's
 * JSON. Artifact URIs use MLflow's proxy scheme, `mlflow-artifacts:/<experiment>/<run>/artifacts`,
 * so MLflow's client uploads and downloads through this server's
 * `/api/2.0/mlflow-artifacts/artifacts/...`.
 */
import type { ExperimentView, MetricPoint, RunView } from "@runledger/runtime"
import { double } from "./json.ts"

const pairs = (record: Readonly<Record<string, unknown>>) => Object.entries(record).map(([key, value]) => ({ key, value: String(value) }))

export const experimentArtifactLocation = (experimentId: string): string => `mlflow-artifacts:/${experimentId}`

export const experimentJson = (e: ExperimentView) => ({
  experiment_id: e.id,
  name: e.name,
  artifact_location: experimentArtifactLocation(e.id),
  lifecycle_stage: e.lifecycle,
  creation_time: e.createdAt,
  last_update_time: e.createdAt,
  tags: pairs(e.tags)
})

export const runArtifactUri = (experimentId: string, runId: string): string => `mlflow-artifacts:/${experimentId}/${runId}/artifacts`

export const runInfoJson = (r: RunView) => ({
  run_id: r.id,
  run_uuid: r.id,
  run_name: r.name,
  experiment_id: r.experimentId,
  user_id: r.tags["mlflow.user"] ?? r.environment.user ?? "",
  status: r.status,
  start_time: r.startTime,
  ...(r.endTime !== null ? { end_time: r.endTime } : {}),
  artifact_uri: runArtifactUri(r.experimentId, r.id),
  lifecycle_stage: r.lifecycle
})

export const runJson = (r: RunView) => ({
  info: runInfoJson(r),
  data: {
    metrics: Object.entries(r.metrics).map(([key, value]) => ({
      key,
      value: double(value),
      timestamp: r.metricSteps[key]?.timestamp ?? 0,
      step: r.metricSteps[key]?.step ?? 0
    })),
    params: pairs(r.params),
    tags: pairs(r.tags)
  },
  // Protobuf JSON leaves an empty repeated field out, as MLflow's server does.
  inputs: r.inputs.length > 0 ? { dataset_inputs: r.inputs.map(datasetInputJson) } : {}
})

/** A run input as MLflow's DatasetInput: its tags, and the dataset (schema and profile only when logged). */
export const datasetInputJson = (i: RunView["inputs"][number]) => ({
  tags: pairs(i.tags),
  dataset: {
    name: i.name,
    digest: i.digest,
    source_type: i.sourceType,
    source: i.source,
    ...(i.schema !== undefined ? { schema: i.schema } : {}),
    ...(i.profile !== undefined ? { profile: i.profile } : {})
  }
})

export const metricJson = (key: string, p: MetricPoint) => ({ key, value: double(p.value), timestamp: p.timestamp, step: p.step })
