/**
 * The histories' binary answer (`POST /api/runledger/metrics/histories` with
 * `Accept: application/vnd.runledger.histories.f64le`): the same columns as the JSON answer
 * (`HistoriesResponse`), each a run of little-endian doubles. A compare chart of 100 runs is 40k to
 * 240k buckets: as JSON that is 5 to 17 MB of full-precision decimals to write and to parse again,
 * which took longer than the query (bench/server.ts); as doubles the server copies them out and the
 * browser reads them in place (a Float64Array over the body), and NaN, ±Infinity and -0 need no
 * strings. Apache Arrow's IPC stream would carry the same, but its reader adds about 37 kB gzipped to
 * the web UI's 43 kB; this layout needs the few lines below.
 *
 * Layout (the README's native API table and the OpenAPI document describe it too):
 *   - a uint32 (little-endian): the byte length H of the header;
 *   - H bytes of UTF-8 JSON: `{ "fields": [...], "series": [{ "runId", "key", "points", "length" }] }`
 *     (`fields`: the columns sent, `step` first; the request's `fields` may leave some out);
 *   - zero bytes up to the next multiple of 8 from the body's start (the doubles are aligned);
 *   - for each series in order, for each field in `fields`' order, `length` float64 LE values.
 *
 * No imports: the web UI bundles this module (`@runledger/runtime/histories-f64`) and nothing else
 * of the runtime.
 */

export const HISTORIES_F64 = "application/vnd.runledger.histories.f64le"

/** The columns of one run's buckets, in the order the binary answer writes them. */
export const HISTORY_FIELDS = ["step", "firstStep", "first", "last", "min", "max", "count", "timestamp"] as const
export type HistoryField = (typeof HISTORY_FIELDS)[number]

/**
 * One run's columns as the binary answer carries them: `HistoryColumns` with doubles; `F`, the
 * fields the reader required (`historiesOfF64`), are there for sure.
 */
export type HistoryColumnsF64<F extends HistoryField = "step"> = { readonly runId: string; readonly key: string; readonly points: number } & {
  readonly [K in HistoryField]?: Float64Array
} & { readonly [K in F | "step"]: Float64Array }

/** What the encoder takes: `HistoryColumns` (any array-like of numbers per field; `step` and the fields asked for). */
export type HistoryColumnsLike = { readonly runId: string; readonly key: string; readonly points: number; readonly step: ArrayLike<number> } & {
  readonly [F in HistoryField]?: ArrayLike<number>
}

interface Header {
  readonly fields: ReadonlyArray<string>
  readonly series: ReadonlyArray<{ readonly runId: string; readonly key: string; readonly points: number; readonly length: number }>
}

/** Whether this machine stores doubles little-endian: then the body is copied (or viewed) as it is. */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f

/** The histories as the binary answer's bytes. */
export const historiesF64 = (out: { readonly series: ReadonlyArray<HistoryColumnsLike> }): Uint8Array => {
  // The columns every series has (one request named them for all); one series with a column the
  // others lack would be dropped silently: refused.
  const fields = HISTORY_FIELDS.filter((f) => f === "step" || out.series.some((s) => s[f] !== undefined))
  for (const s of out.series) {
    const lacking = fields.find((f) => s[f] === undefined)
    if (lacking !== undefined) throw new RangeError(`The history of run ${s.runId} lacks the column ${lacking} the others have.`)
  }
  const header: Header = { fields, series: out.series.map((s) => ({ runId: s.runId, key: s.key, points: s.points, length: s.step.length })) }
  const head = new TextEncoder().encode(JSON.stringify(header))
  const start = Math.ceil((4 + head.length) / 8) * 8
  let values = 0
  for (const s of out.series) {
    for (const f of fields) {
      // Columns of unequal length would shift every later value: refused, never sent.
      const n = s[f]!.length
      if (n !== s.step.length) throw new RangeError(`The history of run ${s.runId} has ${n} ${f} values for ${s.step.length} steps.`)
    }
    values += s.step.length * fields.length
  }
  const bytes = new Uint8Array(start + values * 8)
  new DataView(bytes.buffer).setUint32(0, head.length, true)
  bytes.set(head, 4)
  const doubles = new Float64Array(bytes.buffer, start, values)
  const view = new DataView(bytes.buffer, start)
  let at = 0
  for (const s of out.series) {
    for (const f of fields) {
      const col = s[f]!
      if (LITTLE_ENDIAN) doubles.set(col, at)
      else for (let i = 0; i < col.length; i++) view.setFloat64((at + i) * 8, col[i], true)
      at += col.length
    }
  }
  return bytes
}

const fail = (what: string): never => {
  throw new TypeError(`The histories' binary answer is malformed: ${what}. Ask again, or ask for JSON (Accept: application/json).`)
}

/**
 * The binary answer's bytes as columns: on a little-endian machine each column is a view of `body`,
 * not a copy. `required`: the fields the caller reads (those it asked for); an answer without one fails.
 */
export const historiesOfF64 = <F extends HistoryField = "step">(body: ArrayBuffer, required: ReadonlyArray<F> = []): { readonly series: ReadonlyArray<HistoryColumnsF64<F>> } => {
  if (body.byteLength < 4) fail(`${body.byteLength} bytes, fewer than its header's length`)
  const headLength = new DataView(body).getUint32(0, true)
  if (4 + headLength > body.byteLength) fail(`a header of ${headLength} bytes in a body of ${body.byteLength}`)
  let header: Header
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(body, 4, headLength))) as Header
  } catch (e) {
    return fail(`its header is not JSON (${(e as Error).message})`)
  }
  if (!Array.isArray(header.series) || !Array.isArray(header.fields)) return fail("its header has no series or fields")
  for (const f of ["step", ...required]) if (!header.fields.includes(f)) fail(`its header's fields lack ${f}`)
  const start = Math.ceil((4 + headLength) / 8) * 8
  let values = 0
  for (const s of header.series) values += s.length * header.fields.length
  if (start + values * 8 !== body.byteLength) fail(`${body.byteLength} bytes where its header says ${start + values * 8}`)
  let at = start
  const series = header.series.map((s) => {
    const cols: Partial<Record<string, Float64Array>> = {}
    for (const f of header.fields) {
      // A field this reader does not know (a newer server's) is skipped over, not misread.
      if (!(HISTORY_FIELDS as ReadonlyArray<string>).includes(f)) {
        at += s.length * 8
        continue
      }
      if (LITTLE_ENDIAN) cols[f] = new Float64Array(body, at, s.length)
      else {
        const view = new DataView(body, at, s.length * 8)
        cols[f] = Float64Array.from({ length: s.length }, (_, i) => view.getFloat64(i * 8, true))
      }
      at += s.length * 8
    }
    return { runId: s.runId, key: s.key, points: s.points, ...cols } as HistoryColumnsF64<F>
  })
  return { series }
}
