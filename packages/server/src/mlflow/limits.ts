/**
 * MLflow's own limits, with MLflow's messages (mlflow/utils/validation.py), checked before anything
 * reaches the tracker so a refused request appends nothing. The tracker enforces the same lengths
 * with its own words; these give an MLflow client the answer it knows.
 */
import { invalidParameter } from "./errors.ts"
import { type Fields, keyValues } from "./json.ts"

export const MAX_METRICS_PER_BATCH = 1000
export const MAX_PARAMS_PER_BATCH = 100
export const MAX_TAGS_PER_BATCH = 100
export const MAX_ENTITIES_PER_BATCH = 1000
export const MAX_KEY_LENGTH = 250
export const MAX_PARAM_VALUE_LENGTH = 6000
export const MAX_TAG_VALUE_LENGTH = 8000

const batchLimit = (entity: string, limit: number, length: number): void => {
  if (length > limit) {
    throw invalidParameter(
      `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`
    )
  }
}

export const checkBatchSizes = (metrics: number, params: number, tags: number): void => {
  batchLimit("metrics", MAX_METRICS_PER_BATCH, metrics)
  batchLimit("params", MAX_PARAMS_PER_BATCH, params)
  batchLimit("tags", MAX_TAGS_PER_BATCH, tags)
  const total = metrics + params + tags
  if (total > MAX_ENTITIES_PER_BATCH) {
    throw invalidParameter(
      `A batch logging request can contain at most ${MAX_ENTITIES_PER_BATCH} metrics, params, and tags in total. Received ${metrics} metrics, ${params} params, and ${tags} tags. Please split up the request across multiple requests and try again.`
    )
  }
}

const lengthLimit = (entity: string, limit: number, value: string): void => {
  if (value.length > limit) throw invalidParameter(`${entity} '${value.slice(0, 250)}' had length ${value.length}, which exceeded length limit of ${limit}`)
}

export const checkMetricKey = (key: string): void => lengthLimit("Metric name", MAX_KEY_LENGTH, key)
export const checkParam = (key: string, value: string): void => {
  lengthLimit("Param key", MAX_KEY_LENGTH, key)
  lengthLimit("Param value", MAX_PARAM_VALUE_LENGTH, value)
}
export const checkTag = (key: string, value: string): void => {
  lengthLimit("Tag key", MAX_KEY_LENGTH, key)
  lengthLimit("Tag value", MAX_TAG_VALUE_LENGTH, value)
}

/** A request's list of tags (`name`) as a record, each within MLflow's limits; a key given twice keeps its last value. */
export const tagsOf = (f: Fields, name: string): Record<string, string> => {
  const tags: Record<string, string> = {}
  for (const [key, value] of keyValues(f, name)) {
    checkTag(key, value)
    tags[key] = value
  }
  return tags
}
