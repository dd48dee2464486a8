/**
 * Which runs a query looks at: some experiments (or all), and active, deleted or all runs. A run
 * counts as deleted when it or its experiment is. Compiled to a WHERE fragment over `runs r`
 * joined to `experiments e`, with every id bound as a parameter.
 */
import { SqlParams } from "@runledger/search-syntax"

export type ViewType = "active" | "deleted" | "all"

export interface RunScope {
  /** Experiment ids; absent or empty: every experiment. */
  readonly experimentIds?: ReadonlyArray<string>
  readonly viewType?: ViewType
}

export const SCOPED_FROM = "runs r JOIN experiments e ON e.experiment_id = r.experiment_id"

export const scopeToSql = (scope: RunScope, params: SqlParams): string => {
  const parts: string[] = []
  const ids = scope.experimentIds ?? []
  if (ids.length > 0) parts.push(`r.experiment_id IN (${ids.map((id) => params.bind(id)).join(", ")})`)
  const live = "(r.lifecycle = 'active' AND e.lifecycle = 'active')"
  const view = scope.viewType ?? "active"
  if (view === "active") parts.push(live)
  else if (view === "deleted") parts.push(`NOT ${live}`)
  return parts.length === 0 ? "TRUE" : parts.join(" AND ")
}

/** What page tokens fingerprint besides filter and order: the scope. */
export const scopeKey = (scope: RunScope): string => `${[...(scope.experimentIds ?? [])].sort().join(",")}|${scope.viewType ?? "active"}`
