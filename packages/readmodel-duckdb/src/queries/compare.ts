/**
 * compareRuns: params side by side (the ones that differ marked) and each metric's last, min and
 * max per run.
 */
import { SqlParams } from "@runledger/search-syntax"

export interface MetricSummary {
  readonly last: number
  readonly step: number
  readonly min: number | null
  readonly max: number | null
  readonly points: number
}

export interface RunComparison {
  readonly runs: ReadonlyArray<{ readonly runId: string; readonly runName: string; readonly experimentId: string; readonly status: string }>
  /** Every param any of the runs has; `values[i]` is run i's (null when it has none). */
  readonly params: ReadonlyArray<{ readonly key: string; readonly values: ReadonlyArray<string | null>; readonly differs: boolean }>
  readonly metrics: ReadonlyArray<{ readonly key: string; readonly values: ReadonlyArray<MetricSummary | null> }>
}

export const compareSql = (runIds: ReadonlyArray<string>) => {
  const params = new SqlParams()
  const ids = runIds.map((id) => params.bind(id)).join(", ")
  return {
    runs: { sql: `SELECT run_id, run_name, experiment_id, status FROM runs WHERE run_id IN (${ids})`, params: params.values },
    params: { sql: `SELECT run_id, key, value FROM params WHERE run_id IN (${ids}) ORDER BY key`, params: params.values },
    metrics: {
      sql: `SELECT l.run_id, l.key, l.value AS last, l.step,
  (SELECT min(m.value) FROM metrics m WHERE m.run_id = l.run_id AND m.key = l.key AND NOT m.superseded AND NOT isnan(m.value)) AS min,
  (SELECT max(m.value) FROM metrics m WHERE m.run_id = l.run_id AND m.key = l.key AND NOT m.superseded AND NOT isnan(m.value)) AS max,
  (SELECT count(*) FROM metrics m WHERE m.run_id = l.run_id AND m.key = l.key AND NOT m.superseded) AS points
FROM latest_metrics l WHERE l.run_id IN (${ids}) ORDER BY l.key`,
      params: params.values
    }
  }
}

type Row = Record<string, unknown>

export const assembleComparison = (runIds: ReadonlyArray<string>, runs: ReadonlyArray<Row>, params: ReadonlyArray<Row>, metrics: ReadonlyArray<Row>): RunComparison => {
  const byId = new Map(runs.map((r) => [r.run_id as string, r]))
  const missing = runIds.filter((id) => !byId.has(id))
  if (missing.length > 0) throw new RangeError(`No run with id ${missing.join(", ")} in the read model.`)
  // A run may be named twice (compared with itself): every column it stands in gets its values.
  const columnsOf = (id: string): number[] => runIds.flatMap((r, i) => (r === id ? [i] : []))
  const paramRows = new Map<string, Array<string | null>>()
  for (const p of params) {
    const row = paramRows.get(p.key as string) ?? runIds.map(() => null)
    for (const i of columnsOf(p.run_id as string)) row[i] = p.value as string
    paramRows.set(p.key as string, row)
  }
  const metricRows = new Map<string, Array<MetricSummary | null>>()
  for (const m of metrics) {
    const row = metricRows.get(m.key as string) ?? runIds.map(() => null)
    for (const i of columnsOf(m.run_id as string)) {
      row[i] = { last: m.last as number, step: m.step as number, min: (m.min as number | null) ?? null, max: (m.max as number | null) ?? null, points: m.points as number }
    }
    metricRows.set(m.key as string, row)
  }
  return {
    runs: runIds.map((id) => {
      const r = byId.get(id)!
      return { runId: id, runName: r.run_name as string, experimentId: r.experiment_id as string, status: r.status as string }
    }),
    params: [...paramRows].map(([key, values]) => ({ key, values, differs: new Set(values).size > 1 })),
    metrics: [...metricRows].map(([key, values]) => ({ key, values }))
  }
}
