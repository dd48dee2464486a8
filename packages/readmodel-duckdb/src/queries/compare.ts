/**
 * compareRuns: params side by side (the ones that differ marked) and each metric's last, min and
 * max per run.
 */
import { SqlParams } from "@runledger/search-syntax"
import { BLOCK_LEVELS, metricBlocks, signedZeroSql } from "../schema.ts"

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
  const widest = metricBlocks(BLOCK_LEVELS[BLOCK_LEVELS.length - 1]).name
  return {
    runs: { sql: `SELECT run_id, run_name, experiment_id, status FROM runs WHERE run_id IN (${ids})`, params: params.values },
    params: { sql: `SELECT run_id, key, value FROM params WHERE run_id IN (${ids}) ORDER BY key`, params: params.values },
    // A summarised series' count, min and max come from its widest summaries (a row or two; they
    // hold its effective points, NaN left out of min and max, as history.ts reads them); only the
    // others are read from their points. Over every point, 100 runs of 100k steps took seconds.
    metrics: {
      sql: `WITH s AS (SELECT series_id, run_id, key FROM metric_series WHERE run_id IN (${ids})),
summarised AS (SELECT series_id, sum(n)::BIGINT AS points, min(min) AS min, max(max) AS max FROM ${widest} WHERE series_id IN (SELECT series_id FROM s) GROUP BY series_id),
counted AS (
  SELECT * FROM summarised
  UNION ALL
  SELECT series_id, count(*)::BIGINT, min(${signedZeroSql("value", "negative_zero")}) FILTER (WHERE NOT isnan(value)), max(${signedZeroSql("value", "negative_zero")}) FILTER (WHERE NOT isnan(value))
  FROM metric_points WHERE series_id IN (SELECT series_id FROM s) AND series_id NOT IN (SELECT series_id FROM summarised) AND NOT superseded GROUP BY series_id
)
SELECT l.run_id, l.key, l.value AS last, l.step, c.min, c.max, coalesce(c.points, 0) AS points
FROM latest_metrics l JOIN s ON s.run_id = l.run_id AND s.key = l.key LEFT JOIN counted c ON c.series_id = s.series_id
WHERE l.run_id IN (${ids}) ORDER BY l.key`,
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
