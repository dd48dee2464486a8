/**
 * Read-only SQL as NDJSON, and the runs exported as a file, both streamed.
 *
 * `sql`: the first line is `{"columns": [...]}`, then one JSON array per row, as DuckDB produces
 * them (the runtime's sqlStream: bounded memory, the client's pace). A refusal before the first
 * line (a write, a syntax error, a timeout) is the usual JSON error; one after it (the timeout
 * mid-way) is a last line `{"error": {...}}`, since the status is already sent. Numbers JSON cannot
 * hold are the strings "NaN", "Infinity", "-Infinity", "-0", as everywhere in this API.
 *
 * `export`: the runtime writes the file to a path, so it goes to a private temp directory, is
 * streamed from there, and the directory is removed once the response ends (or is abandoned).
 */
import { createReadStream } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { errorResponse, route } from "./route.ts"
import { ExportBody, SqlBody } from "./schemas.ts"

/** JSON with the non-finite numbers and -0 as their strings. */
export const apiJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    typeof v !== "number" || (Number.isFinite(v) && !Object.is(v, -0)) ? v : Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : "-0"
  )

export const NDJSON = "application/x-ndjson"

export const CONTENT_TYPE_OF_FORMAT = {
  parquet: "application/vnd.apache.parquet",
  arrow: "application/vnd.apache.arrow.file",
  csv: "text/csv; charset=utf-8"
} as const

export const SQL_ROUTES = [
  route({
    method: "POST",
    path: "/api/runledger/sql",
    summary: "One read-only SELECT over the read model (experiments, runs, params, tags, metrics, latest_metrics, artifacts, models), streamed as NDJSON.",
    body: SqlBody,
    response: { contentType: NDJSON, description: "First line {\"columns\": [...]}, then one JSON array per row; a failure after the first line is a last line {\"error\": {...}}." },
    handle: async ({ body }, { tracker }) => {
      const encoder = new TextEncoder()
      let controller!: ReadableStreamDefaultController<Uint8Array>
      let resume: (() => void) | undefined
      let cancelled = false
      const stream = new ReadableStream<Uint8Array>({
        start: (c) => void (controller = c),
        pull: () => resume?.(),
        cancel: () => {
          cancelled = true
          resume?.()
        }
      })
      let started = false
      let begun: () => void = () => {}
      const first = new Promise<void>((r) => (begun = r))
      const header = (columns: ReadonlyArray<string>) => {
        if (started) return
        started = true
        controller.enqueue(encoder.encode(`${apiJson({ columns })}\n`))
        begun()
      }
      const done = tracker
        .sqlStream(body.query, body.params ?? [], body.timeoutMs !== undefined ? { timeoutMs: body.timeoutMs } : {}, async (rows, columns) => {
          header(columns)
          if (cancelled) return false
          let text = ""
          for (const row of rows) text += `${apiJson(columns.map((c) => row[c]))}\n`
          controller.enqueue(encoder.encode(text))
          // The client reads slower than DuckDB produces: wait for it (or for it to go away).
          while (!cancelled && (controller.desiredSize ?? 0) <= 0) await new Promise<void>((r) => (resume = r))
          return !cancelled
        })
        .then(
          (r) => {
            header(r.columns)
            if (!cancelled) controller.close()
          },
          (e: unknown) => {
            if (!started) throw e
            if (!cancelled) {
              controller.enqueue(encoder.encode(`${apiJson(errorResponse(e)[1])}\n`))
              controller.close()
            }
          }
        )
      // A refusal before any output is an ordinary error response.
      await Promise.race([first, done])
      return new Response(stream, { headers: { "content-type": NDJSON } })
    }
  }),
  route({
    method: "POST",
    path: "/api/runledger/export",
    summary: "The selected runs as one wide table (attributes, params.*, metrics.*, tags.*) in Parquet, Arrow IPC or CSV, streamed.",
    body: ExportBody,
    response: { contentType: "application/octet-stream", description: "The file: application/vnd.apache.parquet, application/vnd.apache.arrow.file or text/csv; the headers x-runledger-rows and x-runledger-columns give its size." },
    handle: async ({ body }, { tracker }) => {
      const dir = await mkdtemp(join(tmpdir(), "runledger-export-"))
      const cleanup = () => rm(dir, { recursive: true, force: true })
      try {
        const file = join(dir, `runs.${body.format}`)
        const written = await tracker.exportRuns({ ...body, out: file })
        const size = (await stat(file)).size
        const source = createReadStream(file)
        // Whether the response ends, fails or is abandoned, the file goes.
        source.once("close", () => void cleanup())
        return new Response(Readable.toWeb(source) as ReadableStream<Uint8Array>, {
          headers: { "content-type": CONTENT_TYPE_OF_FORMAT[body.format], "content-length": String(size), "content-disposition": `attachment; filename="runs.${body.format}"`, "x-runledger-rows": String(written.rows), "x-runledger-columns": String(written.columns) }
        })
      } catch (e) {
        await cleanup()
        throw e
      }
    }
  })
]
