/**
 * The in-memory shape a filter predicate and an order_by comparator look at, and how a
 * target's value is read from it. Mirrors the SQL read model (runs, params, tags, latest_metrics).
 */
import type { NumericTarget, StringTarget, Target } from "./filter/ast.ts"

export interface RunView {
  readonly id: string
  readonly experimentId: string
  readonly name: string
  readonly status: string
  /** Epoch milliseconds. */
  readonly startTime: number
  /** Epoch milliseconds; null while the run has not ended. */
  readonly endTime: number | null
  /** Compared as `String(value)`, like the VARCHAR `params.value` column. */
  readonly params: Readonly<Record<string, string | number | boolean>>
  readonly tags: Readonly<Record<string, string>>
  /** Latest value of each metric. */
  readonly metrics: Readonly<Record<string, number>>
}

const own = <V>(record: Readonly<Record<string, V>>, key: string): V | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined

/** A numeric target's value, or undefined when the run does not have it (SQL NULL). */
export function valueOf(run: RunView, target: NumericTarget): number | undefined
/** A string target's value, or undefined when the run does not have it (SQL NULL). */
export function valueOf(run: RunView, target: StringTarget): string | undefined
export function valueOf(run: RunView, target: Target): number | string | undefined
export function valueOf(run: RunView, target: Target): number | string | undefined {
  switch (target._tag) {
    case "Metric":
      return own(run.metrics, target.key)
    case "Param": {
      const v = own(run.params, target.key)
      return v === undefined ? undefined : String(v)
    }
    case "Tag":
      return own(run.tags, target.key)
    case "Attribute":
      switch (target.key) {
        case "run_id":
          return run.id
        case "run_name":
          return run.name ?? undefined
        case "status":
          return run.status ?? undefined
        case "experiment_id":
          return run.experimentId ?? undefined
        case "start_time":
          return run.startTime ?? undefined
        case "end_time":
          return run.endTime ?? undefined
      }
  }
}
