/** A metric's whole history, and downsampled histories of many runs (the charts; re-asked on zoom). */
import { HISTORIES_F64, HistoriesResponse, historiesF64, historiesJson, historyColumns, MetricHistoryResponse } from "@runledger/runtime"
import { route } from "./route.ts"
import { AsOfQuery, readOptions } from "./runs.ts"
import { HistoriesBody } from "./schemas.ts"

export const METRIC_ROUTES = [
  route({
    method: "GET",
    // A key may hold slashes (train/loss): the rest of the path is the key.
    path: "/api/runledger/runs/{runId}/metrics/{key+}",
    summary: "A metric's whole history of one run, oldest step first.",
    query: AsOfQuery,
    response: MetricHistoryResponse,
    handle: async ({ params, query }, { tracker }) => ({ points: await tracker.metricHistory(params.runId, params.key, readOptions(query.asOf)) })
  }),
  route({
    method: "POST",
    path: "/api/runledger/metrics/histories",
    summary: "A metric's history of up to 100 runs, downsampled to at most maxPoints buckets each, optionally of steps startStep..endStep, of the columns named in fields, and as it was at asOf.",
    body: HistoriesBody,
    response: HistoriesResponse,
    // Columns, written in one pass: 100 runs of 1,500 buckets took a second through the Schema.
    encode: historiesJson,
    // The same columns as doubles, for the web UI's charts: JSON's decimals cost more to write and
    // parse than the query takes (histories-f64.ts).
    alternatives: [
      {
        contentType: HISTORIES_F64,
        description:
          "the same columns as little-endian doubles (NaN, ±Infinity and -0 as themselves): a uint32 LE header length H; H bytes of UTF-8 JSON `{ fields, series: [{ runId, key, points, length }] }`; zero bytes to a multiple of 8 from the start; then for each series, for each field in `fields`' order, `length` float64 LE values.",
        encode: historiesF64
      }
    ],
    handle: async ({ body }, { tracker }) => {
      const { runIds, key, fields, asOf, ...range } = body
      const options = { ...range, ...readOptions(asOf) }
      // The fields asked for are all the read model computes (a chart's zoom: three of eight).
      return { series: (await tracker.downsampledHistoryColumns(runIds, key, fields === undefined ? options : { ...options, fields })).map((c) => historyColumns(c, fields)) }
    }
  })
]
