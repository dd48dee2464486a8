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

type Row = Record<string, unknown>

export const compareSql = (runIds: ReadonlyArray<string>) => {
  const params = new SqlParams()
  const ids = runIds.map((id) => params.bind(id)).join(", ")
  const widest = metricBlocks(BLOCK_LEVELS[BLOCK_LEVELS.length - 1]).name
  return {
    runs: { sql: `SELECT run_id, run_name, experiment_id, status FROM runs WHERE run_id IN (${ids})`, params: params.values },
    params: { sql: `SELECT run_id, key, value FROM params WHERE run_id IN (${ids}) ORDER BY key`, params: params.values },
    // A summarised series' count, min and max come from its widest summaries (a row or two; they
    // hold its effective points, NaN left out of min and max, as history.ts reads them). The others
    // (`summarised` false) are read from their points by `unsummarisedSql`, apart: read in this
    // statement, behind a join on the series, they cost a scan of every point in the store
    // (100 ms on 10M points even when no series needed it); over every point, seconds.
    metrics: {
      sql: `WITH s AS (SELECT series_id, run_id, key FROM metric_series WHERE run_id IN (${ids})),
summarised AS (SELECT series_id, sum(n)::BIGINT AS points, min(min) AS min, max(max) AS max FROM ${widest} WHERE series_id IN (SELECT series_id FROM s) GROUP BY series_id)
SELECT l.run_id, l.key, l.value AS last, l.step, s.series_id, c.series_id IS NOT NULL AS summarised, c.min, c.max, coalesce(c.points, 0) AS points
FROM latest_metrics l JOIN s ON s.run_id = l.run_id AND s.key = l.key LEFT JOIN summarised c ON c.series_id = s.series_id
WHERE l.run_id IN (${ids}) ORDER BY l.key`,
      params: params.values
    }
  }
}

/**
 * Count, min and max of series with no summaries yet (short ones), from their points. The ids are
 * the read model's own whole numbers, written into the SQL so that DuckDB can skip the row groups
 * that hold none of them.
 */
export const unsummarisedSql = (seriesIds: ReadonlyArray<number>) => {
  for (const id of seriesIds) if (!Number.isSafeInteger(id)) throw new RangeError(`A series id is a whole number, got ${id}.`)
  const value = signedZeroSql("value", "negative_zero")
  return {
    sql: `SELECT series_id, count(*)::BIGINT AS points, min(${value}) FILTER (WHERE NOT isnan(value)) AS min, max(${value}) FILTER (WHERE NOT isnan(value)) AS max
FROM metric_points WHERE series_id IN (${seriesIds.join(", ")}) AND NOT superseded GROUP BY series_id`,
    params: []
  }
}

/** The metric rows of `compareSql`, each unsummarised one given its count, min and max from `unsummarised` (rows of `unsummarisedSql`). */
export const withUnsummarised = (metrics: ReadonlyArray<Row>, unsummarised: ReadonlyArray<Row>): Row[] => {
  const bySeries = new Map(unsummarised.map((u) => [u.series_id as number, u]))
  return metrics.map((m) => {
    if (m.summarised) return m
    const u = bySeries.get(m.series_id as number)
    return { ...m, min: u?.min ?? null, max: u?.max ?? null, points: u?.points ?? 0 }
  })
}


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
